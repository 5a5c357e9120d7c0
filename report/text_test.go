package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, which -update rewrites.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// The secrets of textFindings. The key id is AWS's documented example.
var (
	textToken  = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	textKeyID  = "AKIA" + "IOSFODNN7EXAMPLE"
	textSecret = "wJalrXUtnFEMI/" + "K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// textFindings are what a scan of a small history finds: two commits
// with files, a third with a password in its message; four rules, one of
// them twice.
func textFindings() []finding.Finding {
	c1, c2, c3 := strings.Repeat("1a", 20), strings.Repeat("2b", 20), strings.Repeat("3c", 20)
	account := "111122223333"
	stillThere := false
	alice := finding.Finding{Commit: c1, Subject: "Add release settings", Author: "Alice Example", Email: "alice@example.com", Date: "2026-03-01T09:30:00+01:00"}
	bob := finding.Finding{Commit: c2, Subject: "Move the bot's token next to the deploy settings", Author: "Bob", Email: "bob@example.com", Date: "2026-03-02T10:00:00Z"}
	in := func(base finding.Finding, f finding.Finding) finding.Finding {
		f.Commit, f.Subject, f.Author, f.Email, f.Date = base.Commit, base.Subject, base.Author, base.Email, base.Date
		return f
	}
	return []finding.Finding{
		in(alice, finding.Finding{RuleID: "github-token", Description: "GitHub token", Secret: textToken, Path: "config/app.py", Line: 4, Column: 17,
			Snippet: &finding.Snippet{Before: `GITHUB_TOKEN = "`, Match: textToken, After: `"  # the release bot`}}),
		in(alice, finding.Finding{RuleID: "aws-access-key", Description: "AWS access key id with its secret access key", Secret: textSecret,
			KeyID: textKeyID, AccountID: &account, Path: "deploy/prod.env", Line: 2, Column: 19,
			Snippet:      &finding.Snippet{Before: "AWS_ACCESS_KEY_ID=", Match: textKeyID},
			Exposure:     &finding.Exposure{Since: alice.Date, Commit: c1, StillInHead: &stillThere},
			Verification: &finding.Verification{Status: finding.StatusVerified, Account: account, ARN: "arn:aws:iam::111122223333:user/deploy"}}),
		in(bob, finding.Finding{RuleID: "github-token", Description: "GitHub token", Secret: textToken, Path: "deploy/prod.env", Line: 5, Column: 7,
			Snippet: &finding.Snippet{Before: "TOKEN=", Match: textToken}}),
		in(bob, finding.Finding{RuleID: "private-key", Description: "Private key (PEM or OpenSSH)", Secret: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
			Path: "testdata/id_ed25519", Line: 1, Column: 1, Snippet: &finding.Snippet{Match: "-----BEGIN OPENSSH PRIVATE KEY-----"}}),
		{RuleID: "generic-secret", Description: "High-entropy value assigned to a password, secret, token or key", Secret: "Zq8vT1mW4xR7pL2s",
			Commit: c3, Source: finding.SourceCommitMessage, Line: 3, Column: 10, Author: "Mallory", Email: "m@example.com", Date: "2026-03-03T00:00:00Z",
			Subject: "Deploy", Snippet: &finding.Snippet{Before: "password=", Match: "Zq8vT1mW4xR7pL2s"}},
	}
}

func TestTextGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		opts  Options
		group string
	}{
		{"text-file.golden", Options{}, ""},
		{"text-rule.golden", Options{GroupBy: "rule"}, "rule"},
		{"text-commit.golden", Options{GroupBy: "commit"}, "commit"},
		{"text-color.golden", Options{Color: true}, ""},
		{"text-redact-key-ids.golden", Options{RedactKeyIDs: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, textFindings(), tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.String())
			if strings.Contains(buf.String(), textToken) || strings.Contains(buf.String(), textSecret) {
				t.Error("a secret is in the text")
			}
		})
	}
}

