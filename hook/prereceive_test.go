package hook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/internal/gittest"
)

// FuzzPushOptions: no push option a pusher sends lets anything through
// without a reason, or makes the hook panic.
func FuzzPushOptions(f *testing.F) {
	f.Add(2, "keysweep.allow=github-token:0123456789abcdef", "keysweep.reason=fixture", "")
	f.Add(1, "keysweep.skip=", "keysweep.reason=  ", "x")
	f.Add(3, "keysweep.skip", "keysweep.allow=,, ,", "keysweep.reason=\x1b[2J")
	f.Add(-1, "", "", "")
	f.Fuzz(func(t *testing.T, n int, o0, o1, o2 string) {
		env := map[string]string{"GIT_PUSH_OPTION_COUNT": strconv.Itoa(n), "GIT_PUSH_OPTION_0": o0, "GIT_PUSH_OPTION_1": o1, "GIT_PUSH_OPTION_2": o2}
		p, err := readPushOptions(func(k string) string { return env[k] })
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if (p.skip || len(p.allow) > 0) && strings.TrimSpace(p.reason) == "" {
			t.Fatalf("a bypass without a reason: %+v", p)
		}
		for fp := range p.allow {
			if fp == "" || strings.ContainsAny(fp, ", ") {
				t.Fatalf("allow holds %q", fp)
			}
		}
	})
}

// Test tokens, built so that no secret appears whole in the source: the
// shapes of the command's tests, which the github-token rule matches.
const (
	tokA = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	tokB = "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD"
	tokC = "ghp_" + "P6iJk0Vo7RxU2tZ5lA9nB4qD1eF3gH8yX9wC"
)

var allTokens = []string{tokA, tokB, tokC}

// envFunc is a hook environment backed by a map: tests never set real
// environment variables.
func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// options is the environment git gives a pre-receive hook for the push
// options opts.
func options(opts ...string) map[string]string {
	env := map[string]string{"GIT_PUSH_OPTION_COUNT": strconv.Itoa(len(opts))}
	for i, o := range opts {
		env["GIT_PUSH_OPTION_"+strconv.Itoa(i)] = o
	}
	return env
}

