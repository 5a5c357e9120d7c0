package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/finding"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"deploy/prod.env", "deploy/prod.env"},
		{"café ✓ 日本語 Ünïcödé", "café ✓ 日本語 Ünïcödé"},
		{`C:\path\x1b`, `C:\path\x1b`},
		{"\x1b[2J\x1b]0;pwned\a", `\x1b[2J\x1b]0;pwned\x07`},
		{"a\nforged line", `a\nforged line`},
		{"tab\there\r", `tab\there\r`},
		{"nul\x00 bs\b ff\f vt\v", `nul\x00 bs\x08 ff\x0c vt\x0b`},
		{"del\x7f", `del\x7f`},
		{"c1 \u0085 \u009b2J \u0080", `c1 \u0085 \u009b2J \u0080`},
		{"\u202aa\u202bb\u202cc\u202dd\u202ee", `\u202aa\u202bb\u202cc\u202dd\u202ee`},
		{"\u2066a\u2067b\u2068c\u2069", `\u2066a\u2067b\u2068c\u2069`},
		{"bad utf-8 \xff\x9b[2J \xe2\x80", `bad utf-8 \xff\x9b[2J \xe2\x80`},
		// Neighbours of the escaped ranges are ordinary text.
		{"\u00a0\u00ff\u2029\u202f\u2065\u206a", "\u00a0\u00ff\u2029\u202f\u2065\u206a"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[2J")
	f.Add("a\u202eb\xff")
	f.Add("plain/path.go")
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if hasUnsafe(e) {
			t.Fatalf("Escape(%q) = %q still holds a control character", s, e)
		}
		if !hasUnsafe(s) && e != s {
			t.Fatalf("Escape(%q) = %q changes ordinary text", s, e)
		}
	})
}

// hasUnsafe reports whether s holds a byte or rune that Escape escapes.
func hasUnsafe(s string) bool {
	for i, r := range s {
		if r == 0xfffd && !strings.HasPrefix(s[i:], "\ufffd") || r < 0x20 || r >= 0x7f && r <= 0x9f ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return true
		}
	}
	return false
}

// hostile is content from a repository built to attack the terminal of
// whoever reads the report: every field carries an escape sequence and a
// newline that would forge a line.
const hostile = "\x1b[2J\x1b]8;;http://evil\a\n  Fingerprint: forged\u202e\u009b"

func hostileFindings() []finding.Finding { return findingsWith(hostile) }

// findingsWith returns a finding with every field of content ending in h.
func findingsWith(hostile string) []finding.Finding {
	account := "1234" + hostile
	return []finding.Finding{{
		Repository: "org/repo" + hostile, RuleID: "custom" + hostile, Description: "Custom rule" + hostile,
		Secret: "ab*****" + hostile, Commit: strings.Repeat("a", 40) + hostile, Path: "dir/\x1b[2Jfile" + hostile,
		Line: 3, Column: 4, Author: "Mallory" + hostile, Email: "m@example.com" + hostile, Date: "2024" + hostile,
		Fingerprint: "custom:0123456789abcdef" + hostile, KeyID: "AKIA" + hostile, AccountID: &account,
		Decoded: "base64" + hostile, TestPath: true,
		Verification: &finding.Verification{Status: "error" + hostile, Account: "1" + hostile, ARN: "arn" + hostile, Error: "denied" + hostile},
		Remediation:  &finding.Remediation{Action: "plan" + hostile, Account: "1" + hostile, User: "u" + hostile, Note: "n" + hostile, Error: "e" + hostile},
	}}
}

// checkNoControls fails if out holds a control character other than the
// newlines that end lines, or more lines than the same output of plain
// findings, plain.
func checkNoControls(t *testing.T, out, plain string) {
	t.Helper()
	if lines := strings.Count(plain, "\n"); strings.Count(out, "\n") != lines {
		t.Errorf("%d lines, want %d: a newline in content forged a line:\n%s", strings.Count(out, "\n"), lines, out)
	}
	if hasUnsafe(strings.ReplaceAll(out, "\n", "")) {
		t.Errorf("a control character reaches the terminal: %q", out)
	}
	if strings.Contains(out, "\n  Fingerprint: forged") {
		t.Error("content forged a Fingerprint line")
	}
}