// headings returns the lines of text that start a group (not indented),
// without their colors.
func headings(text string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line != "" && line[0] != ' ' {
			out = append(out, line)
		}
	}
	return out
}

func TestTextGroups(t *testing.T) {
	t.Parallel()
	byFile := []string{
		"config/app.py  (1 finding)",
		"deploy/prod.env  (2 findings)",
		"testdata/id_ed25519  (1 finding)",
		"commit message  (1 finding)",
	}
	tests := []struct {
		group string
		want  []string
	}{
		{"", byFile},
		{"file", byFile},
		{"rule", []string{
			"github-token  GitHub token  (2 findings)",
			"aws-access-key  AWS access key id with its secret access key  (1 finding)",
			"private-key  Private key (PEM or OpenSSH)  (1 finding)",
			"generic-secret  High-entropy value assigned to a password, secret, token or key  (1 finding)",
		}},
		{"commit", []string{
			"commit 1a1a1a1a1a1a  Add release settings  (2 findings)",
			"Author: Alice Example <alice@example.com>",
			"Date:   2026-03-01T09:30:00+01:00",
			"commit 2b2b2b2b2b2b  Move the bot's token next to the deploy settings  (2 findings)",
			"Author: Bob <bob@example.com>",
			"Date:   2026-03-02T10:00:00Z",
			"commit 3c3c3c3c3c3c  Deploy  (1 finding)",
			"Author: Mallory <m@example.com>",
			"Date:   2026-03-03T00:00:00Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.group, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, textFindings(), Options{GroupBy: tt.group}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, headings(buf.String())); diff != "" {
				t.Errorf("headings (-want +got):\n%s", diff)
			}
			// Every finding is shown once, whatever the grouping.
			if n := strings.Count(buf.String(), "    Fingerprint: "); n != len(textFindings()) {
				t.Errorf("%d findings shown, want %d", n, len(textFindings()))
			}
		})
	}
}

func TestTextGroupsOfASweepAndOfFilesOnDisk(t *testing.T) {
	t.Parallel()
	fs := []finding.Finding{
		{Repository: "acme/api", RuleID: "r", Secret: "x", Path: "a.env", Line: 1, Column: 1, Commit: "c1"},
		{Repository: "acme/web", RuleID: "r", Secret: "y", Path: "a.env", Line: 1, Column: 1, Commit: "c1"},
		{Repository: "acme/web", RuleID: "r", Secret: "z", Path: "a.env", Line: 2, Column: 1, Source: finding.SourceFile},
	}
	for group, want := range map[string][]string{
		"file":   {"acme/api: a.env  (1 finding)", "acme/web: a.env  (2 findings)"},
		"commit": {"acme/api: commit c1  (1 finding)", "acme/web: commit c1  (1 finding)", "acme/web: not in a commit  (1 finding)"},
	} {
		var buf bytes.Buffer
		if err := WriteFindings(&buf, fs, Options{GroupBy: group}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, headings(buf.String())); diff != "" {
			t.Errorf("%s: headings (-want +got):\n%s", group, diff)
		}
	}
}

func TestUnknownGrouping(t *testing.T) {
	t.Parallel()
	err := Write(new(bytes.Buffer), textFindings(), Options{GroupBy: "author"})
	if err == nil || !strings.Contains(err.Error(), `unknown grouping "author" (want one of file, rule, commit)`) {
		t.Errorf("err = %v", err)
	}
	for _, g := range append([]string{""}, GroupBys...) {
		if !ValidGroupBy(g) {
			t.Errorf("ValidGroupBy(%q) = false", g)
		}
	}
}

// width counts the columns of s as a terminal shows it, independently of
// runeWidth: the wide characters of the tests take two.
func width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x3040 && r <= 0x9fff:
			n += 2
		case r == 0x301:
		default:
			n++
		}
	}
	return n
}

