package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/scanner"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"short", "*****"},
		{"twelve-chars", "tw*****"},
		{"ghp_R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE", "ghp_*****"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----*****"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriteNeverLeaksByDefault(t *testing.T) {
	t.Parallel()
	raw := "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	fs := []scanner.Finding{{RuleID: "github-token", Secret: raw, Path: "a", Line: 1, Column: 1, SessionToken: raw}}
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

func FuzzRedact(f *testing.F) {
	f.Add("ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----")
	f.Add("-----BEGIN")
	f.Add("short")
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if s == "" {
			if r != "" {
				t.Fatalf("Redact(\"\") = %q", r)
			}
			return
		}
		if !strings.HasSuffix(r, "*****") {
			t.Fatalf("Redact(%q) = %q: not marked as redacted", s, r)
		}
		// At most a few leading characters survive (a PEM header is not
		// secret): never the body of a long secret.
		kept := strings.TrimSuffix(r, "*****")
		if !strings.HasPrefix(s, kept) {
			t.Fatalf("Redact(%q) = %q keeps what is not the secret's start", s, r)
		}
		if !strings.HasPrefix(s, "-----BEGIN") && len(kept) > 4 {
			t.Fatalf("Redact(%q) keeps %d characters", s, len(kept))
		}
		if len(s) >= 8 && len(kept) >= len(s)/2 && !strings.HasPrefix(s, "-----BEGIN") {
			t.Fatalf("Redact(%q) = %q keeps half the secret", s, r)
		}
	})
}