func TestTextEscapesContent(t *testing.T) {
	t.Parallel()
	for _, color := range []bool{false, true} {
		var buf, plain bytes.Buffer
		if err := WriteFindings(&buf, hostileFindings(), Options{Format: "text", Color: color}); err != nil {
			t.Fatal(err)
		}
		if err := WriteFindings(&plain, findingsWith(""), Options{Format: "text", Color: color}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if color {
			// Our own colors are the only escape sequences.
			for _, c := range []string{"\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[2m", "\x1b[0m"} {
				out = strings.ReplaceAll(out, c, "")
			}
		}
		checkNoControls(t, out, plain.String())
		// A path is quoted as git quotes it.
		if !strings.Contains(out, `"dir/\033[2Jfile\033[2J\033]8;;http://evil\a\n  Fingerprint: forged\342\200\256\302\233":3:4`) {
			t.Errorf("the path is not shown escaped:\n%s", out)
		}
	}
}

func TestCSVEscapesContent(t *testing.T) {
	t.Parallel()
	var buf, plain bytes.Buffer
	if err := WriteFindings(&buf, hostileFindings(), Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFindings(&plain, findingsWith(""), Options{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	checkNoControls(t, buf.String(), plain.String())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[1][4], `dir/\x1b[2Jfile`+Escape(hostile); got != want {
		t.Errorf("path cell = %q, want %q", got, want)
	}
}

func TestRefusalEscapesContent(t *testing.T) {
	t.Parallel()
	refuse := func(h string) string {
		var buf bytes.Buffer
		err := WriteRefusal(&buf, findingsWith(h), Refusal{
			Title: "push refused",
			Refs:  []string{"refs/heads/main" + h},
			Bypass: func(fps []string) []string {
				return []string{"git push -o keysweep.allow=" + fps[0]}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	out := refuse(hostile)
	checkNoControls(t, out, refuse(""))
	if !strings.Contains(out, `    location     "dir/\033[2Jfile`) {
		t.Errorf("the path is not shown escaped:\n%s", out)
	}
}

// JSON and SARIF escape control characters in strings; DEL, C1 controls
// and bidi overrides are valid JSON as they are, but are written as \u
// escapes too, so that cat shows them harmlessly.
func TestJSONEscapesContent(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "jsonl", "sarif"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			fs := hostileFindings()
			fs[0].Path = "dir/\x1b[2J\x7f\u009b\u202efile"
			var buf bytes.Buffer
			if err := WriteFindings(&buf, fs, Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if hasUnsafe(strings.ReplaceAll(out, "\n", "")) {
				t.Errorf("a control character is written as it is: %q", out)
			}
			if format == "sarif" {
				// The path is in a URI, percent-encoded.
				if !strings.Contains(out, `"uri": "dir/%1B%5B2J%7F%C2%9B%E2%80%AEfile"`) {
					t.Errorf("uri not percent-encoded:\n%s", out)
				}
				return
			}
			if !strings.Contains(out, `"path": "dir/\u001b[2J\u007f\u009b\u202efile"`) && !strings.Contains(out, `"path":"dir/\u001b[2J\u007f\u009b\u202efile"`) {
				t.Errorf("path not escaped:\n%s", out)
			}
			back, err := finding.Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fs, back, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
		})
	}
}

// Letters of any script are written as they are.
func TestTextOfOrdinaryFindings(t *testing.T) {
	t.Parallel()
	fs := []finding.Finding{{RuleID: "github-token", Description: "GitHub token", Secret: "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE",
		Commit: strings.Repeat("b", 40), Path: "docs/café 日本 #1.md", Line: 1, Column: 2, Author: "Zoë Ünal", Email: "z@example.com", Date: "2024-01-01T00:00:00Z"}}
	var buf bytes.Buffer
	if err := Write(&buf, fs, Options{Format: "text"}); err != nil {
		t.Fatal(err)
	}
	want := "docs/café 日本 #1.md  (1 finding)\n" +
		"  github-token  GitHub token\n" +
		"    Secret:      ghp_*****\n" +
		"    Location:    docs/café 日本 #1.md:1:2\n" +
		"    Commit:      bbbbbbbbbbbb\n" +
		"    Author:      Zoë Ünal <z@example.com>, 2024-01-01T00:00:00Z\n" +
		"    Fingerprint: " + finding.Fingerprint("github-token", "", fs[0].Secret) + "\n" +
		"    To do:       revoke it at https://github.com/settings/tokens and create a new one\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestQuotePath(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, want string }{
		{"deploy/prod.env", "deploy/prod.env"},
		{"docs/café 日本 #1.md", "docs/café 日本 #1.md"},
		{"conf\nprod\t\"x\".env", `"conf\nprod\t\"x\".env"`},
		{`back\slash`, `"back\\slash"`},
		{"a\x1b[2Jb\x7f", `"a\033[2Jb\177"`},
		{"bad\xffutf8", `"bad\377utf8"`},
		{"right\u202eleft", `"right\342\200\256left"`},
		{"c1\u009b", `"c1\302\233"`},
	}
	for _, tt := range tests {
		if got := QuotePath(tt.path); got != tt.want {
			t.Errorf("QuotePath(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
}