func TestSnippetLineClips(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 200), strings.Repeat("b", 200)
	tests := []struct {
		name string
		sn   finding.Snippet
		want string
	}{
		{"short", finding.Snippet{Before: `k = "`, Match: "ghp_*****", After: `"`}, `k = "ghp_*****"`},
		{"match alone", finding.Snippet{Match: "-----BEGIN RSA PRIVATE KEY-----*****"}, "-----BEGIN RSA PRIVATE KEY-----*****"},
		{"long both sides", finding.Snippet{Before: a, Match: "ghp_*****", After: b},
			"…" + a[:44] + "ghp_*****" + b[:45] + "…"},
		{"long before, short after", finding.Snippet{Before: a, Match: "ghp_*****", After: `"`},
			"…" + a[:89] + "ghp_*****" + `"`},
		{"short before, long after", finding.Snippet{Before: `"`, Match: "ghp_*****", After: b},
			`"` + "ghp_*****" + b[:89] + "…"},
		{"exactly the width", finding.Snippet{Before: a[:45], Match: "ghp_*****", After: b[:46]}, a[:45] + "ghp_*****" + b[:46]},
		{"long match", finding.Snippet{Match: strings.Repeat("m", 300), After: "x"}, strings.Repeat("m", 65) + "…" + "x"},
		{"tab-indented", finding.Snippet{Before: "\t\tkey:\t\"", Match: "ab*****", After: "\"\t# note"}, "  key: \"ab*****\" # note"},
		{"multi-byte", finding.Snippet{Before: strings.Repeat("日本語", 40), Match: "ab*****", After: strings.Repeat("é", 100)},
			"…語" + strings.Repeat("日本語", 7) + "ab*****" + strings.Repeat("é", 47) + "…"},
		{"combining marks take no column", finding.Snippet{Match: "ab*****", After: strings.Repeat("e\u0301", 100)},
			"ab*****" + strings.Repeat("e\u0301", 92) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := snippetLine(&tt.sn, style{})
			if got != tt.want {
				t.Errorf("snippetLine =\n%q, want\n%q", got, tt.want)
			}
			if w := width(got); w > lineCols {
				t.Errorf("%d columns, want at most %d", w, lineCols)
			}
			if !utf8.ValidString(got) {
				t.Errorf("a character was cut: %q", got)
			}
		})
	}
}

func TestSnippetLineHighlightsTheMatch(t *testing.T) {
	t.Parallel()
	got := snippetLine(&finding.Snippet{Before: "k=", Match: "ab*****", After: ";"}, textStyle(true))
	if want := "k=\x1b[1;33mab*****\x1b[0m;"; got != want {
		t.Errorf("snippetLine = %q, want %q", got, want)
	}
}

// TestTextHostileSnippets writes lines built to attack the reader's
// terminal or layout: none reaches it as a control sequence, forges a
// line, or stretches the output.
func TestTextHostileSnippets(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("\x1b[2J\u202e日", 1<<18) // about 2 MB
	tests := []struct {
		name string
		sn   finding.Snippet
	}{
		{"terminal escapes", finding.Snippet{Before: "x = \x1b[2J\x1b]8;;http://evil\a", Match: "ab\x1b[31m", After: "\x9b\n    Fingerprint: forged"}},
		{"bidi overrides", finding.Snippet{Before: "\u202eevil\u2066", Match: "ab*****", After: "\u2069\u202c"}},
		{"invalid utf-8", finding.Snippet{Before: "\xff\xfe", Match: "a\xc3", After: "\xe6\x97"}},
		{"a line of megabytes", finding.Snippet{Before: huge, Match: huge, After: huge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, color := range []bool{false, true} {
				write := func(sn finding.Snippet) string {
					f := finding.Finding{RuleID: "generic-secret", Secret: "ab*****", Path: "a", Line: 1, Column: 1, Fingerprint: "generic-secret:00", Snippet: &sn}
					var buf bytes.Buffer
					if err := WriteFindings(&buf, []finding.Finding{f}, Options{Color: color}); err != nil {
						t.Fatal(err)
					}
					return buf.String()
				}
				out, plain := write(tt.sn), write(finding.Snippet{Before: "x", Match: "ab*****"})
				for _, c := range []string{"\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[2m", "\x1b[0m"} {
					out, plain = strings.ReplaceAll(out, c, ""), strings.ReplaceAll(plain, c, "")
				}
				checkNoControls(t, out, plain)
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, "    Line:") && width(line) > 4+13+lineCols {
						t.Errorf("the line takes %d columns:\n%s", width(line), line)
					}
				}
				if len(out) > 2000 {
					t.Errorf("%d bytes of text for one finding", len(out))
				}
			}
		})
	}
}

