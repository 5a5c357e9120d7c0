package main

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/internal/ghtest"
	"github.com/keysweep/keysweep/internal/gittest"
)

// leaked lists the requests a Catcher got that carried credentials.
func leaked(c *ghtest.Catcher) []string {
	var out []string
	for _, r := range c.Requests() {
		if !strings.HasSuffix(r, "Authorization=") {
			out = append(out, r)
		}
	}
	return out
}

// TestGitHubCloneURLOnAnotherHost: a clone_url on another port or another
// host name than the API's git host is refused, and never sent the token;
// the sweep goes on with the other repositories.
func TestGitHubCloneURLOnAnotherHost(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	other := ghtest.NewCatcher(t)
	push(t, e.gh.AddRepo("acme/good", ghtest.Repo{}), "init", map[string]string{"a.env": "TOKEN=" + tokA + "\n"})
	e.gh.AddRepo("acme/other-port", ghtest.Repo{CloneURL: other.URL + "/git/acme/other-port.git"})
	// The stand-in itself, under a host name the API was not given.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.gh.URL, "http://"))
	push(t, e.gh.AddRepo("acme/other-host", ghtest.Repo{CloneURL: "http://localhost:" + port + "/git/acme/other-host.git"}),
		"init", map[string]string{"b.env": "TOKEN=" + tokB + "\n"})

	code, fs, errOut := e.sweep("--org", "acme")
	if got := leaked(other); len(got) != 0 {
		t.Errorf("another server got the token: %q", got)
	}
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	for _, want := range []string{
		"acme/other-port: FAILED: refuse clone URL " + `"` + other.URL + `/git/acme/other-port.git": ` + other.URL + " is not a git host of the API",
		"acme/other-host: FAILED: refuse clone URL " + `"http://localhost:` + port + `/git/acme/other-host.git": http://localhost:` + port + " is not a git host of the API",
		"sweep incomplete: 2 of 3 repositories failed (acme/other-port, acme/other-host)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if diff := cmp.Diff([]string{"acme/good a.env:github-token"}, where(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// Named with --git-host, the other host is trusted.
	code, fs, errOut = e.sweep("--org", "acme", "--repo-exclude", "acme/other-port", "--git-host", "http://localhost:"+port)
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/good a.env:github-token", "acme/other-host b.env:github-token"}) {
		t.Errorf("with --git-host: exit %d %v\n%s", code, where(fs), errOut)
	}
}

