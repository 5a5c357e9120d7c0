package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/internal/awstest"
	"github.com/keysweep/keysweep/internal/gittest"
)

// These tests set the process environment (the SDK reads it), so they do
// not run in parallel; Go runs them before the parallel ones.

const (
	ownAccount     = "111122223333"
	secondAccount  = "444455556666"
	foreignAccount = "999988887777"
	canaryAccount  = "052310077262"
	roleName       = "keysweep-remediator"
)

// awsEnv points the AWS SDK at the stand-in, with creds as the default
// credentials, and away from the machine's own AWS set-up.
func awsEnv(t *testing.T, endpoint string, creds awstest.Credentials) (auditLog string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           creds.KeyID,
		"AWS_SECRET_ACCESS_KEY":       creds.Secret,
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"XDG_STATE_HOME":              filepath.Join(dir, "state"),
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM",
		"AWS_DEFAULT_REGION", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return filepath.Join(dir, "state", "keysweep", "audit.jsonl")
}

// estate plants keys of every kind in the stand-in and in a repository.
type estate struct {
	s      *awstest.Server
	admin  awstest.Credentials
	leaks  map[string]awstest.Credentials
	repo   *gittest.Repo
	wrong  string // the wrong secret planted with leaks["wrong"]
	unseen string // a key id that AWS does not know
}

func newEstate(t *testing.T) *estate {
	t.Helper()
	s := awstest.New(t)
	e := &estate{s: s, admin: s.AddUserKey(ownAccount, "security-admin", true), leaks: map[string]awstest.Credentials{}}
	e.leaks["own"] = s.AddUserKey(ownAccount, "ci/deploy-bot", false)
	e.leaks["second"] = s.AddUserKey(secondAccount, "app", false)
	e.leaks["foreign"] = s.AddUserKey(foreignAccount, "someone", true)
	e.leaks["root"] = s.AddRootKey(ownAccount)
	e.leaks["session"] = s.AddSessionKey(ownAccount, "deployer", "build-42")
	e.leaks["inactive"] = s.AddUserKey(ownAccount, "former-intern", false)
	s.SetActive(e.leaks["inactive"].KeyID, false)
	e.leaks["throttled"] = s.AddUserKey(foreignAccount, "batch", false)
	s.Throttle(e.leaks["throttled"].KeyID, 2)
	e.leaks["canary"] = s.AddUserKey(canaryAccount, "canary", false)
	wrong := s.AddUserKey(secondAccount, "reporting", false)
	e.leaks["wrong"] = wrong
	e.wrong = strings.ToLower(wrong.Secret[:20]) + strings.ToUpper(wrong.Secret[20:])
	e.unseen = awstest.KeyID("AKIA", foreignAccount, 9999)
	s.AddRole(ownAccount, roleName, ownAccount)
	s.AddRole(secondAccount, roleName, ownAccount)
	s.AddRole(foreignAccount, roleName, ownAccount) // trusted, and still never used

	r := gittest.New(t)
	pair := func(c awstest.Credentials, secret string) string {
		out := "aws_access_key_id = " + c.KeyID + "\naws_secret_access_key = " + secret + "\n"
		if c.SessionToken != "" {
			out += "aws_session_token = " + c.SessionToken + "\n"
		}
		return out
	}
	r.Write("deploy/prod.env", "REGION=eu-west-1\n"+pair(e.leaks["own"], e.leaks["own"].Secret))
	r.Write("deploy/copy.env", pair(e.leaks["own"], e.leaks["own"].Secret)+"# same key again\n")
	r.Write("terraform/second.tfvars", pair(e.leaks["second"], e.leaks["second"].Secret))
	r.Write("scripts/vendor.sh", "#!/bin/sh\n"+pair(e.leaks["foreign"], e.leaks["foreign"].Secret))
	r.Write("config/root.ini", "[default]\n"+pair(e.leaks["root"], e.leaks["root"].Secret))
	r.Write(".aws/credentials", "[ci]\n"+pair(e.leaks["session"], e.leaks["session"].Secret))
	r.Write("old/intern.env", pair(e.leaks["inactive"], e.leaks["inactive"].Secret))
	r.Write("batch/job.env", pair(e.leaks["throttled"], e.leaks["throttled"].Secret))
	r.Write("canary/creds", pair(e.leaks["canary"], e.leaks["canary"].Secret))
	r.Write("reporting/app.env", pair(wrong, e.wrong))
	r.Write("gone/app.env", pair(awstest.Credentials{KeyID: e.unseen}, e.leaks["own"].Secret))
	r.Write("docs/README.md", "The CI user's key is "+e.leaks["second"].KeyID+" (ask for the secret).\n")
	r.Commit("add everything")
	e.repo = r
	return e
}

