package config

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/detectors"
)

func TestImportGitleaks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		want    Config
		dropped []string // substrings, one per Dropped line, in order
	}{
		{
			name: "only the file's rules without useDefault",
			file: "[[rules]]\nid = \"acme\"\nregex = '''acme_(?:live|test)_([a-z0-9]{24})'''\nkeywords = [\"acme_live_\", \"acme_test_\"]\nentropy = 3\n",
			want: Config{Rules: Rules{
				Enable: []string{"acme"},
				Custom: []CustomRule{{ID: "acme", Keywords: []string{"acme_live_", "acme_test_"}, Regex: `acme_(?:live|test)_(?P<secret>[a-z0-9]{24})`, Entropy: 3}},
			}},
		},
		{
			name: "secretGroup names that group, and only it secret",
			file: "[extend]\nuseDefault = true\n[[rules]]\nid = \"two\"\nregex = '''(?P<secret>tok)_(x[0-9]{8})|y\\((z+)\\)'''\nsecretGroup = 2\nkeywords = [\"tok_\", \"y(z\"]\n",
			want: Config{Rules: Rules{
				Custom: []CustomRule{{ID: "two", Keywords: []string{"tok_", "y(z"}, Regex: `(?P<secret_1>tok)_(?P<secret>x[0-9]{8})|y\((z+)\)`}},
			}},
		},
		{
			name: "group 1 that a match may leave unset",
			file: "[extend]\nuseDefault = true\n[[rules]]\nid = \"alt\"\nregex = '''key=(?:([a-f0-9]{32})|\"([a-f0-9]{40})\")'''\nkeywords = [\"key=\"]\n",
			want: Config{Rules: Rules{
				Custom: []CustomRule{{ID: "alt", Keywords: []string{"key="}, Regex: `key=(?:(?P<secret>[a-f0-9]{32})|"([a-f0-9]{40})")`}},
			}},
			dropped: []string{"first of the regex's 2 groups"},
		},
		{
			name: "a rule's path and AND allowlists",
			file: "[extend]\nuseDefault = true\n[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{24}'''\npath = '''\\.env$'''\n" +
				"[[rules.allowlists]]\ncondition = \"AND\"\npaths = ['''^docs/''']\nstopwords = [\"example\"]\n" +
				"[[rules.allowlists]]\ncondition = \"AND\"\nstopwords = [\"Sample\"]\n" +
				"[[rules.allowlists]]\nregexTarget = \"match\"\nregexes = ['''_0+$''']\n",
			want: Config{Rules: Rules{
				Custom: []CustomRule{{ID: "acme", Keywords: []string{"acme_"}, Regex: `acme_[a-z0-9]{24}`,
					Allowlist: Allowlist{Stopwords: []string{"sample"}, Regexes: []string{`_0+$`}}}},
			}},
			dropped: []string{`path = "\\.env$"`, "condition = AND"},
		},
		{
			name: "extending default rules, global allowlists",
			file: "[extend]\nuseDefault = true\ndisabledRules = [\"generic-api-key\", \"jwt\", \"github-pat\", \"no-such\"]\n" +
				"[[rules]]\nid = \"aws-access-token\"\n[[rules.allowlists]]\nregexes = ['''EXAMPLE$''']\n" +
				"[[allowlists]]\ntargetRules = [\"gitlab-pat\"]\npaths = ['''^ci/''']\n" +
				"[[allowlists]]\npaths = ['''(^|/)vendor/''']\ncommits = [\"0123456789ABCDEF0123456789abcdef01234567\", \"abc\"]\n" +
				"[[allowlists]]\nregexTarget = \"line\"\nregexes = ['''fake''']\n",
			want: Config{
				Rules: Rules{
					Disable: []string{"generic-secret", "jwt"},
					Allowlist: map[string]Allowlist{
						"aws-access-key-id": {Regexes: []string{`EXAMPLE$`}},
						"gitlab-pat":        {PathRegexes: []string{`^ci/`}},
					},
				},
				Allowlist: Allowlist{PathRegexes: []string{`(^|/)vendor/`}, Commits: []string{"0123456789abcdef0123456789abcdef01234567"}},
			},
			dropped: []string{`regexTarget = "line"`, `"github-pat" is part of keysweep's github-token`, `"no-such" has no keysweep equivalent`},
		},
		{
			name: "keywords read from the regex",
			file: "[extend]\nuseDefault = true\n[[rules]]\nid = \"ab\"\nregex = '''(?i)(?:foo|bar)_tok_[a-z]{10}'''\nkeywords = [\"fo\"]\n",
			want: Config{Rules: Rules{
				Custom: []CustomRule{{ID: "ab", Keywords: []string{"foo_tok_", "bar_tok_"}, Regex: `(?i)(?:foo|bar)_tok_[a-z]{10}`}},
			}},
		},
		{
			name: "what keysweep cannot run",
			file: "[extend]\nuseDefault = true\n" +
				"[[rules]]\nid = \"short\"\nregex = '''[0-9a-f]{40}'''\n" +
				"[[rules]]\nid = \"files\"\npath = '''id_rsa$'''\n" +
				"[[rules]]\nid = \"empty\"\nregex = '''x*'''\nkeywords = [\"xxx\"]\n" +
				"[[rules]]\nid = \"private-key\"\nregex = '''-----BEGIN[ A-Z]*PRIVATE KEY-----[\\s\\S]*?-----END'''\nkeywords = [\"-----begin\"]\n[[rules.required]]\nid = \"files\"\n" +
				"newKey = 1\n",
			want: Config{Rules: Rules{
				Custom: []CustomRule{{ID: "private-key-gitleaks", Keywords: []string{"-----begin"}, Regex: `-----BEGIN[ A-Z]*PRIVATE KEY-----[\s\S]*?-----END`, Multiline: true}},
			}},
			// Unknown keys are said as the file is read, first.
			dropped: []string{`"rules[3].required[0].newKey": unknown key`, `rule "short": has no keyword`, `rule "files": matches file paths only`, `rule "empty": the regex matches the empty string`, `rule "private-key": [[rules.required]]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			im, err := ImportGitleaks(".gitleaks.toml", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, im.Config, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Config{}, "Source")); diff != "" {
				t.Errorf("config (-want +got):\n%s\n%s", diff, im.Text)
			}
			if len(im.Dropped) != len(tt.dropped) {
				t.Fatalf("dropped %d: %q, want %d: %q", len(im.Dropped), im.Dropped, len(tt.dropped), tt.dropped)
			}
			for i, want := range tt.dropped {
				if !strings.Contains(im.Dropped[i], want) {
					t.Errorf("dropped[%d] = %q, want it to say %q", i, im.Dropped[i], want)
				}
			}
			// The text is what Config is, and says what was dropped.
			back, err := Parse("text", im.Text)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(im.Config, back, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Config{}, "Source")); diff != "" {
				t.Errorf("text does not read back as Config (-want +got):\n%s", diff)
			}
			if len(tt.dropped) > 0 && !strings.Contains(string(im.Text), "# Not carried over:") {
				t.Errorf("text does not list what was dropped:\n%s", im.Text)
			}
		})
	}
}

func TestImportGitleaksErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, file, want string }{
		{"syntax", "[[rules]\n", "expected end of table array name"},
		{"not UTF-8", "title = \"\xff\"\n", "not UTF-8"},
		{"no id", "[[rules]]\nregex = 'abc'\n", "no id"},
		{"bad regex", "[[rules]]\nid = \"x\"\nregex = '(?<!a)b'\n", `rule "x": regex`},
		{"secret group too large", "[[rules]]\nid = \"x\"\nregex = 'a(b)c'\nsecretGroup = 2\n", "secretGroup 2"},
		{"no regex nor path", "[[rules]]\nid = \"x\"\n", "neither regex nor path"},
		{"both extends", "[extend]\nuseDefault = true\npath = \"x.toml\"\n", "both useDefault and path"},
		{"empty allowlist", "[allowlist]\ndescription = \"x\"\n", "empty allowlist"},
		{"bad condition", "[allowlist]\ncondition = \"XOR\"\npaths = ['a']\n", "condition"},
		{"bad target", "[allowlist]\nregexTarget = \"file\"\nregexes = ['a']\n", "regexTarget"},
		{"wrong type", "[[rules]]\nid = \"x\"\nregex = 'abc'\nkeywords = \"abc\"\n", "keywords: want an array of strings"},
		{"keys differ in case only", "[[rules]]\nid = \"x\"\nregex = 'abc'\nRegex = 'abd'\n", "the same to gitleaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ImportGitleaks("g.toml", []byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestNameSecretGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		n    int
		want string
	}{
		{`a(b)c`, 1, `a(?P<secret>b)c`},
		{`\(x\)(y)`, 1, `\(x\)(?P<secret>y)`},
		{`[(](a)(?:b)(c)`, 2, `[(](a)(?:b)(?P<secret>c)`},
		{`[]()](a)`, 1, `[]()](?P<secret>a)`},
		{`[[:alpha:](](a)`, 1, `[[:alpha:](](?P<secret>a)`},
		{`\Q(\E(a)`, 1, `\Q(\E(?P<secret>a)`},
		{`(?i)(?P<tok>a)(?<secret>b)`, 1, `(?i)(?P<secret>a)(?<secret_2>b)`},
	}
	for _, tt := range tests {
		got, err := nameSecretGroup(tt.expr, tt.n)
		if err != nil || got != tt.want {
			t.Errorf("nameSecretGroup(%q, %d) = %q, %v; want %q", tt.expr, tt.n, got, err, tt.want)
		}
	}
}

func TestMustContain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		{`ghp_[A-Za-z0-9]{36}`, []string{"ghp_"}},
		{`(?i)(?:twilio|sendgrid)[^=]*=\s*(\w+)`, []string{"twilio", "sendgrid"}},
		{`(?:AKIA)?[A-Z0-9]{16}`, nil},
		{`ab+c`, nil},
		{`(xyzw){2,}`, []string{"xyzw"}},
		{`(?i)\x{00e9}tok_en`, []string{"tok_en"}},
		{`FOO_(bar)`, []string{"foo_bar"}},
	}
	for _, tt := range tests {
		re, err := syntax.Parse(tt.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, mustContain(re)); diff != "" {
			t.Errorf("mustContain(%q) (-want +got):\n%s", tt.expr, diff)
		}
	}
}

func TestGitleaksEquivalentsExist(t *testing.T) {
	t.Parallel()
	builtin := builtinIDs()
	seen := map[string]bool{}
	for _, e := range gitleaksEquivalents() {
		for _, k := range e.keysweep {
			if !builtin[k] {
				t.Errorf("%v maps to %q, which is not a keysweep rule", e.gitleaks, k)
			}
		}
		for _, g := range e.gitleaks {
			if seen[g] {
				t.Errorf("%q is listed twice", g)
			}
			seen[g] = true
		}
	}
}

func TestGitleaksIgnores(t *testing.T) {
	t.Parallel()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	g, err := ParseGitleaksIgnores(".gitleaksignore", []byte("# comment\n\n"+
		strings.ToUpper(commit)+":src/a.go:generic-api-key:12\n"+
		`C:\repo\b.txt:aws-access-token:3`+"\n"+
		"dir/with:colon.txt:private-key:1\n"+
		"c.txt:custom-rule:7\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule, path, commit string
		line               int
		want               bool
	}{
		{detectors.GenericRule, "src/a.go", commit, 12, true},
		{detectors.GenericRule, "src/a.go", "ffffffffffffffffffffffffffffffffffffffff", 12, false},
		{detectors.GenericRule, "src/a.go", commit, 13, false},
		{"github-token", "src/a.go", commit, 12, false},
		{detectors.AWSKeyRule, "C:/repo/b.txt", "", 3, true},
		{detectors.AWSKeyIDRule, "C:/repo/b.txt", commit, 3, true},
		{"private-key", "dir/with:colon.txt", "", 1, true},
		{"custom-rule", "c.txt", "", 7, true},
		{detectors.GenericRule, "c.txt", "", 7, false},
	}
	for _, tt := range tests {
		if got := g.Match(tt.rule, tt.path, tt.commit, tt.line); got != tt.want {
			t.Errorf("Match(%s, %s, %.7s, %d) = %v, want %v", tt.rule, tt.path, tt.commit, tt.line, got, tt.want)
		}
	}
	if diff := cmp.Diff([]string{"custom-rule"}, g.Unmapped()); diff != "" {
		t.Errorf("Unmapped (-want +got):\n%s", diff)
	}
	if n := len(g.Unused()); n != 0 {
		t.Errorf("%d unused, want 0", n)
	}

	for _, bad := range []string{"a.txt:rule", "a.txt:rule:0", "a.txt:rule:x", "a.txt::3", ":rule:3", commit + "::rule:3", "a.txt:rule:+3"} {
		if _, err := ParseGitleaksIgnores("f", []byte("# ok\n"+bad+"\n")); err == nil || !strings.Contains(err.Error(), "f:2:") {
			t.Errorf("%q: err = %v, want one naming f:2", bad, err)
		}
	}
}

func FuzzImportGitleaks(f *testing.F) {
	f.Add("[extend]\nuseDefault = true\n[[rules]]\nid = \"a\"\nregex = '''a(b+)c'''\nkeywords = [\"abc\"]\n[[rules.allowlists]]\nregexes = ['x']\n")
	f.Add("[[rules]]\nid = \"x\"\nregex = '''(?i)key=([a-z]{9})'''\nsecretGroup = 1\n[allowlist]\npaths = ['a']\n")
	f.Add("[[allowlists]]\ntargetRules = [\"x\"]\ncondition = \"AND\"\npaths = ['a']\ncommits = ['b']\n")
	f.Fuzz(func(t *testing.T, s string) {
		im, err := ImportGitleaks("f", []byte(s))
		if err != nil {
			if strings.Contains(err.Error(), "please report this") {
				t.Fatalf("the import does not load: %v\n%q", err, s)
			}
			return
		}
		for _, cr := range im.Config.Rules.Custom {
			regexp.MustCompile(cr.Regex)
		}
	})
}

func FuzzParseGitleaksIgnores(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef01234567:a:b:1\n# c\nx:y:2\n")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGitleaksIgnores("f", []byte(s))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		g.Match("r", "p", "", 1)
		_ = g.Unmapped()
	})
}