// TestGitHubAPIRedirectToAnotherOrigin: an API answer redirecting to
// another origin is not followed, and the token does not go there.
func TestGitHubAPIRedirectToAnotherOrigin(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	other := ghtest.NewCatcher(t)
	push(t, e.gh.AddRepo("acme/a", ghtest.Repo{}), "init", map[string]string{"a.env": "TOKEN=" + tokA + "\n"})
	e.gh.RedirectAPI(other.URL)
	for _, args := range [][]string{{"--org", "acme"}, {"--repo", "acme/a"}} {
		code, _, errOut := e.sweep(args...)
		if got := leaked(other); len(got) != 0 {
			t.Errorf("%v: another server got the token: %q", args, got)
		}
		if code != exitError || strings.Count(strings.TrimSpace(errOut), "\n") != 0 ||
			!strings.Contains(errOut, "not following a redirect to "+other.URL+": another origin than the API's ("+e.gh.URL+")") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
}

// TestGitHubLocalCloneURLs: clone URLs naming local repositories (file://,
// a plain path) or other protocols are refused: the sweep must not read
// the sweeping machine's repositories because the API says so.
func TestGitHubLocalCloneURLs(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	local := gittest.New(t)
	local.Write("local.env", "TOKEN="+tokC+"\n")
	local.Commit("local")
	e.gh.AddRepo("acme/file-url", ghtest.Repo{CloneURL: "file://" + local.Dir})
	e.gh.AddRepo("acme/path", ghtest.Repo{CloneURL: local.Dir})
	e.gh.AddRepo("acme/ssh", ghtest.Repo{CloneURL: "ssh://git@127.0.0.1:1/acme/ssh.git"})
	code, fs, errOut := e.sweep("--org", "acme")
	if code != exitError || len(fs) != 0 {
		t.Errorf("exit %d, findings %v\n%s", code, where(fs), errOut)
	}
	for _, want := range []string{
		"acme/file-url: FAILED: refuse clone URL " + `"file://` + local.Dir + `": want https`,
		"acme/path: FAILED: refuse clone URL " + `"` + local.Dir + `": want https`,
		"acme/ssh: FAILED: refuse clone URL " + `"ssh://git@127.0.0.1:1/acme/ssh.git": want https`,
		"3 of 3 repositories failed",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestGitHubInsecureAPIURL: a plain-http --api-url (or --git-host) on a
// host that is not loopback is refused unless --insecure-api says so.
// 0.0.0.0 is not a loopback address, but connecting to it reaches this
// machine, so the test stays off the network either way.
func TestGitHubInsecureAPIURL(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	other := ghtest.NewCatcher(t)
	u, _ := url.Parse(other.URL)
	clear := "http://0.0.0.0:" + u.Port() + "/api/v3/"
	base := []string{"github", "--org", "acme", "--token-file", e.tokenFile, "--cache-dir", e.cache, "--format", "json"}
	for _, args := range [][]string{
		{"--api-url", clear},
		{"--api-url", "https://ghes.example.com/api/v3/", "--git-host", "http://git.example.com"},
	} {
		code, _, errOut := runCLI(t, append(base, args...)...)
		if code != exitError || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--insecure-api") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
	if got := leaked(other); len(got) != 0 {
		t.Errorf("the token went over plain http: %q", got)
	}

	// Loopback needs no flag (the other tests run so); --insecure-api lets
	// the operator accept cleartext elsewhere.
	code, _, errOut := runCLI(t, append(base, "--api-url", clear, "--insecure-api")...)
	if code != exitError || !strings.Contains(errOut, "404") || len(other.Requests()) == 0 {
		t.Errorf("with --insecure-api: exit %d, requests %q\n%s", code, other.Requests(), errOut)
	}
	for _, loop := range []string{"localhost", "127.0.0.2", "[::1]"} {
		code, _, errOut := runCLI(t, append(base, "--api-url", "http://"+loop+":1/api/v3/", "--shard", "3/3")...)
		if code != exitError || !strings.Contains(errOut, "--shard") {
			t.Errorf("%s: exit %d\n%s", loop, code, errOut)
		}
	}
}

// TestGitHubControlCharsInNames: control characters in names the API
// gives never reach the terminal raw.
func TestGitHubControlCharsInNames(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	e.gh.AddRepo("acme/\x1b[2Jwiped\x07", ghtest.Repo{})
	push(t, e.gh.AddRepo("acme/fine", ghtest.Repo{}), "init", map[string]string{"README.md": "# fine\n"})
	code, _, errOut := e.sweep("--org", "acme")
	if code != exitError || strings.ContainsAny(errOut, "\x1b\x07") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		`] acme/\x1b[2Jwiped\x07: FAILED: unusable repository name "acme/\x1b[2Jwiped\a"`,
		`1 of 2 repositories failed (acme/\x1b[2Jwiped\x07)`,
		"acme/fine: 1 new commit",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestGitHubGitRedirectToAnotherOrigin: a git host redirecting a fetch to
// another origin does not take the token there (go-git drops credentials
// when a redirect leaves the clone URL's origin; this guards it).
func TestGitHubGitRedirectToAnotherOrigin(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	other := ghtest.NewCatcher(t)
	push(t, e.gh.AddRepo("acme/moved", ghtest.Repo{}), "init", map[string]string{"a.env": "TOKEN=" + tokA + "\n"})
	e.gh.RedirectGit("acme/moved", other.URL)
	code, _, errOut := e.sweep("--org", "acme")
	if got := leaked(other); len(got) != 0 {
		t.Errorf("another server got the token: %q", got)
	}
	if len(other.Requests()) == 0 {
		t.Error("the redirect was not followed at all: the test proves nothing")
	}
	if code != exitError || !strings.Contains(errOut, "acme/moved: FAILED") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

func TestGitHubSweepIgnoresInlineMarkers(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	api := e.gh.AddRepo("acme/api", ghtest.Repo{})
	push(t, api, "init", map[string]string{"ci.env": "TOKEN=" + tokA + " # keysweep:allow\n"})
	code, fs, errOut := e.sweep("--org", "acme")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/api ci.env:github-token"}) {
		t.Errorf("a swept repository's marker silenced the sweep: exit %d %v\n%s", code, where(fs), errOut)
	}

	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	code, fs, errOut = e.sweep("--org", "acme", "--full", "--new-only", "--trust-inline-markers", "--audit-log", auditLog)
	if code != exitClean || len(fs) != 0 {
		t.Errorf("--trust-inline-markers: exit %d %v\n%s", code, where(fs), errOut)
	}
	data, err := os.ReadFile(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	var entry audit.Entry
	if err := json.Unmarshal(data, &entry); err != nil || entry.Action != "sweep-inline-allow" || entry.Repo != "acme/api" || entry.Path != "ci.env" || strings.Contains(string(data), tokA) {
		t.Errorf("audit entry %+v (%v):\n%s", entry, err, data)
	}
}