func TestTextClipsLongContent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 1<<20)
	fs := []finding.Finding{{RuleID: "r", Description: long, Secret: "ab*****", Commit: strings.Repeat("a", 40), Subject: long, Author: long, Email: long, Date: "2026",
		Path: "a", Line: 1, Column: 1, Fingerprint: "r:00"}}
	for _, group := range GroupBys {
		var buf bytes.Buffer
		if err := WriteFindings(&buf, fs, Options{GroupBy: group}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(buf.String(), "\n") {
			if width(line) > 200 {
				t.Errorf("%s: a line of %d columns: %.80s…", group, width(line), line)
			}
		}
	}
}

func TestCountsInText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want string
	}{
		{1, "a.env  (1 finding)\n"},
		{2, "a.env  (2 findings)\n"},
		{3, "a.env  (3 findings)\n"},
	}
	for _, tt := range tests {
		var fs []finding.Finding
		for i := range tt.n {
			fs = append(fs, finding.Finding{RuleID: "r", Secret: "s", Path: "a.env", Line: i + 1, Column: 1})
		}
		var buf bytes.Buffer
		if err := WriteFindings(&buf, fs, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), tt.want) {
			t.Errorf("%d findings: text starts %q, want %q", tt.n, buf.String()[:min(40, buf.Len())], tt.want)
		}
	}
	for _, tt := range []struct {
		n         int64
		one, want string
		irregular []string
	}{
		{0, "finding", "0 findings", nil},
		{1, "finding", "1 finding", nil},
		{2, "commit", "2 commits", nil},
		{1, "commit", "1 commit", nil},
		{2, "binary file", "2 binary files", nil},
		{2, "match", "2 matches", []string{"matches"}},
	} {
		if got := Count(tt.n, tt.one, tt.irregular...); got != tt.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tt.n, tt.one, got, tt.want)
		}
	}
}

// keyIDFindings are the findings of one key: the key id alone, and the
// key id with its secret, in a snippet that names the id again before the
// match and is cut in the middle of a third copy.
func keyIDFindings() []finding.Finding {
	account := "111122223333"
	return []finding.Finding{
		{RuleID: "aws-access-key-id", Description: "AWS access key id", Secret: textKeyID, KeyID: textKeyID, AccountID: &account,
			Commit: strings.Repeat("1a", 20), Subject: "add " + textKeyID, Path: "a.env", Line: 1, Column: 5,
			Snippet: &finding.Snippet{Before: "id: ", Match: textKeyID, After: " # " + textKeyID[:12]}},
		{RuleID: "aws-access-key", Description: "AWS access key id with its secret access key", Secret: textSecret, KeyID: textKeyID, AccountID: &account,
			Commit: strings.Repeat("1a", 20), Subject: "add " + textKeyID, Path: "b.csv", Line: 2, Column: 22,
			Snippet: &finding.Snippet{Before: textKeyID[10:] + "," + textKeyID + ",", Match: textSecret}},
	}
}

