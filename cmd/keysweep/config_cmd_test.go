package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/internal/gittest"
)

// A gitleaks configuration as teams write them: the defaults extended,
// rules of their own with allowlists, a global allowlist, and settings
// keysweep cannot express.
const teamGitleaks = `title = "acme"

[extend]
useDefault = true

[[rules]]
id = "acme-api-key"
description = "Acme API key"
regex = '''(?i)acme_key\s*=\s*"(acme_[a-z0-9]{32})"'''
secretGroup = 1
keywords = ["acme_key"]
tags = ["acme"]
[[rules.allowlists]]
regexes = ['''^acme_0+$''']
[[rules.allowlists]]
paths = ['''(^|/)fixtures/''']

[[rules]]
id = "Internal_Token"
regex = '''itok_[A-Za-z0-9]{24}'''
path = '''\.env$'''
[rules.allowlist]
regexTarget = "line"
regexes = ['''#\s*fake''']

[[rules]]
id = "generic-api-key"
[[rules.allowlists]]
stopwords = ["notasecret"]

[allowlist]
description = "vendored code"
paths = ['''(^|/)vendor/''']
`

// Secrets assembled at run time, so that this file holds none.
var (
	acmeKey   = "acme_" + "k3j9x0q2m7v1c8b4n6z5l2p9r3t7y1w0"
	acmeZero  = "acme_" + strings.Repeat("0", 32)
	itok      = "itok_" + "Ab3dEf6hIj9lMn2pQr5tUv8x"
	acmeOther = "acme_" + "q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3"
)

func TestConfigImportThenScan(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	gl := filepath.Join(t.TempDir(), ".gitleaks.toml")
	if err := os.WriteFile(gl, []byte(teamGitleaks), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(r.Dir, config.FileName)
	code, stdout, stderr := runCLI(t, "config", "import", gl, "-o", out)
	if code != exitFindings {
		t.Fatalf("import: exit %d, want 1 (something is not carried over); stderr:\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	for _, want := range []string{
		`not carried over: rule "Internal_Token": path = "\\.env$"`,
		`not carried over: rule "Internal_Token" [allowlist]: regexTarget = "line"`,
		`note: rule "acme-api-key": tags "acme" left out`,
		`note: rule "Internal_Token" is imported as "internal-token"`,
		"wrote " + out + ": 2 rules from " + gl + "; 2 settings not carried over\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(line, "keysweep: ") {
			t.Errorf("stderr line %q is not a keysweep line", line)
		}
	}
	// keysweep's own loader reads the result.
	if _, err := config.Load(out); err != nil {
		t.Fatalf("the imported file does not load: %v", err)
	}

	// A second import does not overwrite it; --force does.
	if code, _, stderr := runCLI(t, "config", "import", gl, "-o", out); code != exitError || !strings.Contains(stderr, "use --force") {
		t.Errorf("second import: exit %d, stderr %q; want 2 and --force named", code, stderr)
	}
	if code, _, stderr := runCLI(t, "config", "import", gl, "-o", out, "--force"); code != exitFindings {
		t.Errorf("import --force: exit %d; stderr:\n%s", code, stderr)
	}

	r.Write("src/app.py", "acme_key = \""+acmeKey+"\"\n")
	r.Write("src/test_app.py", "acme_key = \""+acmeZero+"\"\n")
	r.Write("fixtures/app.py", "acme_key = \""+acmeOther+"\"\n")
	r.Write("vendor/lib/app.py", "# vendored\nacme_key = \""+acmeOther+"\"\n")
	r.Write("src/token.txt", "t = "+itok+"\n")
	r.Commit("app")

	code, stdout, stderr = runCLI(t, "git", r.Dir, "--format", "json")
	if code != exitFindings {
		t.Fatalf("scan: exit %d; stderr:\n%s", code, stderr)
	}
	var got []string
	for _, f := range parseFindingsList(t, stdout) {
		got = append(got, f.RuleID+" "+f.Path)
	}
	sort.Strings(got)
	want := []string{"acme-api-key src/app.py", "internal-token src/token.txt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr, "not reported: 2 allowlisted") {
		t.Errorf("stderr does not count the allowlisted findings:\n%s", stderr)
	}
}

func TestConfigImportExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		code       int
		stderr     string
	}{
		{"everything carried over", "[extend]\nuseDefault = true\n[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{32}'''\nkeywords = [\"acme_\"]\n", exitClean, "everything carried over"},
		{"not TOML", "[rules\n", exitError, "expected '.' or ']'"},
		{"bad regex", "[[rules]]\nid = \"x\"\nregex = '''a(b'''\n", exitError, `rule "x": regex`},
		{"rule without id", "[[rules]]\nregex = '''abc'''\n", exitError, "no id"},
		{"allowlists twice", "[allowlist]\npaths=['a']\n[[allowlists]]\npaths=['b']\n", exitError, "both [allowlist] and [[allowlists]]"},
		{"extend path", "[extend]\npath = \"base.toml\"\n[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{32}'''\n", exitFindings, "[extend] path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := filepath.Join(dir, "g.toml")
			if err := os.WriteFile(in, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCLI(t, "config", "import", in, "-o", "-")
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d; stderr (want %q):\n%s", code, tt.code, tt.stderr, stderr)
			}
			if code != exitError {
				if _, err := config.Parse("stdout", []byte(stdout)); err != nil {
					t.Errorf("stdout does not load: %v\n%s", err, stdout)
				}
			}
		})
	}
}

