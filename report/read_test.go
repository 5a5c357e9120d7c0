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
	for _, format := range []string{"json", "jsonl"} {
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