func TestRedactKeyIDsInEveryFormat(t *testing.T) {
	t.Parallel()
	want := finding.Redact(textKeyID)
	for _, format := range Formats {
		for _, noRedact := range []bool{false, true} {
			var shown, hidden bytes.Buffer
			if err := Write(&shown, keyIDFindings(), Options{Format: format, NoRedact: noRedact}); err != nil {
				t.Fatal(err)
			}
			if err := Write(&hidden, keyIDFindings(), Options{Format: format, NoRedact: noRedact, RedactKeyIDs: true}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(shown.String(), textKeyID) {
				t.Errorf("%s: the key id is not shown without RedactKeyIDs", format)
			}
			out := hidden.String()
			if strings.Contains(out, textKeyID[4:12]) {
				t.Errorf("%s (no-redact %v): the key id is in the report:\n%s", format, noRedact, out)
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %s in the report:\n%s", format, want, out)
			}
			if format != "sarif" && !strings.Contains(out, "111122223333") {
				t.Errorf("%s: the account is gone", format)
			}
		}
	}
}

func TestRedactKeyIDsKeepsFingerprints(t *testing.T) {
	t.Parallel()
	read := func(opts Options) []finding.Finding {
		var buf bytes.Buffer
		opts.Format = "json"
		if err := Write(&buf, keyIDFindings(), opts); err != nil {
			t.Fatal(err)
		}
		var fs []finding.Finding
		if err := json.Unmarshal(buf.Bytes(), &fs); err != nil {
			t.Fatal(err)
		}
		return fs
	}
	shown, hidden := read(Options{}), read(Options{RedactKeyIDs: true})
	for i := range shown {
		if shown[i].Fingerprint != hidden[i].Fingerprint || hidden[i].Fingerprint != finding.Fingerprint(shown[i].RuleID, textKeyID, "") {
			t.Errorf("fingerprint %s with the key id, %s without", shown[i].Fingerprint, hidden[i].Fingerprint)
		}
		if hidden[i].KeyID != "AKIA*****" || hidden[i].Account() != "111122223333" {
			t.Errorf("key_id %q, account %q", hidden[i].KeyID, hidden[i].Account())
		}
	}
	// The copy the clip cut is the secret of a key id alone: redacted
	// as such, as it is without RedactKeyIDs.
	if got, want := *hidden[0].Snippet, (finding.Snippet{Before: "id: ", Match: "AKIA*****", After: " # AK*****"}); got != want {
		t.Errorf("snippet %+v, want %+v", got, want)
	}
	if got, want := hidden[1].Snippet.Before, "*****,AKIA*****,"; got != want {
		t.Errorf("snippet before the match %q, want %q", got, want)
	}
	if got, want := hidden[1].Subject, "add AKIA*****"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
}

// A secret in a commit message's first line is in the subject every
// finding of that commit carries.
func TestSecretsHiddenInSubjects(t *testing.T) {
	t.Parallel()
	c := strings.Repeat("5e", 20)
	fs := []finding.Finding{
		{RuleID: "github-token", Secret: textToken, Commit: c, Subject: "use " + textToken + " for now", Source: finding.SourceCommitMessage, Line: 1, Column: 5},
		{RuleID: "aws-access-key", Secret: textSecret, KeyID: textKeyID, Commit: c, Subject: "use " + textToken + " for now", Path: "a.env", Line: 1, Column: 1},
	}
	for _, format := range []string{"text", "json", "jsonl"} {
		var buf bytes.Buffer
		if err := Write(&buf, fs, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), textToken[4:20]) {
			t.Errorf("%s: the token is in a subject:\n%s", format, buf.String())
		}
		if !strings.Contains(buf.String(), "use ghp_***** for now") {
			t.Errorf("%s: the subject is gone:\n%s", format, buf.String())
		}
		buf.Reset()
		if err := Write(&buf, fs, Options{Format: format, NoRedact: true}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "use "+textToken+" for now") {
			t.Errorf("%s: --no-redact hides the subject's secret", format)
		}
	}
}

// linkHosts are the hosts advice may link to: the providers' own.
var linkHosts = map[string]bool{
	"console.aws.amazon.com": true, "github.com": true, "gitlab.com": true, "api.slack.com": true, "dashboard.stripe.com": true,
	"console.cloud.google.com": true, "myaccount.google.com": true, "platform.openai.com": true, "console.anthropic.com": true,
	"www.npmjs.com": true, "pypi.org": true, "app.sendgrid.com": true, "console.twilio.com": true, "cloud.digitalocean.com": true,
	"dashboard.heroku.com": true, "portal.azure.com": true, "entra.microsoft.com": true, "huggingface.co": true,
}

