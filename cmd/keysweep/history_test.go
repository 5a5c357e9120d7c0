package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
)

// TestHistoryFilters: --since, --until, --branch, --max-commits and
// --range A...B choose the commits scanned, and the summary says how many
// of how many.
func TestHistoryFilters(t *testing.T) {
	r := gittest.New(t)
	r.Write("a.env", "TOKEN="+tokA+"\n")
	r.Commit("old secret") // 2024-01-01
	r.Env = []string{"GIT_COMMITTER_DATE=2025-06-01T00:00:00Z", "GIT_AUTHOR_DATE=2025-06-01T00:00:00Z"}
	r.Write("b.env", "TOKEN="+tokB+"\n")
	r.Commit("newer secret")
	r.Git("checkout", "-q", "-b", "feature")
	r.Env = []string{"GIT_COMMITTER_DATE=2026-01-01T00:00:00Z", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z"}
	r.Write("c.env", "TOKEN="+tokC+"\n")
	r.Commit("feature secret")
	r.Git("checkout", "-q", "main")

	tests := []struct {
		name    string
		args    []string
		want    []string
		summary string
	}{
		{"everything", nil, []string{"a.env", "b.env", "c.env"}, "scanned 3 commits"},
		{"since", []string{"--since", "2025-01-01"}, []string{"b.env", "c.env"}, "scanned 2 of 3 commits"},
		{"until a day", []string{"--until", "2025-06-01"}, []string{"a.env", "b.env"}, "scanned 2 of 3 commits"},
		{"one branch in a window", []string{"--branch", "main", "--since", "2025-01-01T00:00:00Z"}, []string{"b.env"}, "scanned 1 of 2 commits"},
		{"the newest commit", []string{"--max-commits", "1"}, []string{"c.env"}, "scanned 1 of 3 commits"},
		{"symmetric difference", []string{"--range", "main...feature"}, []string{"c.env"}, "scanned 1 commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out, errOut := runCLI(t, append([]string{"git", r.Dir, "--format", "json"}, tt.args...)...)
			var fs []finding.Finding
			if err := json.Unmarshal([]byte(out), &fs); err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Path)
				if f.Subject == "" {
					t.Errorf("%s: no subject", f.Path)
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("found %v, want %v\n%s", got, tt.want, errOut)
			}
			if !strings.Contains(errOut, tt.summary) {
				t.Errorf("summary does not say %q:\n%s", tt.summary, errOut)
			}
		})
	}
}

// TestGitRemote: a URL is cloned and scanned as someone else's
// repository: its findings name it, its own configuration and markers do
// not silence them, and with --cache-dir a second run fetches what is new.
func TestGitRemote(t *testing.T) {
	r := gittest.New(t)
	r.Write("a.env", "TOKEN="+tokA+" # keysweep:allow\n")
	r.Write(".keysweep.toml", "[allowlist]\npaths = [\".*\"]\n")
	r.Commit("secret, allowed by the repository itself")
	url := "file://" + r.Dir

	code, out, errOut := runCLI(t, "git", url, "--format", "json")
	var fs []finding.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil || code != exitFindings {
		t.Fatalf("exit %d: %v\n%s", code, err, errOut)
	}
	if len(fs) != 1 || fs[0].Path != "a.env" || fs[0].Repository != url {
		t.Errorf("findings %+v", fs)
	}
	// Locally, the repository's own file and marker are the user's.
	if code, _, errOut := runCLI(t, "git", r.Dir); code != exitClean {
		t.Errorf("local scan: exit %d\n%s", code, errOut)
	}

	cache := t.TempDir()
	if code, _, errOut := runCLI(t, "git", url, "--cache-dir", cache); code != exitFindings {
		t.Fatalf("cached: exit %d\n%s", code, errOut)
	}
	r.Write("b.env", "TOKEN="+tokB+"\n")
	r.Commit("another")
	_, out, errOut = runCLI(t, "git", url, "--cache-dir", cache, "--format", "json")
	fs = nil
	if err := json.Unmarshal([]byte(out), &fs); err != nil || len(fs) != 2 {
		t.Errorf("after a fetch: %v %d findings\n%s", err, len(fs), errOut)
	}

	for _, bad := range []string{"ext::sh -c touch% /tmp/pwned", "https://-oProxyCommand=x/repo", "http://example.com/acme/app"} {
		code, out, errOut := runCLI(t, "git", bad)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != exitError || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "keysweep: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
}
