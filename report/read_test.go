package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/finding"
)

// FuzzRead feeds Read arbitrary files: it must not panic, and whatever it
// accepts must survive being written as JSON and read again.
func FuzzRead(f *testing.F) {
	for _, format := range []string{"json", "jsonl", "sarif"} {
		var plain, hostile bytes.Buffer
		if err := Write(&plain, testFindings(), Options{Format: format}); err != nil {
			f.Fatal(err)
		}
		f.Add(plain.Bytes())
		if err := WriteFindings(&hostile, hostileFindings(), Options{Format: format}); err != nil {
			f.Fatal(err)
		}
		f.Add(hostile.Bytes())
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"rule_id":"r","fingerprint":"r:0123456789abcdef","path":"a\u001b\ud800\u202e","line":-1}` + "\n" + `{"rule_id":"s","fingerprint":"f","account_id":null}`))
	f.Add([]byte(`[{"rule_id":"r","fingerprint":"f","verification":{},"remediation":null}] `))
	f.Add([]byte("{\"rule_id\":\"r\",\"fingerprint\":\"f\",\"path\":\"\xff\x9b\"}"))
	f.Add([]byte(`[{"rule_id":"r","fingerprint":"f","unknown":1}]`))
	f.Add([]byte(`  {"rule_id":"r","fingerprint":"f"} [`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := finding.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, format := range []string{"json", "jsonl"} {
			var buf bytes.Buffer
			if err := WriteFindings(&buf, fs, Options{Format: format}); err != nil {
				t.Fatalf("write %s: %v", format, err)
			}
			if format == "jsonl" && len(fs) == 0 {
				// An empty JSON lines report is an empty file, which
				// Read refuses as not a report.
				continue
			}
			written := buf.String()
			if strings.ContainsAny(written, "\x1b\x7f\u009b\u202e") {
				t.Fatalf("%s output holds a control character as it is: %q", format, written)
			}
			back, err := finding.Read(&buf)
			if err != nil {
				t.Fatalf("read back %s: %v\n%s", format, err, written)
			}
			if diff := cmp.Diff(fs, back, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s round trip (-read +read back):\n%s", format, diff)
			}
		}
	})
}

// TestSARIFReadsBack: a SARIF report is read back as the findings it
// holds, without their secrets (SARIF holds none), so that shards written
// as SARIF merge and serve as a baseline.
func TestSARIFReadsBack(t *testing.T) {
	t.Parallel()
	for name, fs := range map[string][]finding.Finding{"plain": testFindings(), "hostile": hostileFindings()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs[0].Repository = "acme/api"
			var buf bytes.Buffer
			if err := Write(&buf, fs, Options{Format: "sarif", Version: "1.2.3"}); err != nil {
				t.Fatal(err)
			}
			back, err := finding.Read(&buf)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			want := Prepare(fs, Options{})
			if len(back) != len(want) {
				t.Fatalf("%d findings read back, want %d", len(back), len(want))
			}
			for i, f := range back {
				w := want[i]
				got := []any{f.Repository, f.RuleID, f.Description, f.Path, f.Line, f.Column, f.Commit, f.Author, f.Date, f.Fingerprint, f.KeyID, f.TestPath, f.Secret}
				exp := []any{w.Repository, w.RuleID, w.Description, w.Path, max(w.Line, 1), w.Column, w.Commit, w.Author, w.Date, w.Fingerprint, w.KeyID, w.TestPath, ""}
				if diff := cmp.Diff(exp, got); diff != "" {
					t.Errorf("finding %d (-want +got):\n%s", i, diff)
				}
				if (w.Verification == nil) != (f.Verification == nil) || f.Verification != nil && f.Verification.Status != w.Verification.Status {
					t.Errorf("finding %d: verification %+v, want status of %+v", i, f.Verification, w.Verification)
				}
			}
		})
	}
}

func TestSARIFOfAnotherTool(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"another tool":   `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gitleaks"}},"results":[]}]}`,
		"no fingerprint": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"keysweep"}},"results":[{"ruleId":"r","locations":[]}]}]}`,
		"old version":    `{"version":"2.0.0","runs":[]}`,
	} {
		if fs, err := finding.Read(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: read as %d findings", name, len(fs))
		}
	}
}