// jsonFinding is what these tests read of a JSON finding.
type jsonFinding struct {
	RuleID       string `json:"rule_id"`
	Path         string `json:"path"`
	Line         int    `json:"line"`
	Secret       string `json:"secret"`
	KeyID        string `json:"key_id"`
	Verification *struct {
		Status, Account, ARN, Error string
	} `json:"verification"`
	Remediation *struct {
		Action, Account, User, Note, Error string
	} `json:"remediation"`
}

func parseFindingsList(t *testing.T, out string) []jsonFinding {
	t.Helper()
	var fs []jsonFinding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	return fs
}

func parseFindings(t *testing.T, out string) map[string]jsonFinding {
	t.Helper()
	fs := parseFindingsList(t, out)
	byPath := map[string]jsonFinding{}
	for _, f := range fs {
		byPath[f.Path] = f
	}
	return byPath
}

func TestVerifyCommand(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	code, out, errOut := runCLI(t, "git", e.repo.Dir, "--verify", "--format", "json", "--no-progress")
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	got := map[string]string{}
	for path, f := range parseFindings(t, out) {
		if f.Verification == nil {
			t.Errorf("%s: no verification", path)
			continue
		}
		got[path] = f.Verification.Status + " " + f.Verification.Account
		if f.Remediation != nil {
			t.Errorf("%s: remediation without --own-accounts", path)
		}
	}
	want := map[string]string{
		"deploy/prod.env":         "verified " + ownAccount,
		"deploy/copy.env":         "verified " + ownAccount,
		"terraform/second.tfvars": "verified " + secondAccount,
		"scripts/vendor.sh":       "verified " + foreignAccount,
		"config/root.ini":         "verified " + ownAccount,
		".aws/credentials":        "verified " + ownAccount,
		"old/intern.env":          "invalid ",
		"batch/job.env":           "verified " + foreignAccount,
		"canary/creds":            "canary " + canaryAccount,
		"reporting/app.env":       "invalid ",
		"gone/app.env":            "invalid ",
		"docs/README.md":          "verified " + secondAccount, // the key id alone, verified through its pair
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verification by path (-want +got):\n%s", diff)
	}
	fs := parseFindings(t, out)
	if e := fs["reporting/app.env"].Verification.Error; !strings.Contains(e, "SignatureDoesNotMatch") || !strings.Contains(e, "key id exists") {
		t.Errorf("wrong secret: error %q does not say the key id exists", e)
	}
	if arn := fs["deploy/prod.env"].Verification.ARN; arn != "arn:aws:iam::111122223333:user/ci/deploy-bot" {
		t.Errorf("arn = %q", arn)
	}

	// One call per distinct pair; two for the wrong secret (asked again);
	// three for the throttled key; none for the canary; and only
	// GetCallerIdentity.
	calls := map[string]int{
		"own": 1, "second": 1, "foreign": 1, "root": 1, "session": 1, "inactive": 3 /* once per partition */, "throttled": 3, "canary": 0, "wrong": 2,
	}
	for name, n := range calls {
		if got := len(e.s.CallsBy(e.leaks[name].KeyID)); got != n {
			t.Errorf("%s: %d calls, want %d", name, got, n)
		}
	}
	for _, c := range e.s.Calls() {
		if c.Action != "GetCallerIdentity" {
			t.Errorf("verification called %s", c.Action)
		}
	}
	for name, c := range e.leaks {
		if strings.Contains(out, c.Secret) || strings.Contains(errOut, c.Secret) {
			t.Errorf("the secret of %s is printed in clear", name)
		}
	}
	if strings.Contains(out, e.wrong) {
		t.Error("the wrong secret is printed in clear")
	}
	if !strings.Contains(errOut, "AWS keys: 6 verified, 3 invalid, 1 canary") {
		t.Errorf("summary: %s", errOut)
	}
	for _, c := range e.leaks {
		if e.s.Status(c.KeyID) == "Inactive" && c.KeyID != e.leaks["inactive"].KeyID {
			t.Error("verification changed a key")
		}
	}
}

func TestVerifyCommandText(t *testing.T) {
	s := awstest.New(t)
	admin := s.AddUserKey(ownAccount, "admin", true)
	live := s.AddUserKey(ownAccount, "deploy", false)
	slow := s.AddUserKey(foreignAccount, "slow", false)
	s.Delay(slow.KeyID, 3*time.Second)
	awsEnv(t, s.URL, admin)
	r := gittest.New(t)
	r.Write("a.env", "AWS_ACCESS_KEY_ID="+live.KeyID+"\nAWS_SECRET_ACCESS_KEY="+live.Secret+"\n")
	r.Write("b.env", "AWS_ACCESS_KEY_ID="+slow.KeyID+"\nAWS_SECRET_ACCESS_KEY="+slow.Secret+"\n")
	r.Commit("keys")
	code, out, errOut := runCLI(t, "git", r.Dir, "--verify", "--verify-timeout", "500ms", "--verify-workers", "1")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"Verified:    LIVE, account 111122223333, arn:aws:iam::111122223333:user/deploy",
		"Verified:    unknown: no answer from STS within 500ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "AWS keys: 1 verified, 1 unknown") {
		t.Errorf("summary: %s", errOut)
	}
}

