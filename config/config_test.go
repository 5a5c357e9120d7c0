package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"unknown top-level key", "[allowlists]\npaths = []\n", `unknown key "allowlists`},
		{"unknown nested key", "[allowlist]\npath = [\"x\"]\n", `unknown key "allowlist.path"`},
		{"unknown rule key", "[[rules.custom]]\nid = \"a-rule\"\nregex = \"x{3}\"\nkeywords = [\"abc\"]\nkeyword = 1\n", `unknown key "rules.custom.keyword"`},
		{"syntax", "[rules\n", "expected '.' or ']'"},
		{"bad regex", "[[rules.custom]]\nid = \"acme\"\nkeywords = [\"acme\"]\nregex = \"acme_(\"\n", "rules.custom[0] (acme).regex: error parsing regexp"},
		{"empty-matching regex", "[[rules.custom]]\nid = \"acme\"\nkeywords = [\"acme\"]\nregex = \"a*\"\n", "matches the empty string"},
		{"no keywords", "[[rules.custom]]\nid = \"acme\"\nregex = \"acme_[0-9]+\"\n", "keywords are required"},
		{"short keyword", "[[rules.custom]]\nid = \"acme\"\nkeywords = [\"ac\"]\nregex = \"acme_[0-9]+\"\n", "shorter than 3"},
		{"clashing id", "[[rules.custom]]\nid = \"github-token\"\nkeywords = [\"acme\"]\nregex = \"acme_[0-9]+\"\n", "exists already"},
		{"bad id", "[[rules.custom]]\nid = \"Acme Key\"\nkeywords = [\"acme\"]\nregex = \"acme_[0-9]+\"\n", "want lower-case"},
		{"unknown rule disabled", "[rules]\ndisable = [\"no-such-rule\"]\n", `rules.disable: unknown rule "no-such-rule"`},
		{"unknown rule enabled", "[rules]\nenable = [\"nope\"]\n", `rules.enable: unknown rule "nope"`},
		{"entropy out of range", "[rules.entropy]\ngeneric-secret = 9.5\n", "want 0 to 8"},
		{"bad allowlist regex", "[allowlist]\nregexes = [\"(\"]\n", "allowlist.regexes"},
		{"bad commit", "[allowlist]\ncommits = [\"abc\"]\n", "not a full commit id"},
		{"bad glob", "[allowlist]\npaths = [\"a/[b\"]\n", "unclosed ["},
		{"wrong type", "[allowlist]\npaths = \"testdata\"\n", "line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(".keysweep.toml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

const sample = `
[rules]
disable = ["slack-webhook"]

[rules.entropy]
generic-secret = 4.5

[[rules.custom]]
id = "acme-api-key"
description = "Acme Corp API key"
keywords = ["acme_live_"]
regex = '''acme_live_(?P<secret>[a-z0-9]{24})'''
entropy = 3.0
[rules.custom.allowlist]
paths = ["docs/**"]

[rules.allowlist.private-key]
paths = ["**/testdata/**"]

[allowlist]
paths = ["vendor/", "*.lock"]
regexes = ['''^AKIA.*TEST$''']
stopwords = ["not-a-secret"]
commits = ["0123456789012345678901234567890123456789"]
`

func TestApply(t *testing.T) {
	t.Parallel()
	c, err := Parse("x.toml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	rules := c.Apply(detectors.Catalog())
	byID := map[string]detectors.Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	if r, ok := byID["slack-webhook"]; ok && !r.Silent {
		t.Error("disabled rule still reports")
	}
	if byID["generic-secret"].MinEntropy != 4.5 {
		t.Errorf("entropy not applied: %v", byID["generic-secret"].MinEntropy)
	}
	if r, ok := byID["acme-api-key"]; !ok || r.Description != "Acme Corp API key" {
		t.Fatalf("custom rule missing: %+v", r)
	}
	e := detectors.New(rules)
	tok := "acme_live_" + "k3j9x2m8q7w4p1z6r5t0y8u2"
	ms := e.Scan("app.conf", []byte("key = "+tok+"\nother = acme_live_aaaaaaaaaaaaaaaaaaaaaaaa\n"))
	if len(ms) != 1 || ms[0].Secret != "k3j9x2m8q7w4p1z6r5t0y8u2" || ms[0].RuleID != "acme-api-key" {
		t.Errorf("custom rule matches: %+v", ms)
	}
	// The global stopword reaches built-in rules.
	if ms := e.Scan("a.env", []byte("GITHUB_TOKEN=ghp_"+"R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE # not-a-secret\n")); len(ms) != 1 {
		t.Errorf("a stopword must match the secret, not the line: %+v", ms)
	}

	f := c.Filter()
	for _, tt := range []struct {
		rule, path, commit string
		want               bool
	}{
		{"github-token", "vendor/x/y.go", "", true},
		{"github-token", "src/vendor.go", "", false},
		{"github-token", "deep/dir/yarn.lock", "", true},
		{"github-token", "src/main.go", "0123456789012345678901234567890123456789", true},
		{"private-key", "pkg/testdata/key.pem", "", true},
		{"github-token", "pkg/testdata/key.pem", "", false},
		{"acme-api-key", "docs/guide/setup.md", "", true},
		{"acme-api-key", "src/docs.go", "", false},
	} {
		if got := f.Allows(tt.rule, tt.path, tt.commit); got != tt.want {
			t.Errorf("Allows(%s, %s, %s) = %v, want %v", tt.rule, tt.path, tt.commit, got, tt.want)
		}
	}
}

func TestGlobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"*.pem", "a/b/key.pem", true},
		{"*.pem", "key.pem.txt", false},
		{"test/**", "test/a/b.go", true},
		{"test/**", "src/test/a.go", false},
		{"**/test/**", "src/test/a.go", true},
		{"**/fixtures/*.json", "x/fixtures/a.json", true},
		{"**/fixtures/*.json", "x/fixtures/d/a.json", false},
		{"docs/", "docs/a.md", true},
		{"docs", "pkg/docs/a.md", true},
		{"/docs", "docs/a.md", true},
		{"src/?.go", "src/a.go", true},
		{"src/?.go", "src/ab.go", false},
		{"src/[ab].go", "src/b.go", true},
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.glob)
		if err != nil {
			t.Fatalf("%s: %v", tt.glob, err)
		}
		if got := re.MatchString(tt.path); got != tt.want {
			t.Errorf("glob %q on %q = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

func TestIgnores(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	text := `# ignores
github-token:0123456789abcdef  a test token of the docs
aws-access-key:1111111111111111 expires=2026-12-31 rotated, waiting for the history rewrite
private-key:2222222222222222 expires=2026-05-01 fixture, to be moved
generic-secret:3333333333333333 never seen
`
	ig, err := ParseIgnores(".keysweepignore", []byte(text), now)
	if err != nil {
		t.Fatal(err)
	}
	for fp, want := range map[string]bool{
		"github-token:0123456789abcdef":   true,
		"aws-access-key:1111111111111111": true,
		"private-key:2222222222222222":    false, // expired
		"slack-token:4444444444444444":    false,
	} {
		if got := ig.Match(fp); got != want {
			t.Errorf("Match(%s) = %v, want %v", fp, got, want)
		}
	}
	if u := ig.Unused(); len(u) != 1 || u[0].Fingerprint != "generic-secret:3333333333333333" || u[0].Line != 5 {
		t.Errorf("unused = %+v", u)
	}
	if x := ig.Expired(); len(x) != 1 || x[0].Fingerprint != "private-key:2222222222222222" {
		t.Errorf("expired = %+v", x)
	}

	for _, bad := range []struct{ text, want string }{
		{"github-token:0123456789abcdef\n", "has no reason"},
		{"not-a-fingerprint because\n", "is not a fingerprint"},
		{"github-token:0123456789abcdef expires=tomorrow why\n", "bad expiry"},
		{"github-token:0123456789abcdef a\ngithub-token:0123456789abcdef b\n", "already ignored on line 1"},
	} {
		if _, err := ParseIgnores("f", []byte(bad.text), now); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err = %v, want %q", bad.text, err, bad.want)
		}
	}
}

func TestBaseline(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(p, []byte(`[{"rule_id":"github-token","description":"d","secret":"gh*****","commit":"c","path":"a.env","line":1,"column":1,"author":"","email":"","date":"","fingerprint":"github-token:0123456789abcdef"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(p)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Has("github-token:0123456789abcdef", "a.env") || b.Has("github-token:0123456789abcdef", "b.env") {
		t.Error("baseline matches by fingerprint and path")
	}
	if _, err := LoadBaseline(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("missing baseline: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("[rules]\ndisable = [\"generic-secret\"]\n"))
	f.Add([]byte("[[rules.custom]]\nid='x'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.toml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		// Whatever loads must compile and run.
		detectors.New(c.Apply(detectors.Catalog())).Scan("a", []byte("token = abc"))
		c.Filter().Allows("r", "p", "c")
	})
}

func FuzzParseIgnores(f *testing.F) {
	f.Add([]byte("github-token:0123456789abcdef expires=2027-01-01 docs\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ig, err := ParseIgnores("f", data, time.Now())
		if err == nil {
			ig.Match("github-token:0123456789abcdef")
			ig.Unused()
			ig.Expired()
		}
	})
}

// Ignore files and baselines written before fingerprints were salted and
// slow keep suppressing the same secrets.
func TestLegacyFingerprintsStillSuppress(t *testing.T) {
	t.Parallel()
	const rule, secret, path = "generic-secret", "s3cr3t-value-1", "app/settings.py"
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, fp := finding.LegacyFingerprint(rule, "", secret), finding.Fingerprint(rule, "", secret)
	other := "other-secret-value"
	otherFP, otherOld := finding.Fingerprint(rule, "", other), finding.LegacyFingerprint(rule, "", other)

	dir := t.TempDir()
	ignoreFile := filepath.Join(dir, IgnoreFileName)
	if err := os.WriteFile(ignoreFile, []byte(old+" a value of the tutorial, not a secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	baseFile := filepath.Join(dir, "baseline.json")
	base := `[{"rule_id":"` + rule + `","description":"d","secret":"s3*****","commit":"c","path":"` + path +
		`","line":1,"column":1,"author":"","email":"","date":"","fingerprint":"` + old + `"}]`
	if err := os.WriteFile(baseFile, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := LoadIgnores(ignoreFile, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(baseFile)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		sup  *Suppressor
		fp   string
		old  []string
		want bool
		by   string
	}{
		{"old ignore", &Suppressor{Ignores: ig}, fp, []string{old}, false, ByIgnore},
		{"old baseline", &Suppressor{Baseline: b}, fp, []string{old}, false, ByBaseline},
		{"other secret", &Suppressor{Ignores: ig, Baseline: b}, otherFP, []string{otherOld}, true, ""},
		{"new fingerprint only", &Suppressor{Baseline: b}, fp, nil, true, ""},
	}
	for _, tt := range tests {
		if got := tt.sup.Keep(rule, path, "c", tt.fp, tt.old...); got != tt.want {
			t.Errorf("%s: Keep = %v, want %v", tt.name, got, tt.want)
		}
		if tt.by != "" && tt.sup.Counts[tt.by] != 1 {
			t.Errorf("%s: counts = %v, want one %s", tt.name, tt.sup.Counts, tt.by)
		}
	}

	// The ignore was used, and is named with its new fingerprint so that
	// the file can be moved off the old one.
	if u := ig.Unused(); len(u) != 0 {
		t.Errorf("unused = %+v", u)
	}
	if l := ig.Legacy(); len(l) != 1 || l[0].Fingerprint != old || l[0].Replacement != fp || l[0].Line != 1 {
		t.Errorf("legacy = %+v, want the ignore of %s to be replaced by %s", l, old, fp)
	}

	// An ignore file that has the new fingerprint as well: both are used,
	// neither is legacy once the new one matched.
	both, err := ParseIgnores("f", []byte(old+" old\n"+fp+" new\n"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !both.Match(fp, old) {
		t.Error("Match of a secret ignored twice = false")
	}
	if u, l := both.Unused(), both.Legacy(); len(u) != 0 || len(l) != 0 {
		t.Errorf("unused = %+v, legacy = %+v", u, l)
	}
}
