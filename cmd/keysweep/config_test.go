package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
)

// Tokens assembled at run time, so that this file holds none.
var (
	tokA = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	tokB = "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD"
	tokC = "ghp_" + "P6iJk0Vo7RxU2tZ5lA9nB4qD1eF3gH8yX9wC"
	tokD = "ghp_" + "N5hIj9Un6QwT1sY4kZ8mA3pC0dE2fG7xW8vB"
	tokE = "ghp_" + "M4gHi8Tm5PvS0rX3jY7lZ2oB9cD1eF6wV7uA"
)

func paths(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for path := range parseFindings(t, out) {
		got = append(got, path)
	}
	sort.Strings(got)
	return got
}

func TestSuppression(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	fp := func(tok string) string { return finding.Fingerprint("github-token", "", tok) }
	r.Write(".keysweep.toml", "[allowlist]\npaths = [\"fixtures/\"]\n")
	r.Write(".keysweepignore", "# reviewed\n"+
		fp(tokB)+" revoked in 2024, kept in the docs as an example\n"+
		fp(tokE)+" expires=2020-01-01 was waiting for rotation\n"+
		"github-token:00000000000000ff nothing matches this\n")
	r.Write("fixtures/token.txt", "token: "+tokA+"\n")
	r.Write("docs/auth.md", "token: "+tokB+"\n")
	r.Write("src/client.go", "var t = \""+tokC+"\" // keysweep:allow: the public demo token\n")
	r.Write("src/leak.go", "var t = \""+tokD+"\"\n")
	r.Write("src/old.go", "var t = \""+tokE+"\"\n")
	r.Commit("everything")

	code, out, errOut := runCLI(t, "git", r.Dir, "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if diff := cmp.Diff([]string{"src/leak.go", "src/old.go"}, paths(t, out)); diff != "" {
		t.Errorf("reported paths (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"not reported: 1 allowlisted, 1 ignored, 1 marked keysweep:allow",
		".keysweepignore:3: ignore of " + fp(tokE) + " expired on 2020-01-01: reported again",
		".keysweepignore:4: unused ignore of github-token:00000000000000ff (nothing matches this)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// --config replaces the repository's file.
	empty := filepath.Join(t.TempDir(), "operator.toml")
	if err := os.WriteFile(empty, []byte("# nothing allowlisted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runCLI(t, "git", r.Dir, "--format", "json", "--config", empty)
	if got := paths(t, out); !cmp.Equal(got, []string{"fixtures/token.txt", "src/leak.go", "src/old.go"}) {
		t.Errorf("with --config: %v", got)
	}

	// A baseline, JSON or SARIF, hides what it holds; a new secret still
	// shows.
	dir := t.TempDir()
	bases := []string{filepath.Join(dir, "base.json"), filepath.Join(dir, "base.sarif")}
	for _, base := range bases {
		format := strings.TrimPrefix(filepath.Ext(base), ".")
		if code, _, errOut := runCLI(t, "git", r.Dir, "--format", format, "--report", base); code != exitFindings {
			t.Fatalf("baseline run: exit %d: %s", code, errOut)
		}
	}
	r.Write("src/new.go", "// new\nvar t = \""+tokD+"\"\n")
	r.Commit("the same token in a new file")
	for _, base := range bases {
		code, out, errOut = runCLI(t, "git", r.Dir, "--format", "json", "--baseline", base)
		if code != exitFindings || !cmp.Equal(paths(t, out), []string{"src/new.go"}) || !strings.Contains(errOut, "2 in the baseline") {
			t.Errorf("with --baseline %s: exit %d, paths %v, stderr %s", base, code, paths(t, out), errOut)
		}
	}
}

func TestBareRepositoryConfigFromHEAD(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write(".keysweep.toml", "[allowlist]\npaths = [\"a.txt\"]\n")
	r.Write("a.txt", "token: "+tokA+"\n")
	r.Commit("one")
	bare := t.TempDir()
	r.Git("clone", "-q", "--bare", r.Dir, bare)
	if code, out, errOut := runCLI(t, "git", bare, "--format", "json"); code != exitClean || out != "[]\n" {
		t.Errorf("bare repository ignores HEAD's %s: exit %d, %s %s", ".keysweep.toml", code, out, errOut)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write(".keysweep.toml", "[allowlist]\npath = [\"x\"]\n")
	r.Commit("bad config")
	good := leakyRepo(t)
	badIgnore := filepath.Join(t.TempDir(), "ignore")
	if err := os.WriteFile(badIgnore, []byte("github-token:0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key in the repository's file", []string{"git", r.Dir}, `.keysweep.toml: unknown key "allowlist.path"`},
		{"missing --config", []string{"git", good.Dir, "--config", "/nonexistent/k.toml"}, "read config"},
		{"ignore without reason", []string{"git", good.Dir, "--ignore-file", badIgnore}, "has no reason"},
		{"missing baseline", []string{"git", good.Dir, "--baseline", "/nonexistent/b.json"}, "read baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; code != exitError || !strings.Contains(last, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, last stderr line %q; want 2 and %q", code, out, last, tt.want)
			}
		})
	}
}

func TestRulesCommand(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "rules")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitClean || len(lines) < 61 || !strings.HasPrefix(lines[0], "RULE") {
		t.Fatalf("exit %d, %d lines", code, len(lines))
	}
	for _, id := range []string{"aws-access-key-id", "gitlab-pat", "database-connection-string", "generic-secret"} {
		if !strings.Contains(out, "\n"+id+" ") {
			t.Errorf("rule %s not listed", id)
		}
	}
}

func TestFormatsFromTheCommandLine(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	for _, format := range []string{"sarif", "csv"} {
		code, out, _ := runCLI(t, "git", r.Dir, "--format", format, "--no-redact")
		if code != exitFindings || !strings.Contains(out, "deploy/prod.env") {
			t.Errorf("%s: exit %d, %q", format, code, out)
		}
		if format == "sarif" && strings.Contains(out, secret) {
			t.Error("the SARIF log holds the secret")
		}
	}
}