func TestDeactivateCommand(t *testing.T) {
	e := newEstate(t)
	defaultAudit := awsEnv(t, e.s.URL, e.admin)

	// The plan: nothing changes, no IAM call is made.
	code, out, errOut := runCLI(t, "git", e.repo.Dir, "--own-accounts", ownAccount+","+secondAccount, "--format", "json")
	if code != exitFindings {
		t.Fatalf("plan: exit %d; stderr:\n%s", code, errOut)
	}
	plan := parseFindings(t, out)
	wantPlan := map[string]string{
		"deploy/prod.env":         "would-deactivate " + ownAccount + " deploy-bot",
		"deploy/copy.env":         "would-deactivate " + ownAccount + " deploy-bot",
		"terraform/second.tfvars": "would-deactivate " + secondAccount + " app",
		"docs/README.md":          "would-deactivate " + secondAccount + " app",
		"scripts/vendor.sh":       "skip " + foreignAccount + " ",
		"config/root.ini":         "manual " + ownAccount + " root",
		".aws/credentials":        "manual " + ownAccount + " deployer",
		"old/intern.env":          "skip " + ownAccount + " ",
		"batch/job.env":           "skip " + foreignAccount + " ",
		"canary/creds":            "skip " + canaryAccount + " ",
		"reporting/app.env":       "skip " + secondAccount + " ",
		"gone/app.env":            "skip " + foreignAccount + " ",
	}
	if diff := cmp.Diff(wantPlan, actions(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	// A plan reads (the keys' last use and reach, with the user's
	// credentials) and changes nothing; a leaked key signs only its
	// verification.
	for _, c := range e.s.Calls() {
		if changes[c.Action] || c.KeyID != e.admin.KeyID && c.Action != "GetCallerIdentity" {
			t.Errorf("the plan made a call: %s by %s", c.Action, c.KeyID)
		}
	}
	if !strings.Contains(errOut, "remediation: 2 would-deactivate, 2 manual") || !strings.Contains(errOut, defaultAudit) {
		t.Errorf("plan summary: %s", errOut)
	}
	if !strings.Contains(plan["config/root.ini"].Remediation.Note, "root user") ||
		!strings.Contains(plan[".aws/credentials"].Remediation.Note, "Revoke active sessions") {
		t.Errorf("manual steps: %q / %q", plan["config/root.ini"].Remediation.Note, plan[".aws/credentials"].Remediation.Note)
	}

	// The act, through the role.
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	code, out, errOut = runCLI(t, "git", e.repo.Dir, "--own-accounts", ownAccount, "--own-accounts", secondAccount,
		"--deactivate", "--role-name", roleName, "--audit-log", audit, "--format", "json")
	if code != exitFindings {
		t.Fatalf("deactivate: exit %d; stderr:\n%s", code, errOut)
	}
	done := actions(parseFindings(t, out))
	for path, want := range map[string]string{
		"deploy/prod.env":         "deactivated " + ownAccount + " deploy-bot",
		"deploy/copy.env":         "deactivated " + ownAccount + " deploy-bot",
		"terraform/second.tfvars": "deactivated " + secondAccount + " app",
		"scripts/vendor.sh":       "skip " + foreignAccount + " ",
		"old/intern.env":          "already-inactive " + ownAccount + " former-intern",
	} {
		if done[path] != want {
			t.Errorf("%s: %q, want %q", path, done[path], want)
		}
	}
	for name, want := range map[string]string{"own": "Inactive", "second": "Inactive", "foreign": "Active", "root": "Active", "session": "Active", "throttled": "Active", "wrong": "Active"} {
		if got := e.s.Status(e.leaks[name].KeyID); got != want {
			t.Errorf("%s is %s, want %s", name, got, want)
		}
	}
	if n := e.s.Count("UpdateAccessKey"); n != 2 {
		t.Errorf("UpdateAccessKey called %d times, want 2 (once per live own key)", n)
	}
	if n := e.s.Count("DeleteAccessKey"); n != 0 {
		t.Errorf("DeleteAccessKey called %d times", n)
	}
	for _, c := range e.s.Calls() {
		if strings.Contains(c.Params.Get("RoleArn"), foreignAccount) || c.Params.Get("AccessKeyId") == e.leaks["foreign"].KeyID {
			t.Errorf("the foreign account was acted on: %s %v", c.Action, c.Params)
		}
	}
	checkAuditLog(t, audit, e)
	if !strings.Contains(errOut, "remediation: 2 deactivated, 1 already-inactive, 2 manual") {
		t.Errorf("summary: %s", errOut)
	}
}

func actions(fs map[string]jsonFinding) map[string]string {
	out := map[string]string{}
	for path, f := range fs {
		if r := f.Remediation; r != nil {
			out[path] = r.Action + " " + r.Account + " " + r.User
		}
	}
	return out
}

func checkAuditLog(t *testing.T, path string, e *estate) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	steps := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for name, c := range e.leaks {
			if strings.Contains(line, c.Secret) {
				t.Errorf("the audit log holds the secret of %s", name)
			}
		}
		var entry struct {
			Time, Account, Action, Result string
			KeyID                         string `json:"key_id"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if entry.Time == "" || entry.KeyID == "" || entry.Account == "" {
			t.Errorf("audit line lacks time, key id or account: %s", line)
		}
		steps[entry.Action+" "+entry.Result]++
	}
	for step, n := range map[string]int{"assume-role ok": 2, "deactivate ok": 2, "decision deactivated": 2, "decision manual": 2} {
		if steps[step] != n {
			t.Errorf("audit log has %d %q, want %d (all: %v)", steps[step], step, n, steps)
		}
	}
}

func TestDeactivateWithDefaultCredentials(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	code, out, errOut := runCLI(t, "git", e.repo.Dir, "--own-accounts", ownAccount+","+secondAccount, "--deactivate", "--format", "json")
	// The second account's key cannot be reached with credentials of the
	// first: that is a failure, reported, and the run is not green.
	if code != exitError {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
	}
	fs := parseFindings(t, out)
	if got := fs["deploy/prod.env"].Remediation; got == nil || got.Action != "deactivated" {
		t.Errorf("own key: %+v", got)
	}
	if got := fs["terraform/second.tfvars"].Remediation; got == nil || got.Action != "failed" || !strings.Contains(got.Error, "--role-name") {
		t.Errorf("second account's key: %+v", got)
	}
	if e.s.Status(e.leaks["second"].KeyID) != "Active" || e.s.Status(e.leaks["own"].KeyID) != "Inactive" {
		t.Error("wrong keys changed")
	}
	last := strings.Split(strings.TrimSpace(errOut), "\n")
	if l := last[len(last)-1]; !strings.HasPrefix(l, "keysweep: remediation failed for 1 keys") {
		t.Errorf("last line %q", l)
	}
}

func TestRemediateFromReport(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	dir := t.TempDir()
	reportFile := filepath.Join(dir, "report.json")
	// remediate verifies each key again with its secret: the report must
	// hold them.
	code, _, errOut := runCLI(t, "git", e.repo.Dir, "--verify", "--no-redact", "--format", "json", "--report", reportFile)
	if code != exitFindings {
		t.Fatalf("scan: exit %d; stderr:\n%s", code, errOut)
	}
	before := len(e.s.Calls())

	// A dry run changes nothing: it only asks STS about the keys of the
	// own accounts, signed with each key.
	code, out, errOut := runCLI(t, "remediate", reportFile, "--own-accounts", ownAccount+","+secondAccount, "--format", "json")
	if code != exitFindings {
		t.Fatalf("dry run: exit %d; stderr:\n%s", code, errOut)
	}
	if got := actions(parseFindings(t, out))["terraform/second.tfvars"]; got != "would-deactivate "+secondAccount+" app" {
		t.Errorf("dry run: %q", got)
	}
	for _, c := range e.s.Calls()[before:] {
		a, _ := detectors.AccountID(c.KeyID)
		if changes[c.Action] || c.KeyID != e.admin.KeyID && (c.Action != "GetCallerIdentity" || a != ownAccount && a != secondAccount) {
			t.Errorf("the dry run called %s signed with %s", c.Action, c.KeyID)
		}
	}

	audit := filepath.Join(dir, "audit.jsonl")
	code, out, errOut = runCLI(t, "remediate", reportFile, "--own-accounts", ownAccount+","+secondAccount, "--role-name", roleName, "--deactivate",
		"--audit-log", audit, "--format", "json")
	// Root and session keys are left to a person: exit 1.
	if code != exitFindings {
		t.Fatalf("remediate: exit %d; stderr:\n%s", code, errOut)
	}
	got := actions(parseFindings(t, out))
	for path, want := range map[string]string{
		"deploy/prod.env":         "deactivated " + ownAccount + " deploy-bot",
		"terraform/second.tfvars": "deactivated " + secondAccount + " app",
		"scripts/vendor.sh":       "skip " + foreignAccount + " ",
		"config/root.ini":         "manual " + ownAccount + " root",
	} {
		if got[path] != want {
			t.Errorf("%s: %q, want %q", path, got[path], want)
		}
	}
	if e.s.Status(e.leaks["own"].KeyID) != "Inactive" || e.s.Status(e.leaks["second"].KeyID) != "Inactive" || e.s.Status(e.leaks["foreign"].KeyID) != "Active" {
		t.Error("wrong key states after remediate")
	}
	checkAuditLog(t, audit, e)

	// Again: the keys are found inactive and left alone.
	code, out, _ = runCLI(t, "remediate", reportFile, "--own-accounts", ownAccount+","+secondAccount, "--role-name", roleName, "--deactivate",
		"--audit-log", audit, "--format", "json")
	if got := actions(parseFindings(t, out))["deploy/prod.env"]; code != exitFindings || got != "already-inactive "+ownAccount+" deploy-bot" {
		t.Errorf("second run: exit %d, %q", code, got)
	}
	if n := e.s.Count("UpdateAccessKey"); n != 2 {
		t.Errorf("UpdateAccessKey called %d times over both runs, want 2", n)
	}
}

func TestAWSCommandErrors(t *testing.T) {
	s := awstest.New(t)
	awsEnv(t, s.URL, s.AddUserKey(ownAccount, "admin", true))
	r := leakyRepo(t)
	notJSON := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(notJSON, []byte("aws-access-key  AWS access key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreignJSON := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(foreignJSON, []byte(`[{"id": 1, "severity": "high"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"deactivate without accounts", []string{"git", r.Dir, "--deactivate"}, nil, "--deactivate needs --own-accounts"},
		{"role without accounts", []string{"git", r.Dir, "--role-name", "x"}, nil, "--role-name needs --own-accounts"},
		{"bad account", []string{"git", r.Dir, "--own-accounts", "1234"}, nil, `invalid AWS account id "1234"`},
		{"bad role", []string{"git", r.Dir, "--own-accounts", ownAccount, "--role-name", "no spaces"}, nil, "invalid role name"},
		{"bad workers", []string{"git", r.Dir, "--verify", "--verify-workers", "0"}, nil, "--verify-workers must be at least 1"},
		{"bad timeout", []string{"git", r.Dir, "--verify", "--verify-timeout", "soon"}, nil, "invalid argument"},
		{"missing profile", []string{"git", r.Dir, "--verify"}, map[string]string{"AWS_PROFILE": "nope"}, "load AWS configuration"},
		{"remediate without accounts", []string{"remediate", notJSON}, nil, "--own-accounts is required"},
		{"remediate missing report", []string{"remediate", "/nonexistent/r.json", "--own-accounts", ownAccount}, nil, "open report"},
		{"remediate text report", []string{"remediate", notJSON, "--own-accounts", ownAccount}, nil, "want a JSON array of findings"},
		{"remediate foreign JSON", []string{"remediate", foreignJSON, "--own-accounts", ownAccount}, nil, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := runCLI(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; code != exitError || !strings.HasPrefix(last, "keysweep: ") || !strings.Contains(last, tt.want) {
				t.Errorf("exit %d, last stderr line %q; want 2 and %q", code, last, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q on a usage error", out)
			}
		})
	}
	if n := len(s.Calls()); n != 0 {
		t.Errorf("bad usage made %d AWS calls", n)
	}
}

// TestServiceEndpointsAndRegion checks that the service-specific
// endpoint variables win over AWS_ENDPOINT_URL, and that calls are signed
// for AWS_REGION.
// changes are the AWS actions that change something: a plan or a dry run
// reads, and never calls them.
var changes = map[string]bool{"UpdateAccessKey": true, "AttachUserPolicy": true, "DeleteAccessKey": true}

func TestServiceEndpointsAndRegion(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, "http://127.0.0.1:1", e.admin) // nothing listens there
	t.Setenv("AWS_ENDPOINT_URL_STS", e.s.URL)
	t.Setenv("AWS_ENDPOINT_URL_IAM", e.s.URL)
	t.Setenv("AWS_REGION", "eu-central-1")
	code, out, errOut := runCLI(t, "git", e.repo.Dir, "--own-accounts", ownAccount, "--deactivate", "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if got := actions(parseFindings(t, out))["deploy/prod.env"]; got != "deactivated "+ownAccount+" deploy-bot" {
		t.Errorf("own key: %q", got)
	}
	// A key STS calls unknown is asked again in China and GovCloud.
	for _, c := range e.s.Calls() {
		if c.Region != "eu-central-1" && !(c.Action == "GetCallerIdentity" && (c.Region == "cn-north-1" || c.Region == "us-gov-west-1")) {
			t.Errorf("%s signed for region %q", c.Action, c.Region)
		}
	}
	if e.s.Count("UpdateAccessKey") != 1 || e.s.Status(e.leaks["own"].KeyID) != "Inactive" {
		t.Error("the key was not deactivated through the IAM endpoint")
	}
}

// TestVerifyThroughProxy runs keysweep in a child process (Go reads the
// proxy environment once per process) with an endpoint whose name does
// not resolve: only the proxy, the stand-in, can answer.
func TestVerifyThroughProxy(t *testing.T) {
	if os.Getenv("KEYSWEEP_PROXY_CHILD") != "" {
		code := run(t.Context(), strings.Fields(os.Getenv("KEYSWEEP_PROXY_CHILD")), strings.NewReader(""), os.Stdout, os.Stderr)
		fmt.Fprintf(os.Stderr, "child exit %d\n", code)
		return
	}
	s := awstest.New(t)
	live := s.AddUserKey(ownAccount, "deploy", false)
	awsEnv(t, "http://sts.keysweep.invalid", s.AddUserKey(ownAccount, "admin", true))
	t.Setenv("HTTP_PROXY", s.URL)
	r := gittest.New(t)
	r.Write("a.env", "AWS_ACCESS_KEY_ID="+live.KeyID+"\nAWS_SECRET_ACCESS_KEY="+live.Secret+"\n")
	r.Commit("key")
	cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyThroughProxy$", "-test.v")
	cmd.Env = append(os.Environ(), "KEYSWEEP_PROXY_CHILD=git "+r.Dir+" --verify --format json")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"status": "verified"`) || !strings.Contains(string(out), "child exit 1") {
		t.Errorf("child output:\n%s", out)
	}
	calls := s.CallsBy(live.KeyID)
	if len(calls) != 1 || calls[0].Host != "sts.keysweep.invalid" {
		t.Errorf("calls through the proxy: %+v", calls)
	}
}

// reportFinding is a JSON finding as anyone could write one: a report is
// plain text, and key ids are not secret.
func reportFinding(rule, keyID, secret, claimedAccount string) map[string]any {
	return map[string]any{
		"rule_id": rule, "description": "AWS access key", "secret": secret, "commit": strings.Repeat("a", 40),
		"path": "deploy/" + keyID + ".env", "line": 2, "column": 1, "author": "A", "email": "a@example.com",
		"date": "2024-01-01T00:00:00+00:00", "fingerprint": rule + ":0123456789abcdef", "key_id": keyID,
		"account_id": claimedAccount,
		"verification": map[string]string{
			"status": "verified", "account": claimedAccount, "arn": "arn:aws:iam::" + claimedAccount + ":user/ci/deploy-bot",
			"user_id": "AIDAZR3VQ7WXEXAMPLE01", "error": "",
		},
	}
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// iamCalls returns the calls that act in an account, or prepare to:
// everything but verification.
func iamCalls(calls []awstest.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Action != "GetCallerIdentity" {
			out = append(out, c.Action)
		}
	}
	return out
}

// TestRemediateForgedReport: a report naming the user's own live key as
// verified, with no working secret, must not get it deactivated (a denial
// of service on a production key).
func TestRemediateForgedReport(t *testing.T) {
	tests := []struct {
		name     string
		finding  func(own awstest.Credentials) map[string]any
		code     int
		note     string // in the remediation's note
		stderr   string // on stderr
		verified string // the verification written: this run's, not the report's
	}{
		{
			name: "redacted secret",
			finding: func(own awstest.Credentials) map[string]any {
				return reportFinding("aws-access-key", own.KeyID, own.Secret[:4]+"*****", ownAccount)
			},
			code: exitError, note: "--no-redact", stderr: "redacted", verified: "unknown",
		},
		{
			name: "wrong secret",
			finding: func(own awstest.Credentials) map[string]any {
				return reportFinding("aws-access-key", own.KeyID, "Xx1"+strings.Repeat("Yy2", 12)+"Z", ownAccount)
			},
			code: exitClean, note: "SignatureDoesNotMatch", verified: "invalid",
		},
		{
			name: "no secret at all",
			finding: func(own awstest.Credentials) map[string]any {
				return reportFinding("aws-access-key", own.KeyID, "", ownAccount)
			},
			code: exitClean, note: "no secret", stderr: "no secret", verified: "unknown",
		},
		{
			name: "key id alone",
			finding: func(own awstest.Credentials) map[string]any {
				return reportFinding("aws-access-key-id", own.KeyID, own.KeyID, ownAccount)
			},
			code: exitClean, note: "no secret", stderr: "no secret", verified: "unknown",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEstate(t)
			awsEnv(t, e.s.URL, e.admin)
			own := e.leaks["own"]
			forged := writeJSON(t, []any{tt.finding(own)})
			code, out, errOut := runCLI(t, "remediate", forged, "--own-accounts", ownAccount, "--role-name", roleName, "--deactivate", "--format", "json")
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			fs := parseFindingsList(t, out)
			if len(fs) != 1 || fs[0].Remediation == nil {
				t.Fatalf("findings: %+v", fs)
			}
			if r := fs[0].Remediation; r.Action != "skip" || !strings.Contains(r.Note, tt.note) {
				t.Errorf("remediation %+v, want skip with %q in the note", r, tt.note)
			}
			if v := fs[0].Verification; v == nil || v.Status != tt.verified {
				t.Errorf("verification %+v, want %s (this run's)", v, tt.verified)
			}
			told := strings.Contains(errOut, "keysweep: "+own.KeyID+": not verified again, so not touched: ") && strings.Contains(errOut, tt.stderr)
			if tt.stderr != "" && !told {
				t.Errorf("stderr does not say why %s was not touched:\n%s", own.KeyID, errOut)
			}
			if lines := strings.Split(strings.TrimSpace(errOut), "\n"); tt.code == exitError && !strings.Contains(lines[len(lines)-1], "--no-redact") {
				t.Errorf("the last line does not say what to do: %q", lines[len(lines)-1])
			}
			if got := e.s.Status(own.KeyID); got != "Active" {
				t.Errorf("the key is %s", got)
			}
			if n := e.s.Count("UpdateAccessKey"); n != 0 {
				t.Errorf("UpdateAccessKey called %d times", n)
			}
			if calls := iamCalls(e.s.Calls()); len(calls) != 0 {
				t.Errorf("calls on the word of a forged report: %v", calls)
			}
		})
	}
}

// TestRemediateReverifiesGenuineReport: an unredacted report of a live
// own key gets it deactivated, after STS has answered for the key again.
// The report's verification plays no part: here it says "invalid".
func TestRemediateReverifiesGenuineReport(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	reportFile := filepath.Join(t.TempDir(), "report.json")
	if code, _, errOut := runCLI(t, "git", e.repo.Dir, "--format", "json", "--no-redact", "--report", reportFile); code != exitFindings {
		t.Fatalf("scan: exit %d; stderr:\n%s", code, errOut)
	}
	var fs []map[string]any
	raw, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &fs); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f["key_id"] != nil {
			f["verification"] = map[string]string{"status": "invalid", "account": "", "arn": "", "user_id": "", "error": "forged"}
		}
	}
	reportFile = writeJSON(t, fs)

	code, out, errOut := runCLI(t, "remediate", reportFile, "--own-accounts", ownAccount, "--role-name", roleName, "--deactivate", "--format", "json")
	if code != exitFindings { // root and session keys are left to a person
		t.Fatalf("remediate: exit %d; stderr:\n%s", code, errOut)
	}
	got := parseFindings(t, out)
	if r := got["deploy/prod.env"].Remediation; r == nil || r.Action != "deactivated" {
		t.Errorf("own key: %+v", r)
	}
	if v := got["deploy/prod.env"].Verification; v == nil || v.Status != "verified" || v.Account != ownAccount {
		t.Errorf("own key's verification: %+v, want this run's", v)
	}
	own := e.leaks["own"].KeyID
	if e.s.Status(own) != "Inactive" {
		t.Error("the own key is still active")
	}
	// STS answered for the key, signed with its secret, before IAM was
	// asked to deactivate it.
	verified, deactivated := -1, -1
	for i, c := range e.s.Calls() {
		switch {
		case c.Action == "GetCallerIdentity" && c.KeyID == own && c.Status == 200:
			verified = i
		case c.Action == "UpdateAccessKey" && c.Params.Get("AccessKeyId") == own:
			deactivated = i
		}
	}
	if verified < 0 || deactivated < verified {
		t.Errorf("GetCallerIdentity with the key at call %d, UpdateAccessKey at %d", verified, deactivated)
	}
	for name, c := range e.leaks {
		if strings.Contains(out, c.Secret) || strings.Contains(errOut, c.Secret) {
			t.Errorf("remediate printed the secret of %s: its output is redacted unless --no-redact", name)
		}
	}
}

// TestRemediateNeverTouchesAForeignAccount: a working secret is not
// enough; the key id must decode to an own account, and STS must answer
// for that same account.
func TestRemediateNeverTouchesAForeignAccount(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	foreign := e.leaks["foreign"]
	// A key of the user's own account, for which STS claims another.
	liar := e.s.AddUserKey(ownAccount, "ci/liar", false)
	e.s.AnswerAs(liar.KeyID, foreignAccount)
	forged := writeJSON(t, []any{
		reportFinding("aws-access-key", foreign.KeyID, foreign.Secret, ownAccount),
		reportFinding("aws-access-key", liar.KeyID, liar.Secret, ownAccount),
	})
	code, out, errOut := runCLI(t, "remediate", forged, "--own-accounts", ownAccount, "--role-name", roleName, "--deactivate", "--format", "json")
	if code != exitClean {
		t.Errorf("exit %d; stderr:\n%s", code, errOut)
	}
	byKey := map[string]jsonFinding{}
	for _, f := range parseFindingsList(t, out) {
		byKey[f.KeyID] = f
	}
	if r := byKey[foreign.KeyID].Remediation; r == nil || r.Action != "skip" || r.Account != foreignAccount {
		t.Errorf("foreign key: %+v", r)
	}
	if r := byKey[liar.KeyID].Remediation; r == nil || r.Action != "skip" || !strings.Contains(r.Note, "STS answered for account "+foreignAccount) {
		t.Errorf("key STS claims for another account: %+v", r)
	}
	if n := len(e.s.CallsBy(foreign.KeyID)); n != 0 {
		t.Errorf("the foreign key was sent to AWS %d times", n)
	}
	if calls := iamCalls(e.s.Calls()); len(calls) != 0 {
		t.Errorf("calls to act: %v", calls)
	}
	if e.s.Status(foreign.KeyID) != "Active" || e.s.Status(liar.KeyID) != "Active" {
		t.Error("a key was deactivated")
	}
}

// TestAWSOutputsNeverEchoSecrets plays a hostile endpoint that echoes the
// secret and session token of the keys it is asked about, in every form
// and field, and IAM answers that echo the acting credentials': no form
// of them may reach the report, stderr or the audit log.
func TestAWSOutputsNeverEchoSecrets(t *testing.T) {
	s := awstest.New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	audit := filepath.Join(awsEnvDir(t, s.URL, admin), "audit.jsonl")
	s.AddRole(ownAccount, roleName, ownAccount)
	r := gittest.New(t)
	var secrets []string
	for _, field := range []awstest.EchoField{awstest.EchoInMessage, awstest.EchoInCode, awstest.EchoInArn, awstest.EchoInUserID} {
		for _, form := range awstest.EchoForms() {
			c := s.AddSessionKey(foreignAccount, "deployer", "build-42")
			s.SetEcho(awstest.Echo{KeyID: c.KeyID, Form: form, Field: field})
			r.Write(string(field)+"/"+string(form)+".env", "aws_access_key_id = "+c.KeyID+"\naws_secret_access_key = "+c.Secret+
				"\naws_session_token = "+c.SessionToken+"\n")
			secrets = append(secrets, c.Secret, c.SessionToken)
		}
	}
	// A live key of the user's own, and an IAM that echoes.
	live := s.AddUserKey(ownAccount, "ci/deploy-bot", false)
	r.Write("own.env", "aws_access_key_id = "+live.KeyID+"\naws_secret_access_key = "+live.Secret+"\n")
	r.Commit("keys")
	s.SetEcho(awstest.Echo{Action: "ListAccessKeys", Form: awstest.EchoPlain, Field: awstest.EchoInMessage})

	for _, format := range []string{"json", "text"} {
		code, out, errOut := runCLI(t, "git", r.Dir, "--own-accounts", ownAccount, "--role-name", roleName, "--deactivate",
			"--audit-log", audit, "--format", format)
		if code != exitError { // the IAM step failed
			t.Errorf("%s: exit %d; stderr:\n%s", format, code, errOut)
		}
		if !strings.Contains(out, "ListAccessKeys") {
			t.Errorf("%s: the failed step is not named:\n%s", format, out)
		}
		logged, err := os.ReadFile(audit)
		if err != nil {
			t.Fatal(err)
		}
		all := append([]string{admin.Secret}, secrets...)
		for _, c := range s.Calls() {
			if strings.HasPrefix(c.KeyID, "ASIA") {
				issued := s.Credentials(c.KeyID)
				all = append(all, issued.Secret, issued.SessionToken)
			}
		}
		for _, secret := range all {
			for _, form := range awstest.EchoForms() {
				said := form.Apply(secret)
				for where, text := range map[string]string{"stdout": out, "stderr": errOut, "the audit log": string(logged)} {
					if i := strings.Index(text, said); i >= 0 {
						t.Errorf("%s: %s holds a secret (%s) at %q", format, where, form, text[max(0, i-30):min(len(text), i+30)])
					}
				}
			}
		}
	}
}

// awsEnvDir is awsEnv, returning a directory of the test's own.
func awsEnvDir(t *testing.T, endpoint string, creds awstest.Credentials) string {
	t.Helper()
	awsEnv(t, endpoint, creds)
	return t.TempDir()
}
