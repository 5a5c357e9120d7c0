package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/finding"
)

func TestWriteNeverLeaksByDefault(t *testing.T) {
	t.Parallel()
	raw := "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	fs := []finding.Finding{{RuleID: "github-token", Secret: raw, Path: "a", Line: 1, Column: 1, SessionToken: raw}}
	for _, format := range Formats {
		var buf bytes.Buffer
		if err := Write(&buf, fs, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), raw) {
			t.Errorf("%s output holds the secret in clear", format)
		}
		buf.Reset()
		if err := Write(&buf, fs, Options{Format: format, NoRedact: true}); err != nil {
			t.Fatal(err)
		}
		// SARIF is uploaded to code scanning: it never holds a secret.
		if has := strings.Contains(buf.String(), raw); has != (format != "sarif") {
			t.Errorf("%s output with NoRedact: holds the secret = %v", format, has)
		}
	}
}