func TestReadPushOptions(t *testing.T) {
	t.Parallel()
	const fp1, fp2, fp3 = "github-token:0123456789abcdef", "aws-access-key:fedcba9876543210", "slack-token:00112233aabbccdd"
	allowReason := `keysweep.allow needs a reason: add -o keysweep.reason="why it is not a secret"`
	skipReason := `keysweep.skip needs a reason: git push -o keysweep.skip="why this push may hold secrets"`
	// At the limit, only the last option says anything.
	atLimit := map[string]string{"GIT_PUSH_OPTION_COUNT": "1000", "GIT_PUSH_OPTION_999": "keysweep.skip=last one"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    pushOptions
		wantErr string
	}{
		{name: "none", env: nil, want: pushOptions{}},
		{name: "count zero", env: options(), want: pushOptions{}},
		{
			name: "allow with reason",
			env:  options("keysweep.allow="+fp1, "keysweep.reason=test fixture"),
			want: pushOptions{allow: map[string]bool{fp1: true}, reason: "test fixture"},
		},
		{
			name: "reason before allow, trimmed",
			env:  options("keysweep.reason=  test fixture \t", "keysweep.allow="+fp1),
			want: pushOptions{allow: map[string]bool{fp1: true}, reason: "test fixture"},
		},
		{
			name: "allow comma and space separated, and repeated",
			env:  options("keysweep.allow="+fp1+","+fp2+" ,, "+fp1, "keysweep.allow= "+fp3+",", "keysweep.reason=fixtures"),
			want: pushOptions{allow: map[string]bool{fp1: true, fp2: true, fp3: true}, reason: "fixtures"},
		},
		{name: "allow without reason", env: options("keysweep.allow=" + fp1), wantErr: allowReason},
		{name: "allow with a blank reason", env: options("keysweep.allow="+fp1, "keysweep.reason=   "), wantErr: allowReason},
		{name: "allow of nothing needs no reason", env: options("keysweep.allow=, ,"), want: pushOptions{}},
		{
			name: "skip with reason in the value",
			env:  options("keysweep.skip= emergency fix, token revoked "),
			want: pushOptions{skip: true, reason: "emergency fix, token revoked"},
		},
		{
			name: "skip reason holding an equals sign",
			env:  options("keysweep.skip=a=b"),
			want: pushOptions{skip: true, reason: "a=b"},
		},
		{
			name: "skip with reason from keysweep.reason",
			env:  options("keysweep.skip", "keysweep.reason=hotfix"),
			want: pushOptions{skip: true, reason: "hotfix"},
		},
		{
			name: "skip's own reason wins over keysweep.reason",
			env:  options("keysweep.reason=other", "keysweep.skip=outage"),
			want: pushOptions{skip: true, reason: "outage"},
		},
		{
			name: "a bare skip keeps an earlier skip's reason",
			env:  options("keysweep.skip=outage", "keysweep.skip"),
			want: pushOptions{skip: true, reason: "outage"},
		},
		{name: "skip without any reason", env: options("keysweep.skip"), wantErr: skipReason},
		{name: "skip with an empty value", env: options("keysweep.skip="), wantErr: skipReason},
		{name: "skip with blank reasons", env: options("keysweep.skip=  ", "keysweep.reason= "), wantErr: skipReason},
		{
			name: "unknown keysweep options listed",
			env:  options("keysweep.alow="+fp1, "keysweep.Skip=x", "keysweep.", "keysweep.skip.reason=y"),
			want: pushOptions{unknown: []string{"keysweep.alow", "keysweep.Skip", "keysweep.", "keysweep.skip.reason"}},
		},
		{
			name: "other options ignored",
			env:  options("ci.skip", "merge_request.create", "keysweepskip=x", "Keysweep.skip=y", "", "=keysweep.skip"),
			want: pushOptions{},
		},
		{
			name: "count above the options set",
			env:  map[string]string{"GIT_PUSH_OPTION_COUNT": "3", "GIT_PUSH_OPTION_1": "keysweep.skip=only one"},
			want: pushOptions{skip: true, reason: "only one"},
		},
		{
			name: "options beyond the count not read",
			env:  map[string]string{"GIT_PUSH_OPTION_COUNT": "1", "GIT_PUSH_OPTION_0": "ci.skip", "GIT_PUSH_OPTION_1": "keysweep.skip"},
			want: pushOptions{},
		},
		{name: "count not a number", env: map[string]string{"GIT_PUSH_OPTION_COUNT": "two"}, wantErr: `invalid GIT_PUSH_OPTION_COUNT "two"`},
		{name: "count with spaces", env: map[string]string{"GIT_PUSH_OPTION_COUNT": " 1"}, wantErr: `invalid GIT_PUSH_OPTION_COUNT " 1"`},
		{name: "negative count", env: map[string]string{"GIT_PUSH_OPTION_COUNT": "-1"}, wantErr: `invalid GIT_PUSH_OPTION_COUNT "-1"`},
		{name: "count overflowing int", env: map[string]string{"GIT_PUSH_OPTION_COUNT": "99999999999999999999"}, wantErr: `invalid GIT_PUSH_OPTION_COUNT "99999999999999999999"`},
		{name: "count at the limit", env: atLimit, want: pushOptions{skip: true, reason: "last one"}},
		{name: "count above the limit", env: map[string]string{"GIT_PUSH_OPTION_COUNT": "1001"}, wantErr: "1001 push options: at most 1000 are read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := readPushOptions(envFunc(tc.env))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("readPushOptions error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readPushOptions: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(pushOptions{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("readPushOptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPusher(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none", nil, ""},
		{"GitHub Enterprise Server", map[string]string{"GITHUB_USER_LOGIN": "octocat"}, "octocat"},
		{"GitLab", map[string]string{"GL_USERNAME": "tanuki", "GL_ID": "user-42"}, "tanuki"},
		{"Gitea", map[string]string{"GITEA_PUSHER_NAME": "gitea-user", "GITEA_PUSHER_ID": "7"}, "gitea-user"},
		{"gitolite", map[string]string{"GL_USER": "gitolite-user"}, "gitolite-user"},
		{"git http-backend", map[string]string{"REMOTE_USER": "web-user"}, "web-user"},
		{"the account the hook runs as", map[string]string{"USER": "git"}, "git"},
		{"GitHub before every other", map[string]string{"GITHUB_USER_LOGIN": "octocat", "GL_USERNAME": "tanuki", "GITEA_PUSHER_NAME": "gitea-user", "GL_USER": "gitolite-user", "REMOTE_USER": "web-user", "USER": "git"}, "octocat"},
		{"GitLab before Gitea", map[string]string{"GL_USERNAME": "tanuki", "GITEA_PUSHER_NAME": "gitea-user", "GL_USER": "gitolite-user"}, "tanuki"},
		{"Gitea before gitolite", map[string]string{"GITEA_PUSHER_NAME": "gitea-user", "GL_USER": "gitolite-user", "REMOTE_USER": "web-user"}, "gitea-user"},
		{"gitolite before http-backend", map[string]string{"GL_USER": "gitolite-user", "REMOTE_USER": "web-user", "USER": "git"}, "gitolite-user"},
		{"http-backend before USER", map[string]string{"REMOTE_USER": "web-user", "USER": "git"}, "web-user"},
		{"empty values skipped", map[string]string{"GITHUB_USER_LOGIN": "", "GL_USERNAME": "", "USER": "git"}, "git"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := pusher(envFunc(tc.env)); got != tc.want {
				t.Errorf("pusher = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRemoteAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none", nil, ""},
		{"GitHub Enterprise Server", map[string]string{"GITHUB_USER_IP": "203.0.113.7"}, "203.0.113.7"},
		{"SSH", map[string]string{"SSH_CONNECTION": "198.51.100.2 52311 10.0.0.5 22"}, "198.51.100.2"},
		{"SSH over IPv6", map[string]string{"SSH_CONNECTION": "2001:db8::1 52311 2001:db8::2 22"}, "2001:db8::1"},
		{"git http-backend", map[string]string{"REMOTE_ADDR": "192.0.2.9"}, "192.0.2.9"},
		{"GitHub before SSH and HTTP", map[string]string{"GITHUB_USER_IP": "203.0.113.7", "SSH_CONNECTION": "198.51.100.2 52311 10.0.0.5 22", "REMOTE_ADDR": "192.0.2.9"}, "203.0.113.7"},
		{"SSH before HTTP", map[string]string{"SSH_CONNECTION": "198.51.100.2 52311 10.0.0.5 22", "REMOTE_ADDR": "192.0.2.9"}, "198.51.100.2"},
		{"blank SSH_CONNECTION", map[string]string{"SSH_CONNECTION": "  ", "REMOTE_ADDR": "192.0.2.9"}, "192.0.2.9"},
		{"SSH_CONNECTION with leading spaces", map[string]string{"SSH_CONNECTION": "  198.51.100.2 52311 10.0.0.5 22"}, "198.51.100.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := remoteAddr(envFunc(tc.env)); got != tc.want {
				t.Errorf("remoteAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRepoName(t *testing.T) {
	t.Parallel()
	const gitDir = "/srv/git/api.git"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none: the repository's directory", nil, gitDir},
		{"GitHub Enterprise Server", map[string]string{"GITHUB_REPO_NAME": "acme/api"}, "acme/api"},
		{"GitLab", map[string]string{"GL_PROJECT_PATH": "acme/backend/api", "GL_REPOSITORY": "project-12"}, "acme/backend/api"},
		{"Gitea", map[string]string{"GITEA_REPO_USER_NAME": "acme", "GITEA_REPO_NAME": "api"}, "acme/api"},
		{"GitHub before GitLab and Gitea", map[string]string{"GITHUB_REPO_NAME": "gh/api", "GL_PROJECT_PATH": "gl/api", "GITEA_REPO_USER_NAME": "gt", "GITEA_REPO_NAME": "api"}, "gh/api"},
		{"GitLab before Gitea", map[string]string{"GL_PROJECT_PATH": "gl/api", "GITEA_REPO_USER_NAME": "gt", "GITEA_REPO_NAME": "api"}, "gl/api"},
		{"Gitea owner alone says nothing", map[string]string{"GITEA_REPO_USER_NAME": "acme"}, gitDir},
		{"Gitea name without its owner", map[string]string{"GITEA_REPO_NAME": "api"}, "api"},
		{"empty values skipped", map[string]string{"GITHUB_REPO_NAME": "", "GL_PROJECT_PATH": "gl/api"}, "gl/api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := repoName(envFunc(tc.env), gitDir); got != tc.want {
				t.Errorf("repoName = %q, want %q", got, tc.want)
			}
		})
	}
}

// auditLine is what a test reads of an audit log line: the contract of
// ARCHITECTURE.md, read from outside.
type auditLine = audit.Entry

// readAudit reads the audit log at path, checking that each line has a
// time and holds no secret, and returns its entries without their time.
func readAudit(t *testing.T, path string) []auditLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range allTokens {
		if strings.Contains(string(data), tok) {
			t.Errorf("the audit log holds a secret:\n%s", data)
		}
	}
	out, err := audit.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range out {
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			t.Errorf("audit line %d: time %q: %v", i+1, e.Time, err)
		}
		out[i].Time = ""
	}
	return out
}

// push is a bare repository in the state git runs its pre-receive hook
// in: the objects of a push are in its object store, no ref reaches them
// yet.
type push struct {
	bare *gittest.Repo
	// base is main's commit before the push, commit the one pushed.
	base, commit string
}

// newPush seeds a bare repository with a clean main, then brings in,
// unreferenced, a commit on top of it that writes files.
func newPush(t *testing.T, files map[string]string) push {
	t.Helper()
	client := gittest.New(t)
	client.Write("README.md", "# app\n")
	base := client.Commit("init")
	bare := gittest.NewBare(t)
	client.Git("push", "-q", bare.Dir, "main")
	for path, content := range files {
		client.Write(path, content)
	}
	commit := client.Commit("add")
	// A fetch by URL stores its objects and FETCH_HEAD, no ref.
	bare.Git("fetch", "-q", client.Dir, "main")
	if got := bare.Git("rev-parse", "refs/heads/main"); got != base {
		t.Fatalf("the server's main moved to %s", got)
	}
	return push{bare: bare, base: base, commit: commit}
}

// updates is what git writes to the hook's stdin for the push.
func (p push) updates() string {
	return p.base + " " + p.commit + " refs/heads/main\n"
}

// TestPreReceiveRun runs the policy on pushes held in real bare
// repositories, and checks the outcome, what the pusher is told and what
// the audit log holds.
func TestPreReceiveRun(t *testing.T) {
	t.Parallel()
	fpA := finding.Fingerprint("github-token", "", tokA)
	fpB := finding.Fingerprint("github-token", "", tokB)
	leaky := map[string]string{"ci.env": "TOKEN=" + tokA + "\n"}
	marked := map[string]string{"ci.env": "TOKEN=" + tokA + " # keysweep:allow\n"}
	missing := strings.Repeat("ab", 20)
	zero := strings.Repeat("0", 40)
	const notWritable = "<not writable>"

	for _, tc := range []struct {
		name  string
		files map[string]string
		env   map[string]string
		set   func(h *PreReceive)
		// stdin, when set, replaces the push's updates.
		stdin    func(p push) string
		auditLog string
		// wantErr is matched with errors.Is; wantErrText, when set, is in
		// the error's text.
		wantErr     error
		wantErrText string
		accepted    bool
		wantLog     []string
		wantNotLog  []string
		wantAudit   func(p push, repo string) []auditLine
	}{
		{
			name:     "clean push",
			files:    map[string]string{"src/main.go": "package main\n"},
			accepted: true,
			wantLog:  []string{"keysweep: checked 1 new commit (1 blob, ", ": no secrets"},
		},
		{
			name:     "nothing new",
			stdin:    func(p push) string { return p.base + " " + p.base + " refs/heads/copy\n" },
			accepted: true,
			wantLog:  []string{"nothing new to check"},
		},
		{
			name:    "secret without options",
			files:   leaky,
			wantErr: finding.ErrFindings,
			wantLog: []string{"keysweep: push refused: it adds 1 secret (refs/heads/main)", "github-token", "ci.env:1", "fingerprint  " + fpA,
				"git push -o keysweep.allow=" + fpA + ` -o keysweep.reason="<why>"`},
		},
		{
			name:  "allow with reason",
			files: leaky,
			env: merge(options("keysweep.allow="+fpA, "keysweep.reason=test fixture"),
				map[string]string{"GITHUB_USER_LOGIN": "octocat", "GITHUB_USER_IP": "203.0.113.7", "GITHUB_REPO_NAME": "acme/api"}),
			accepted:   true,
			wantLog:    []string{`keysweep: 1 secret allowed by the pusher ("test fixture"), recorded in the audit log`, "no other secrets"},
			wantNotLog: []string{"push refused"},
			wantAudit: func(p push, _ string) []auditLine {
				return []auditLine{{Action: "push-allow", Repo: "acme/api", Pusher: "octocat", From: "203.0.113.7", Refs: []string{"refs/heads/main"}, Reason: "test fixture",
					Fingerprint: fpA, Rule: "github-token", Commit: p.commit, Path: "ci.env", Line: 1}}
			},
		},
		{
			name:    "allow of another secret",
			files:   leaky,
			env:     options("keysweep.allow="+fpB, "keysweep.reason=test fixture"),
			wantErr: finding.ErrFindings,
			wantLog: []string{"keysweep.allow=" + fpB + " matches nothing this push adds", "ci.env:1"},
		},
		{
			name:        "allow without reason",
			files:       leaky,
			env:         options("keysweep.allow=" + fpA),
			wantErrText: "push refused: keysweep.allow needs a reason",
		},
		{
			name:        "allow that cannot be recorded",
			files:       leaky,
			env:         options("keysweep.allow="+fpA, "keysweep.reason=test fixture"),
			auditLog:    notWritable,
			wantErrText: "push refused: what is let through cannot be recorded",
		},
		{
			name:     "skip",
			files:    leaky,
			env:      merge(options("keysweep.skip=emergency fix, token revoked"), map[string]string{"SSH_CONNECTION": "198.51.100.2 52311 10.0.0.5 22", "GL_USERNAME": "tanuki"}),
			accepted: true,
			wantLog:  []string{`keysweep: check skipped at the pusher's request ("emergency fix, token revoked"); 1 secret let through, recorded in the audit log`},
			wantAudit: func(p push, repo string) []auditLine {
				head := auditLine{Action: "push-skip", Repo: repo, Pusher: "tanuki", From: "198.51.100.2", Refs: []string{"refs/heads/main"}, Reason: "emergency fix, token revoked"}
				secret := head
				secret.Fingerprint, secret.Rule, secret.Commit, secret.Path, secret.Line = fpA, "github-token", p.commit, "ci.env", 1
				return []auditLine{head, secret}
			},
		},
		{
			name:     "skip of a clean push",
			files:    map[string]string{"docs.md": "docs\n"},
			env:      options("keysweep.skip", "keysweep.reason=release day"),
			accepted: true,
			wantLog:  []string{`("release day"); 0 secrets let through`},
			wantAudit: func(p push, repo string) []auditLine {
				return []auditLine{{Action: "push-skip", Repo: repo, Refs: []string{"refs/heads/main"}, Reason: "release day"}}
			},
		},
		{
			name:        "skip without reason",
			files:       leaky,
			env:         options("keysweep.skip"),
			wantErrText: "push refused: keysweep.skip needs a reason",
		},
		{
			name:        "skip that cannot be recorded",
			files:       leaky,
			env:         options("keysweep.skip=emergency"),
			auditLog:    notWritable,
			wantErrText: "push refused: keysweep.skip cannot be recorded",
		},
		{
			name:        "NoBypass with allow",
			files:       leaky,
			env:         options("keysweep.allow="+fpA, "keysweep.reason=test fixture"),
			set:         func(h *PreReceive) { h.NoBypass = true },
			wantErrText: "push refused: this server does not accept keysweep.allow or keysweep.skip",
		},
		{
			// Advice on how to ask for a bypass would be a lie here.
			name:        "NoBypass with an allow lacking its reason",
			files:       leaky,
			env:         options("keysweep.allow=" + fpA),
			set:         func(h *PreReceive) { h.NoBypass = true },
			wantErrText: "push refused: this server does not accept keysweep.allow or keysweep.skip",
		},
		{
			name:        "NoBypass with skip",
			files:       leaky,
			env:         options("keysweep.skip=emergency"),
			set:         func(h *PreReceive) { h.NoBypass = true },
			wantErrText: "push refused: this server does not accept keysweep.allow or keysweep.skip",
		},
		{
			name:       "NoBypass refusal shows no bypass",
			files:      leaky,
			set:        func(h *PreReceive) { h.NoBypass = true },
			wantErr:    finding.ErrFindings,
			wantLog:    []string{"ci.env:1"},
			wantNotLog: []string{"keysweep.allow="},
		},
		{
			name:     "unknown options listed",
			files:    map[string]string{"docs.md": "docs\n"},
			env:      options("keysweep.alow=x", "ci.skip"),
			accepted: true,
			wantLog:  []string{"keysweep: unknown push option keysweep.alow ignored"},
		},
		{
			name:     "TrustInline with a marker",
			files:    marked,
			set:      func(h *PreReceive) { h.TrustInline = true },
			accepted: true,
			wantLog:  []string{"1 secret marked keysweep:allow let through (--trust-inline-markers), recorded in the audit log"},
			wantAudit: func(p push, repo string) []auditLine {
				return []auditLine{{Action: "push-inline-allow", Repo: repo, Refs: []string{"refs/heads/main"}, Reason: "keysweep:allow marker in the pushed content",
					Fingerprint: fpA, Rule: "github-token", Commit: p.commit, Path: "ci.env", Line: 1}}
			},
		},
		{
			name:    "TrustInline without a marker",
			files:   leaky,
			set:     func(h *PreReceive) { h.TrustInline = true },
			wantErr: finding.ErrFindings,
			wantLog: []string{"ci.env:1"},
		},
		{
			name:    "a marker without TrustInline",
			files:   marked,
			wantErr: finding.ErrFindings,
			wantLog: []string{"ci.env:1"},
		},
		{
			name:     "blob over MaxBlobSize",
			files:    map[string]string{"big.txt": strings.Repeat("a", 1025)},
			set:      func(h *PreReceive) { h.MaxBlobSize = 1024 },
			accepted: true,
			wantLog:  []string{"not checked: 1 file larger than 1.0 KiB"},
		},
		{
			name:        "RefuseUnscanned with a blob over MaxBlobSize",
			files:       map[string]string{"big.txt": strings.Repeat("a", 1025)},
			set:         func(h *PreReceive) { h.MaxBlobSize, h.RefuseUnscanned = 1024, true },
			wantErrText: "push refused: it holds content the check could not look at (1 file larger than 1.0 KiB); --refuse-unscanned is set",
		},
		{
			name:     "RefuseUnscanned with every blob checked",
			files:    map[string]string{"small.txt": strings.Repeat("a", 1024)},
			set:      func(h *PreReceive) { h.MaxBlobSize, h.RefuseUnscanned = 1024, true },
			accepted: true,
			wantLog:  []string{": no secrets"},
		},
		{
			name:        "missing object, fail-closed",
			stdin:       func(push) string { return zero + " " + missing + " refs/heads/main\n" },
			wantErrText: "push refused: scan incomplete: resolve refs/heads/main: object " + missing + " is missing (fail-closed",
		},
		{
			name:     "missing object, FailOpen",
			stdin:    func(push) string { return zero + " " + missing + " refs/heads/main\n" },
			set:      func(h *PreReceive) { h.FailOpen = true },
			accepted: true,
			wantLog:  []string{"keysweep: WARNING: push accepted without a complete check for secrets (--fail-open): scan incomplete"},
			wantAudit: func(_ push, repo string) []auditLine {
				return []auditLine{{Action: "push-fail-open", Repo: repo, Refs: []string{"refs/heads/main"},
					Error: "scan incomplete: resolve refs/heads/main: object " + missing + " is missing"}}
			},
		},
		{
			name:        "malformed updates",
			stdin:       func(push) string { return "hello\n" },
			wantErrText: `push refused: ref update line 1: want "<old-id> <new-id> <ref>"`,
		},
		{
			name:        "no time budget",
			files:       leaky,
			set:         func(h *PreReceive) { h.Timeout = 0 },
			wantErrText: "push refused: --timeout must be positive, got 0s (fail-closed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPush(t, tc.files)
			dir := t.TempDir()
			auditLog := filepath.Join(dir, "audit.jsonl")
			if tc.auditLog == notWritable {
				// A file where the log's directory should be.
				blocker := filepath.Join(dir, "file")
				if err := os.WriteFile(blocker, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				auditLog = filepath.Join(blocker, "audit.jsonl")
			}
			var log strings.Builder
			h := &PreReceive{
				Dir:      p.bare.Dir,
				Timeout:  time.Minute, // the race detector is slow; never reached
				AuditLog: auditLog,
				MaxShown: 10,
				Getenv:   envFunc(tc.env),
				Log:      &log,
			}
			if tc.set != nil {
				tc.set(h)
			}
			stdin := p.updates()
			if tc.stdin != nil {
				stdin = tc.stdin(p)
			}
			err := h.Run(context.Background(), strings.NewReader(stdin))
			switch {
			case tc.accepted:
				if err != nil {
					t.Fatalf("Run = %v, want the push accepted; log:\n%s", err, log.String())
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Run = %v, want %v; log:\n%s", err, tc.wantErr, log.String())
				}
			default:
				if err == nil || errors.Is(err, finding.ErrFindings) || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Fatalf("Run = %v, want an error with %q; log:\n%s", err, tc.wantErrText, log.String())
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, log.String())
				}
			}
			for _, notWant := range tc.wantNotLog {
				if strings.Contains(log.String(), notWant) {
					t.Errorf("log holds %q:\n%s", notWant, log.String())
				}
			}
			for _, tok := range allTokens {
				if strings.Contains(log.String(), tok) || err != nil && strings.Contains(err.Error(), tok) {
					t.Errorf("a secret in clear:\n%s\n%v", log.String(), err)
				}
			}
			var want []auditLine
			if tc.wantAudit != nil {
				want = tc.wantAudit(p, p.bare.Dir)
			}
			if tc.auditLog == notWritable {
				return
			}
			if diff := cmp.Diff(want, readAudit(t, auditLog)); diff != "" {
				t.Errorf("audit log (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPreReceiveFail: a check that cannot start is refused, or with
// FailOpen accepted and recorded.
func TestPreReceiveFail(t *testing.T) {
	t.Parallel()
	cause := errors.New(`--max-blob-size: "lots" is not a size`)
	for _, tc := range []struct {
		name     string
		failOpen bool
		// noAudit makes the audit log a directory, which cannot be opened.
		noAudit bool
		env     map[string]string
		wantErr string
		wantLog string
		// wantAudit is given the repository's directory.
		wantAudit func(repo string) []auditLine
	}{
		{
			name:    "fail-closed",
			wantErr: `push refused: --max-blob-size: "lots" is not a size (fail-closed: a push that cannot be checked is not accepted; fix the hook's set-up, or ask the server's operator)`,
		},
		{
			name:     "FailOpen",
			failOpen: true,
			env:      map[string]string{"GITEA_PUSHER_NAME": "gitea-user", "REMOTE_ADDR": "192.0.2.9", "GITEA_REPO_USER_NAME": "acme", "GITEA_REPO_NAME": "api"},
			wantLog:  `keysweep: WARNING: push accepted without a complete check for secrets (--fail-open): --max-blob-size: "lots" is not a size`,
			wantAudit: func(string) []auditLine {
				return []auditLine{{Action: "push-fail-open", Repo: "acme/api", Pusher: "gitea-user", From: "192.0.2.9", Error: `--max-blob-size: "lots" is not a size`}}
			},
		},
		{
			// Let through unchecked only when recorded.
			name:     "FailOpen, the audit log cannot be written",
			failOpen: true,
			noAudit:  true,
			wantErr:  `push refused: --max-blob-size: "lots" is not a size, and --fail-open lets a push through unchecked only when the audit log records it: open audit log:`,
		},
		{
			name:     "FailOpen, the repository's directory as its name",
			failOpen: true,
			wantLog:  "WARNING: push accepted without a complete check",
			wantAudit: func(repo string) []auditLine {
				return []auditLine{{Action: "push-fail-open", Repo: repo, Error: `--max-blob-size: "lots" is not a size`}}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bare := gittest.NewBare(t)
			auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
			if tc.noAudit {
				if err := os.Mkdir(auditLog, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			var log strings.Builder
			h := &PreReceive{FailOpen: tc.failOpen, AuditLog: auditLog, Getenv: envFunc(merge(tc.env, map[string]string{"GIT_DIR": bare.Dir})), Log: &log}
			err := h.Fail(cause)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Errorf("Fail = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(log.String(), "push accepted") {
					t.Errorf("a refused push is said to be accepted:\n%s", log.String())
				}
				return
			} else if err != nil {
				t.Errorf("Fail = %v, want the push accepted", err)
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, log.String())
			}
			var want []auditLine
			if tc.wantAudit != nil {
				want = tc.wantAudit(bare.Dir)
			}
			if diff := cmp.Diff(want, readAudit(t, auditLog), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("audit log (-want +got):\n%s", diff)
			}
			// Refs are a list, empty when the check failed before reading
			// them, never null.
			if data, _ := os.ReadFile(auditLog); len(want) > 0 && !strings.Contains(string(data), `"refs":[]`) {
				t.Errorf("audit entry without a refs list: %s", data)
			}
		})
	}
}

// merge returns the variables of a and b, b's winning.
func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