func TestGitleaksIgnoreSuppressesTheNamedFinding(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "one\ntoken: "+tokA+"\n")
	r.Write("b.txt", "token: "+tokB+"\n")
	commit := r.Commit("tokens")
	r.Write(".gitleaksignore", "# reviewed\n"+
		commit+":a.txt:github-pat:2\n"+ // the finding
		"b.txt:github-pat:2\n"+ // wrong line: nothing
		"b.txt:some-other-rule:1\n") // another rule: nothing
	r.Commit("ignore")

	code, out, errOut := runCLI(t, "git", r.Dir, "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if diff := cmp.Diff([]string{"b.txt"}, paths(t, out)); diff != "" {
		t.Errorf("reported paths (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "not reported: 1 ignored") {
		t.Errorf("stderr does not count the ignored finding:\n%s", errOut)
	}
	for _, want := range []string{"unused ignore of b.txt:github-pat:2 (from .gitleaksignore line 3)", "unused ignore of b.txt:some-other-rule:1"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestConfigShow(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write(config.FileName, "[rules]\ndisable = [\"jwt\"]\n[rules.entropy]\ngeneric-secret = 4.5\n"+
		"[[rules.custom]]\nid = \"acme-key\"\nkeywords = [\"acme_\"]\nregex = '''acme_[a-z0-9]{32}'''\n"+
		"[rules.allowlist.private-key]\npaths = [\"testdata/\"]\n[allowlist]\npaths = [\"vendor/\"]\nstopwords = [\"example\"]\n")
	r.Write(config.IgnoreFileName, "github-token:00000000000000ff expires=2020-01-01 rotated\ngithub-token:0000000000000aff kept in docs\n")
	r.Write(config.GitleaksIgnoreFileName, "a.txt:generic-api-key:3\nb.txt:acme-internal:1\n")
	r.Write(config.GitleaksFileName, "title = \"x\"\n")
	r.Commit("config")

	code, out, errOut := runCLI(t, "config", "show", r.Dir)
	if code != exitClean {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		".keysweep.toml: " + filepath.Join(r.Dir, config.FileName),
		"  disabled: jwt",
		"  added: acme-key",
		"  overridden (entropy or allowlist): generic-secret, private-key",
		"  allowlist: 1 path glob, 0 path regexes, 0 regexes, 1 stopword, 0 commits",
		".keysweepignore: " + filepath.Join(r.Dir, config.IgnoreFileName) + ": 2 entries, 1 expired",
		"  line 1: github-token:00000000000000ff expired on 2020-01-01 (rotated)",
		".gitleaksignore: " + filepath.Join(r.Dir, config.GitleaksIgnoreFileName) + ": 2 entries",
		"no keysweep equivalent (their entries match only a rule of that id): acme-internal",
		"baseline: none",
		"convert it with keysweep config import",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = runCLI(t, "config", "show", r.Dir, "--format", "json")
	if code != exitClean {
		t.Fatalf("json: exit %d; stderr:\n%s", code, errOut)
	}
	var d config.Description
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if d.Config == nil || d.Ignores == nil || d.Gitleaks == nil || d.Baseline != nil || d.Builtin == 0 {
		t.Errorf("json description incomplete: %s", out)
	}

	// --config replaces the repository's file, as in a scan.
	other := filepath.Join(t.TempDir(), "k.toml")
	if err := os.WriteFile(other, []byte("[allowlist]\ncommits = [\"0123456789012345678901234567890123456789\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runCLI(t, "config", "show", r.Dir, "--config", other)
	if !strings.Contains(out, ".keysweep.toml: "+other) || strings.Contains(out, "gitleaks.toml") {
		t.Errorf("--config not shown as the source:\n%s", out)
	}

	// A repository without files: the defaults.
	empty := gittest.New(t)
	_, out, _ = runCLI(t, "config", "show", empty.Dir)
	for _, want := range []string{".keysweep.toml: none (built-in defaults)", ".keysweepignore: none", ".gitleaksignore: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runCLI(t, "config", "show", filepath.Join(empty.Dir, "nope")); code != exitError {
		t.Errorf("missing path: exit %d, want 2", code)
	}
}
