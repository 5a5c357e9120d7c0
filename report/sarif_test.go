package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/keysweep/keysweep/finding"
)

// testFindings are findings of several rules, one with AWS details, one
// at an awkward path, one from decoded text.
func testFindings() []finding.Finding {
	return []finding.Finding{
		{RuleID: "aws-access-key", Description: "AWS access key id with its secret access key", Secret: "9dr/Wq+XyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q",
			Commit: strings.Repeat("a", 40), Path: "deploy/prod.env", Line: 2, Column: 19, Author: "=HYPERLINK(\"x\")", Email: "a@example.com",
			Date: "2024-01-01T00:00:00Z", KeyID: "AKIA" + "ZR3VQ7WXK2MDTE6B", AccountID: ptr("656839605678"),
			Verification: &finding.Verification{Status: finding.StatusVerified, Account: "656839605678", ARN: "arn:aws:iam::656839605678:user/ci"}},
		{RuleID: "github-token", Description: "GitHub token", Secret: "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE",
			Path: "docs/a file #1 [draft].md", Line: 1, Column: 1},
		{RuleID: "github-token", Description: "GitHub token", Secret: "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD",
			Path: "k8s/secret.yaml", Line: 4, Column: 9, Decoded: "base64"},
	}
}

// sarifSchema returns the published SARIF 2.1.0 JSON schema, as shipped
// inside the go-sarif module (a test dependency).
func sarifSchema(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locate go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start, end := strings.Index(s, "`"), strings.LastIndex(s, "`")
	if start < 0 || end <= start || !strings.Contains(s[start:end], "sarif-schema-2.1.0.json") {
		t.Fatal("no SARIF 2.1.0 schema in go-sarif's source")
	}
	return s[start+1 : end]
}

func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, testFindings(), Options{Format: "sarif", NoRedact: true, Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(sarifSchema(t)), gojsonschema.NewBytesLoader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid() {
		for _, e := range res.Errors() {
			t.Errorf("schema: %s", e)
		}
	}
	// A SARIF library reads it back. (Its own Validate re-marshals its
	// structs, whose empty lists become null, and fails any log.)
	rep, err := sarif.FromBytes(buf.Bytes(), sarif.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	run := rep.Runs[0]
	if len(run.Tool.Driver.Rules) != 2 || len(run.Results) != 3 {
		t.Fatalf("%d rules, %d results; want one rule per rule id (2) and 3 results", len(run.Tool.Driver.Rules), len(run.Results))
	}
	for i, r := range run.Results {
		fp := r.PartialFingerprints["keysweep/v1"]
		if fp == "" || *r.RuleID != testFindings()[i].RuleID {
			t.Errorf("result %d: rule %v, fingerprint %q", i, *r.RuleID, fp)
		}
	}
	if uri := *run.Results[1].Locations[0].PhysicalLocation.ArtifactLocation.URI; uri != "docs/a%20file%20%231%20%5Bdraft%5D.md" {
		t.Errorf("uri = %q", uri)
	}
	// No secret, not even redacted, even with NoRedact.
	for _, f := range testFindings() {
		if strings.Contains(buf.String(), f.Secret) || strings.Contains(buf.String(), finding.Redact(f.Secret)) {
			t.Errorf("the SARIF log holds the secret of %s", f.RuleID)
		}
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, testFindings(), Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(rows[0]) != len(csvHeader) {
		t.Fatalf("%d rows of %d columns", len(rows), len(rows[0]))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	aws := rows[1]
	for k, want := range map[string]string{
		"secret": "9dr/*****", "account_id": "656839605678", "verification": "verified", "author": `'=HYPERLINK("x")`, "line": "2",
	} {
		if got := aws[col[k]]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if rows[3][col["decoded"]] != "base64" {
		t.Errorf("decoded = %q", rows[3][col["decoded"]])
	}
}

func ptr(s string) *string { return &s }