func TestAdviceTable(t *testing.T) {
	t.Parallel()
	rules := map[string]bool{}
	for _, r := range detectors.Catalog() {
		rules[r.ID] = true
	}
	seen := map[string]bool{}
	link := regexp.MustCompile(`[a-z]+://[^ )]+`)
	for _, a := range append(adviceTable(), advice{do: gcpAdvice}, advice{do: genericAdvice}) {
		for _, id := range a.rules {
			if !rules[id] {
				t.Errorf("advice for %q, a rule the catalog lacks", id)
			}
			if seen[id] {
				t.Errorf("two pieces of advice for %q", id)
			}
			seen[id] = true
		}
		if a.do == "" || a.do != strings.TrimSpace(a.do) || strings.HasSuffix(a.do, ".") || Escape(a.do) != a.do {
			t.Errorf("advice %q: want one line, no final period", a.do)
		}
		for _, u := range link.FindAllString(a.do, -1) {
			host, _, _ := strings.Cut(strings.TrimPrefix(u, "https://"), "/")
			if !strings.HasPrefix(u, "https://") || !linkHosts[host] {
				t.Errorf("advice %q links to %s", a.do, u)
			}
		}
	}
	for _, tt := range []struct {
		f    finding.Finding
		want string
	}{
		{finding.Finding{RuleID: "github-token"}, "revoke it at https://github.com/settings/tokens and create a new one"},
		{finding.Finding{RuleID: "aws-access-key-id"}, "deactivate and rotate the key in IAM: https://console.aws.amazon.com/iam/home#/security_credentials"},
		{finding.Finding{RuleID: "private-key"}, "remove it from the repository's history and replace the key pair"},
		{finding.Finding{RuleID: "private-key", Context: map[string]string{"client_email": "x@evil.example"}}, gcpAdvice},
		{finding.Finding{RuleID: "my-custom-rule"}, "rotate the credential where it was issued"},
	} {
		if got := Advice(tt.f); got != tt.want {
			t.Errorf("Advice(%s) = %q, want %q", tt.f.RuleID, got, tt.want)
		}
	}
}

// FuzzSnippetLine: whatever a line holds, it is shown on one line of at
// most lineCols columns, escaped, its characters whole.
func FuzzSnippetLine(f *testing.F) {
	f.Add("k = \"", "ghp_*****", "\" # x")
	f.Add("\x1b[2J\u202e", "a\xc3", "\t\n\u2066")
	f.Add(strings.Repeat("日本", 80), strings.Repeat("m", 90), strings.Repeat("e\u0301", 90))
	f.Fuzz(func(t *testing.T, before, match, after string) {
		got := snippetLine(&finding.Snippet{Before: before, Match: match, After: after}, style{})
		if hasUnsafe(got) {
			t.Fatalf("a control character is shown: %q", got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		w := 0
		for _, r := range got {
			w += runeWidth(r)
		}
		if w > lineCols {
			t.Fatalf("%d columns: %q", w, got)
		}
	})
}

// A secret within another's copy in a subject leaves nothing of either.
func TestNestedSecretsHiddenInSubjects(t *testing.T) {
	t.Parallel()
	inner, outer := "Zq8vT1mW4xR7pL2s", "prefix-Zq8vT1mW4xR7pL2s-suffix9"
	c := strings.Repeat("6f", 20)
	fs := []finding.Finding{
		{RuleID: "generic-secret", Secret: inner, Commit: c, Subject: "set " + outer, Path: "a", Line: 1, Column: 1},
		{RuleID: "generic-secret", Secret: outer, Commit: c, Subject: "set " + outer, Path: "b", Line: 1, Column: 1},
	}
	for _, f := range Prepare(fs, Options{}) {
		if f.Subject != "set pref*****" {
			t.Errorf("subject %q, want %q", f.Subject, "set pref*****")
		}
	}
}
