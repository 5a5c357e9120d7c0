package remote

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/internal/gittest"
)

// gitOut runs git on the mirror dir and returns its trimmed output, or
// "" when it fails.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"--git-dir", dir}, args...)...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// argvRecorder returns a git wrapper that appends each argument list it
// is run with to a log, and the log.
func argvRecorder(t *testing.T) (wrapper, log string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the wrapper is a shell script")
	}
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log = filepath.Join(dir, "argv.log")
	wrapper = filepath.Join(dir, "git-wrapper")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + log + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return wrapper, log
}

// assertNoSecret fails if any file under dir holds any of secrets.
func assertNoSecret(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds secret %q", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mapEnv(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestMirrorHTTPS(t *testing.T) {
	t.Parallel()
	const token = "ghp_TestTokenValue0123456789abcdefABCD"
	tests := []struct {
		name       string
		serverUser string
		serverPass string
		vars       map[string]string // what Getenv answers
		userinfo   string            // put in the URL
		repo       string            // "" is the repository served
		wantErr    error
		wantMsg    string
	}{
		{name: "anonymous"},
		{name: "token", serverUser: "x-access-token", serverPass: token, vars: map[string]string{"TEST_TOKEN": token}},
		{name: "second variable", serverUser: "x-access-token", serverPass: token, vars: map[string]string{"TEST_GH_TOKEN": token}},
		{name: "token unused on a public repository", vars: map[string]string{"TEST_TOKEN": token}},
		{name: "url credentials", serverUser: "alice", serverPass: token, userinfo: "alice:" + token + "@"},
		{name: "url credentials win over the token", serverUser: "alice", serverPass: token, userinfo: "alice:" + token + "@", vars: map[string]string{"TEST_TOKEN": "other"}},
		{
			name: "no token", serverUser: "x-access-token", serverPass: token,
			wantErr: ErrAuth, wantMsg: ": authentication refused (set TEST_TOKEN or TEST_GH_TOKEN, or configure a git credential helper)",
		},
		{
			name: "wrong token", serverUser: "x-access-token", serverPass: "ghp_theRightOne", vars: map[string]string{"TEST_TOKEN": token},
			wantErr: ErrAuth, wantMsg: ": authentication refused (check TEST_TOKEN: it was refused, or cannot read this repository)",
		},
		{
			name: "wrong url password", serverUser: "alice", serverPass: "right", userinfo: "alice:" + token + "@",
			wantErr: ErrAuth, wantMsg: ": authentication refused (the user name and password in the URL were refused)",
		},
		{
			name: "missing repository", serverUser: "x-access-token", serverPass: token, vars: map[string]string{"TEST_TOKEN": token}, repo: "acme/gone.git",
			wantErr: ErrNotFound, wantMsg: ": repository not found (or TEST_TOKEN cannot read it)",
		},
		{
			name: "missing public repository", repo: "acme/gone.git",
			wantErr: ErrNotFound, wantMsg: ": repository not found (or private: set TEST_TOKEN or TEST_GH_TOKEN, or configure a git credential helper)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newGitServer(t, tt.serverUser, tt.serverPass)
			work := srv.addRepo(t, "acme/app.git")
			repo := tt.repo
			if repo == "" {
				repo = "acme/app.git"
			}
			raw := strings.Replace(srv.repoURL(repo), "https://", "https://"+tt.userinfo, 1)
			target, ok, err := Parse(raw)
			if err != nil || !ok {
				t.Fatalf("Parse(%q) = %v, %v", raw, ok, err)
			}
			wrapper, argvLog := argvRecorder(t)
			var log bytes.Buffer
			opts := Options{
				Getenv:     mapEnv(tt.vars),
				Log:        &log,
				tokenHosts: map[string]tokenSource{srv.hostPort(): {vars: []string{"TEST_TOKEN", "TEST_GH_TOKEN"}, user: "x-access-token"}},
				git:        wrapper,
				environ:    testEnv(t, srv.caFile),
			}
			dir, cleanup, err := Mirror(context.Background(), target, opts)
			defer cleanup()
			secrets := []string{token, base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token)), base64.StdEncoding.EncodeToString([]byte("alice:" + token))}

			argv, _ := os.ReadFile(argvLog)
			if len(argv) == 0 {
				t.Error("the git wrapper was never run")
			}
			for _, s := range secrets {
				if strings.Contains(string(argv), s) {
					t.Errorf("a secret reached git's arguments:\n%s", argv)
				}
				if strings.Contains(log.String(), s) || err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("a secret reached a message: %v / %q", err, log.String())
				}
			}
			if want := "keysweep: cloning " + srv.repoURL(repo) + "\n"; log.String() != want {
				t.Errorf("log = %q, want %q", log.String(), want)
			}

			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Mirror: %v, want %v", err, tt.wantErr)
				}
				want := "clone " + srv.repoURL(repo) + tt.wantMsg
				if diff := cmp.Diff(want, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				if dir != "" {
					t.Errorf("dir = %q with an error", dir)
				}
				return
			}
			if err != nil {
				t.Fatalf("Mirror: %v", err)
			}
			got := map[string]string{
				"main":   gitOut(t, dir, "rev-parse", "refs/heads/main"),
				"old":    gitOut(t, dir, "rev-parse", "refs/heads/old"),
				"v1":     gitOut(t, dir, "rev-parse", "refs/tags/v1^{commit}"),
				"HEAD":   gitOut(t, dir, "symbolic-ref", "HEAD"),
				"url":    gitOut(t, dir, "config", "remote.origin.url"),
				"mirror": gitOut(t, dir, "config", "remote.origin.mirror"),
				"bare":   gitOut(t, dir, "rev-parse", "--is-bare-repository"),
			}
			head := work.Git("rev-parse", "main")
			want := map[string]string{
				"main": head, "old": head, "v1": head, "HEAD": "refs/heads/main",
				"url": srv.repoURL(repo), "mirror": "true", "bare": "true",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mirror (-want +got):\n%s", diff)
			}
			assertNoSecret(t, dir, secrets...)
		})
	}
}

// TestMirrorUserHelper checks that git's own credential helpers answer
// when keysweep has no token for the host, and that a token, when set,
// is used instead of what they answer (and not handed to them to store).
func TestMirrorUserHelper(t *testing.T) {
	t.Parallel()
	const token = "glpat-TestToken0123456789"
	store := filepath.Join(t.TempDir(), "stored")
	helper := `!f() { if test "$1" = get; then echo username=carol; echo password=helperpw; else cat >> '` + store + `'; fi; }; f`
	for _, tc := range []struct {
		name       string
		serverUser string
		serverPass string
		vars       map[string]string
	}{
		{name: "helper answers", serverUser: "carol", serverPass: "helperpw"},
		{name: "token replaces the helper", serverUser: "oauth2", serverPass: token, vars: map[string]string{"TEST_GITLAB_TOKEN": token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newGitServer(t, tc.serverUser, tc.serverPass)
			srv.addRepo(t, "group/app.git")
			target, _, err := Parse(srv.repoURL("group/app.git"))
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{
				Getenv:     mapEnv(tc.vars),
				tokenHosts: map[string]tokenSource{srv.hostPort(): {vars: []string{"TEST_GITLAB_TOKEN"}, user: "oauth2"}},
				environ: testEnv(t, srv.caFile,
					"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0="+helper),
			}
			dir, cleanup, err := Mirror(context.Background(), target, opts)
			defer cleanup()
			if err != nil {
				t.Fatalf("Mirror: %v", err)
			}
			if gitOut(t, dir, "rev-parse", "main") == "" {
				t.Error("the mirror has no main")
			}
		})
	}
	b, _ := os.ReadFile(store)
	if strings.Contains(string(b), token) {
		t.Errorf("the user's helper was given the token to store:\n%s", b)
	}
}

// TestMirrorRedirect checks that the credential never goes to another
// host, whether the redirect comes before or after authentication.
func TestMirrorRedirect(t *testing.T) {
	t.Parallel()
	const token = "ghp_RedirectToken0123456789"
	for _, auth := range []bool{false, true} {
		t.Run(map[bool]string{false: "before auth", true: "after auth"}[auth], func(t *testing.T) {
			t.Parallel()
			var srv *gitServer
			if auth {
				srv = newGitServer(t, "x-access-token", token)
			} else {
				srv = newGitServer(t, "", "")
			}
			srv.addRepo(t, "acme/app.git")
			// Another host (port) that asks for credentials, and records
			// every Authorization header it gets.
			catcher := newGitServer(t, "anyone", "anything")
			catcher.addRepo(t, "acme/app.git")
			srv.setRedirect(catcher.URL)

			target, _, _ := Parse(srv.repoURL("acme/app.git"))
			opts := Options{
				Getenv:     mapEnv(map[string]string{"TEST_TOKEN": token}),
				tokenHosts: map[string]tokenSource{srv.hostPort(): {vars: []string{"TEST_TOKEN"}, user: "x-access-token"}},
				environ:    testEnv(t, srv.caFile),
			}
			_, cleanup, err := Mirror(context.Background(), target, opts)
			defer cleanup()
			if err == nil {
				t.Fatal("Mirror succeeded through a redirect to a host that wants other credentials")
			}
			t.Logf("Mirror: %v", err)
			if !errors.Is(err, ErrAuth) {
				t.Errorf("Mirror: %v, want %v", err, ErrAuth)
			}
			if !auth && !strings.Contains(err.Error(), "redirected to "+catcher.hostPort()) {
				t.Errorf("the error does not name the redirect: %v", err)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error: %q", err)
			}
			reqs := catcher.requests()
			if len(reqs) == 0 {
				t.Fatal("the redirect was not followed: the test proves nothing")
			}
			for _, r := range reqs {
				if !strings.HasSuffix(r, "Authorization=") {
					t.Errorf("the other host was sent credentials: %s", r)
				}
			}
		})
	}
}

// TestMirrorMoved checks that a repository renamed on its host (a
// redirect on the same host) is cloned, with the token.
func TestMirrorMoved(t *testing.T) {
	t.Parallel()
	const token = "ghp_MovedToken0123456789"
	srv := newGitServer(t, "x-access-token", token)
	work := srv.addRepo(t, "acme/app.git")
	srv.move("acme/old-name.git", "acme/app.git")
	target, _, _ := Parse(srv.repoURL("acme/old-name.git"))
	opts := Options{
		Getenv:     mapEnv(map[string]string{"TEST_TOKEN": token}),
		tokenHosts: map[string]tokenSource{srv.hostPort(): {vars: []string{"TEST_TOKEN"}, user: "x-access-token"}},
		environ:    testEnv(t, srv.caFile),
	}
	dir, cleanup, err := Mirror(context.Background(), target, opts)
	defer cleanup()
	if err != nil {
		t.Fatalf("Mirror: %v\n%s", err, strings.Join(srv.requests(), "\n"))
	}
	if got, want := gitOut(t, dir, "rev-parse", "main"), work.Git("rev-parse", "main"); got != want {
		t.Errorf("main = %q, want %q", got, want)
	}
}

func TestMirrorCache(t *testing.T) {
	t.Parallel()
	srv := newGitServer(t, "", "")
	work := srv.addRepo(t, "acme/app.git")
	cache := filepath.Join(t.TempDir(), "cache")
	target, _, _ := Parse(srv.repoURL("acme/app.git"))
	var log bytes.Buffer
	opts := Options{CacheDir: cache, Log: &log, environ: testEnv(t, srv.caFile)}

	dir, cleanup, err := Mirror(context.Background(), target, opts)
	if err != nil {
		t.Fatalf("first Mirror: %v", err)
	}
	cleanup()
	wantDir := filepath.Join(cache, strings.ReplaceAll(srv.hostPort(), ":", "_"), "acme", "app.git")
	if dir != wantDir {
		t.Fatalf("dir = %q, want %q", dir, wantDir)
	}
	for _, p := range []string{filepath.Dir(filepath.Dir(dir)), filepath.Dir(dir)} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, mode %v, want 0700", p, err, st.Mode().Perm())
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".keysweep-clone-*")); len(leftovers) > 0 {
		t.Errorf("temporary clones left: %v", leftovers)
	}

	// Upstream moves on: a commit, a branch deleted, a tag added.
	work.Write("app.txt", "second\n")
	second := work.Commit("second")
	work.Git("tag", "v2")
	work.Git("push", "-q", "origin", "main", "v2", ":old")

	dir2, cleanup2, err := Mirror(context.Background(), target, opts)
	if err != nil {
		t.Fatalf("second Mirror: %v", err)
	}
	cleanup2()
	if dir2 != dir {
		t.Errorf("second dir = %q, want %q", dir2, dir)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("cleanup removed the cache: %v", err)
	}
	got := map[string]string{
		"main": gitOut(t, dir, "rev-parse", "refs/heads/main"),
		"v2":   gitOut(t, dir, "rev-parse", "refs/tags/v2"),
		"old":  gitOut(t, dir, "rev-parse", "--verify", "--quiet", "refs/heads/old"),
	}
	if diff := cmp.Diff(map[string]string{"main": second, "v2": second, "old": ""}, got); diff != "" {
		t.Errorf("after fetch (-want +got):\n%s", diff)
	}
	url := srv.repoURL("acme/app.git")
	if want := "keysweep: cloning " + url + "\nkeysweep: fetching " + url + "\n"; log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "FETCH_HEAD")); err == nil {
		t.Error("fetch wrote FETCH_HEAD")
	}

	// The cache holds another repository's mirror: refused, not mixed.
	if out, err := exec.Command("git", "--git-dir", dir, "config", "remote.origin.url", "https://other.example/acme/app.git").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	_, _, err = Mirror(context.Background(), target, opts)
	if err == nil || !strings.Contains(err.Error(), "holds a mirror of https://other.example/acme/app.git, not of "+url) {
		t.Errorf("Mirror into another repository's cache: %v", err)
	}

	// Not a repository at all.
	junk, _, _ := Parse(srv.repoURL("acme/junk.git"))
	junkDir, _ := cachePath(cache, junk)
	if err := os.MkdirAll(junkDir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err = Mirror(context.Background(), junk, opts)
	if err == nil || !strings.Contains(err.Error(), "is not a git mirror: remove it") {
		t.Errorf("Mirror into a directory that is not a mirror: %v", err)
	}
}

// TestMirrorTemporary checks that a clone without a cache lands in a
// temporary directory that cleanup removes, and that a failed clone
// leaves nothing behind. It sets TMPDIR: not parallel.
func TestMirrorTemporary(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	srv := newGitServer(t, "", "")
	srv.addRepo(t, "acme/app.git")
	opts := Options{environ: testEnv(t, srv.caFile)}

	missing, _, _ := Parse(srv.repoURL("acme/missing.git"))
	if _, cleanup, err := Mirror(context.Background(), missing, opts); err == nil || cleanup == nil {
		t.Fatalf("Mirror of a missing repository: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("a failed clone left %v", entries)
	}

	target, _, _ := Parse(srv.repoURL("acme/app.git"))
	dir, cleanup, err := Mirror(context.Background(), target, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, tmp) || gitOut(t, dir, "rev-parse", "main") == "" {
		t.Errorf("dir %q is not a mirror in %q", dir, tmp)
	}
	cleanup()
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cleanup left %s: %v", dir, err)
	}
}

func TestMirrorFile(t *testing.T) {
	t.Parallel()
	bare := gittest.NewBare(t)
	work := gittest.New(t)
	work.Write("a.txt", "x\n")
	id := work.Commit("init")
	work.Git("push", "-q", bare.Dir, "main")

	target, ok, err := Parse("file://" + filepath.ToSlash(bare.Dir))
	if err != nil || !ok {
		t.Fatalf("Parse: %v %v", ok, err)
	}
	cache := t.TempDir()
	dir, cleanup, err := Mirror(context.Background(), target, Options{CacheDir: cache, environ: testEnv(t, "")})
	defer cleanup()
	if err != nil {
		t.Fatalf("Mirror: %v", err)
	}
	if !strings.HasPrefix(dir, filepath.Join(cache, "file")+string(filepath.Separator)) {
		t.Errorf("dir = %q, want under %s/file", dir, cache)
	}
	if got := gitOut(t, dir, "rev-parse", "main"); got != id {
		t.Errorf("main = %q, want %q", got, id)
	}

	gone, _, _ := Parse("file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "gone.git")))
	_, _, err = Mirror(context.Background(), gone, Options{environ: testEnv(t, "")})
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Mirror of a missing file:// repository: %v", err)
	}
}

// TestMirrorSSH clones over ssh through a stand-in for ssh that runs the
// command git asks the server to run on this machine, and records its
// arguments.
func TestMirrorSSH(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the ssh stand-in is a shell script")
	}
	bare := gittest.NewBare(t)
	work := gittest.New(t)
	work.Write("a.txt", "x\n")
	id := work.Commit("init")
	work.Git("push", "-q", bare.Dir, "main")

	for _, tc := range []struct {
		name      string
		env       []string
		wantBatch bool
	}{
		{name: "keysweep's ssh command", wantBatch: true},
		{name: "the user's ssh command", env: []string{"GIT_SSH_COMMAND=ssh -o User=me"}},
		{name: "the user's core.sshCommand", env: []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.sshCommand", "GIT_CONFIG_VALUE_0=ssh -o User=me"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bin := t.TempDir()
			argsLog := filepath.Join(bin, "ssh.log")
			script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + argsLog + "'\nfor last; do :; done\nexec sh -c \"$last\"\n"
			if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(script), 0o700); err != nil {
				t.Fatal(err)
			}
			env := testEnv(t, "", tc.env...)
			env[0] = "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
			target, ok, err := Parse("git@example.test:" + bare.Dir)
			if err != nil || !ok {
				t.Fatalf("Parse: %v %v", ok, err)
			}
			dir, cleanup, err := Mirror(context.Background(), target, Options{environ: env})
			defer cleanup()
			if err != nil {
				t.Fatalf("Mirror: %v", err)
			}
			if got := gitOut(t, dir, "rev-parse", "main"); got != id {
				t.Errorf("main = %q, want %q", got, id)
			}
			args, _ := os.ReadFile(argsLog)
			if got := strings.Contains(string(args), "BatchMode=yes"); got != tc.wantBatch {
				t.Errorf("BatchMode=yes passed: %v, want %v; ssh args:\n%s", got, tc.wantBatch, args)
			}
			if !strings.Contains(string(args), "git@example.test") {
				t.Errorf("ssh args:\n%s", args)
			}
		})
	}
}

func TestMirrorCanceled(t *testing.T) {
	t.Parallel()
	srv := newGitServer(t, "", "")
	srv.addRepo(t, "acme/app.git")
	target, _, _ := Parse(srv.repoURL("acme/app.git"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, cleanup, err := Mirror(ctx, target, Options{environ: testEnv(t, srv.caFile)})
	cleanup()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Mirror with a canceled context: %v", err)
	}
}

// TestMirrorUnparsedTarget checks that a Target not made by Parse is
// checked as an argument would be.
func TestMirrorUnparsedTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		target *Target
		want   string
	}{
		{nil, "mirror: no repository"},
		{&Target{URL: "ext::sh -c touch% /tmp/pwned", Scheme: "https"}, `transport "ext::"`},
		{&Target{URL: "-oProxyCommand=x", Scheme: "ssh"}, "starts with '-'"},
		{&Target{URL: "/srv/local", Scheme: "file"}, "is not a remote repository"},
	} {
		_, cleanup, err := Mirror(context.Background(), tc.target, Options{environ: []string{}})
		cleanup()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Mirror(%+v): %v, want %q", tc.target, err, tc.want)
		}
	}
}

func TestMirrorBadToken(t *testing.T) {
	t.Parallel()
	target, _, _ := Parse("https://github.com/acme/app")
	for _, tok := range []string{"ghp_x\nhost=evil.example", "ghp_x y", "ghp_\x00"} {
		_, cleanup, err := Mirror(context.Background(), target, Options{Getenv: mapEnv(map[string]string{"GH_TOKEN": tok})})
		cleanup()
		if err == nil || !strings.Contains(err.Error(), "GH_TOKEN holds a space or a control character") || strings.Contains(err.Error(), "ghp_") {
			t.Errorf("token %q: %v", tok, err)
		}
	}
}

// envMap is the environment as a map, later entries winning as they do
// for exec.Cmd.
func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	base := []string{
		"PATH=/usr/bin", "GIT_DIR=/elsewhere", "GIT_WORK_TREE=/w", "GIT_QUARANTINE_PATH=/q",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.proxy", "GIT_CONFIG_VALUE_0=http://proxy:3128",
		"GIT_ALLOW_PROTOCOL=ext", "GIT_ASKPASS=/usr/bin/ksshaskpass", "KEYSWEEP_REMOTE_PASSWORD=stale",
	}
	tests := []struct {
		arg  string
		vars map[string]string
		want map[string]string
	}{
		{
			arg: "https://github.com/acme/app", vars: map[string]string{"GITHUB_TOKEN": "ghp_abc"},
			want: map[string]string{
				"GIT_ALLOW_PROTOCOL": "https", "GIT_CONFIG_COUNT": "3",
				"GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://proxy:3128",
				"GIT_CONFIG_KEY_1": "credential.https://github.com.helper", "GIT_CONFIG_VALUE_1": "",
				"GIT_CONFIG_KEY_2": "credential.https://github.com.helper", "GIT_CONFIG_VALUE_2": helperScript,
				envUser: "x-access-token", envPassword: "ghp_abc",
			},
		},
		{
			arg: "https://gitlab.com/group/sub/app", vars: map[string]string{"GITLAB_TOKEN": "glpat-abc"},
			want: map[string]string{
				"GIT_ALLOW_PROTOCOL": "https", "GIT_CONFIG_COUNT": "3",
				"GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://proxy:3128",
				"GIT_CONFIG_KEY_1": "credential.https://gitlab.com.helper", "GIT_CONFIG_VALUE_1": "",
				"GIT_CONFIG_KEY_2": "credential.https://gitlab.com.helper", "GIT_CONFIG_VALUE_2": helperScript,
				envUser: "oauth2", envPassword: "glpat-abc",
			},
		},
		{
			// A token of github.com never goes to another host.
			arg: "https://example.com/acme/app", vars: map[string]string{"GITHUB_TOKEN": "ghp_abc"},
			want: map[string]string{
				"GIT_ALLOW_PROTOCOL": "https", "GIT_CONFIG_COUNT": "1",
				"GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://proxy:3128",
			},
		},
		{
			arg: "https://alice@Example.com:8443/app",
			want: map[string]string{
				"GIT_ALLOW_PROTOCOL": "https", "GIT_CONFIG_COUNT": "2",
				"GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://proxy:3128",
				"GIT_CONFIG_KEY_1": "credential.https://example.com:8443.username", "GIT_CONFIG_VALUE_1": "alice",
			},
		},
		{
			arg: "http://127.0.0.1:9/app",
			want: map[string]string{
				"GIT_ALLOW_PROTOCOL": "http:https", "GIT_CONFIG_COUNT": "1",
				"GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://proxy:3128",
			},
		},
		{
			arg: "file:///srv/app.git",
			want: map[string]string{
				"GIT_ALLOW_PROTOCOL": "file", "GIT_CONFIG_COUNT": "1",
				"GIT_CONFIG_KEY_0": "http.proxy", "GIT_CONFIG_VALUE_0": "http://proxy:3128",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			t.Parallel()
			target, _, err := Parse(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			r, err := newRunner(context.Background(), target, Options{Getenv: mapEnv(tt.vars), environ: base})
			if err != nil {
				t.Fatal(err)
			}
			env := envMap(r.env)
			got := map[string]string{}
			for k := range tt.want {
				got[k] = env[k]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			for k, want := range map[string]string{
				"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C", "GCM_INTERACTIVE": "never",
				"GIT_NO_LAZY_FETCH": "1", "GIT_NO_REPLACE_OBJECTS": "1", "PATH": "/usr/bin",
			} {
				if v, ok := env[k]; !ok || v != want {
					t.Errorf("%s = %q (set %v), want %q", k, v, ok, want)
				}
			}
			for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_QUARANTINE_PATH"} {
				if _, ok := env[k]; ok {
					t.Errorf("%s is passed on", k)
				}
			}
			if _, ok := tt.want[envPassword]; !ok {
				if v, ok := env[envPassword]; ok {
					t.Errorf("%s = %q without a credential", envPassword, v)
				}
			}
		})
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	github, _, _ := Parse("https://github.com/acme/app")
	withToken, _, _ := Parse("https://github.com/acme/app")
	other, _, _ := Parse("https://alice:hunter2@git.example.com/app")
	ssh, _, _ := Parse("git@github.com:acme/app.git")
	tests := []struct {
		name   string
		target *Target
		vars   map[string]string
		stderr string
		want   string
	}{
		{"no credentials", github, nil, "fatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
			"clone https://github.com/acme/app: authentication refused (set GITHUB_TOKEN or GH_TOKEN, or configure a git credential helper)"},
		{"token refused", withToken, map[string]string{"GH_TOKEN": "ghp_secret123"}, "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/acme/app/'\n",
			"clone https://github.com/acme/app: authentication refused (check GH_TOKEN: it was refused, or cannot read this repository)"},
		{"not found", withToken, map[string]string{"GITHUB_TOKEN": "ghp_secret123"}, "remote: Repository not found.\nfatal: repository 'https://github.com/acme/app/' not found\n",
			"clone https://github.com/acme/app: repository not found (or GITHUB_TOKEN cannot read it)"},
		{"forbidden", other, nil, "fatal: unable to access 'https://git.example.com/app/': The requested URL returned error: 403\n",
			"clone https://git.example.com/app: authentication refused: access denied (the user name and password in the URL were refused)"},
		{"dns", github, nil, "fatal: unable to access 'https://github.com/acme/app/': Could not resolve host: github.com\n",
			"clone https://github.com/acme/app: cannot resolve host github.com"},
		{"ssh dns", ssh, nil, "ssh: Could not resolve hostname github.com: Name or service not known\r\nfatal: Could not read from remote repository.\n",
			"clone git@github.com:acme/app.git: cannot resolve host github.com"},
		{"ssh key", ssh, nil, "git@github.com: Permission denied (publickey).\r\nfatal: Could not read from remote repository.\n",
			"clone git@github.com:acme/app.git: authentication refused (load a key into ssh-agent, or name one in ~/.ssh/config)"},
		{"host key", ssh, nil, "Host key verification failed.\r\nfatal: Could not read from remote repository.\n",
			"clone git@github.com:acme/app.git: the ssh host key of github.com is not trusted (connect once with ssh to check it and add it to known_hosts)"},
		{"refused", github, nil, "fatal: unable to access 'https://github.com/acme/app/': Failed to connect to github.com port 443 after 0 ms: Connection refused\n",
			"clone https://github.com/acme/app: connection refused by github.com"},
		{"tls", other, nil, "fatal: unable to access 'https://git.example.com/app/': SSL certificate problem: self-signed certificate\n",
			"clone https://git.example.com/app: the TLS certificate of git.example.com is not trusted (set GIT_SSL_CAINFO or http.sslCAInfo to its CA)"},
		{"cut", github, nil, "error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly\nfatal: early EOF\n",
			"clone https://github.com/acme/app: the transfer was cut off (try again)"},
		{"unknown, scrubbed", other, nil, "fatal: the server said hunter2 and https://bob:pw@evil.example/x and " + base64.StdEncoding.EncodeToString([]byte("alice:hunter2")) + "\x1b[2J\n",
			"clone https://git.example.com/app: git clone: the server said *** and https://evil.example/x and ***\\x1b[2J"},
		{"redirected", github, nil, "fatal: could not read Username for 'https://evil.example:8443': terminal prompts disabled\n",
			"clone https://github.com/acme/app: authentication refused: the server redirected to evil.example:8443, which asks for credentials (keysweep gives them only to github.com; clone from the URL the repository moved to)"},
		{"same origin, default port", github, nil, "fatal: could not read Username for 'https://github.com:443': terminal prompts disabled\n",
			"clone https://github.com/acme/app: authentication refused (set GITHUB_TOKEN or GH_TOKEN, or configure a git credential helper)"},
		{"empty", github, nil, "", "clone https://github.com/acme/app: git clone: failed without a message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := newRunner(context.Background(), tt.target, Options{Getenv: mapEnv(tt.vars), environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			got := r.failure("clone", []byte(tt.stderr)).Error()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("failure (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCachePath(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tests := []struct {
		target *Target
		want   string
	}{
		{&Target{Host: "github.com", Scheme: "https", path: "/acme/app"}, "github.com/acme/app.git"},
		{&Target{Host: "github.com", Scheme: "https", path: "/acme/app.git"}, "github.com/acme/app.git"},
		{&Target{Host: "github.com", Scheme: "https", path: "/acme/app.GIT/"}, "github.com/acme/app.git"},
		{&Target{Host: "127.0.0.1:8443", Scheme: "https", path: "/x"}, "127.0.0.1_8443/x.git"},
		{&Target{Host: "[::1]:8443", Scheme: "https", path: "/x"}, "___1__8443/x.git"},
		{&Target{Scheme: "file", path: "/srv/repos/x.git"}, "file/srv/repos/x.git"},
		{&Target{Host: "h", Scheme: "ssh", path: "~alice/x"}, "h/_alice/x.git"},
		{&Target{Host: "h", Scheme: "https", path: "/../../etc/passwd"}, "h/__/__/etc/passwd.git"},
		{&Target{Host: "h", Scheme: "https", path: "/a/./b"}, "h/a/_/b.git"},
		{&Target{Host: "h", Scheme: "https", path: `/a\..\..\b`}, "h/a/__/__/b.git"},
		{&Target{Host: "h", Scheme: "https", path: "/.git/hooks"}, "h/_git/hooks.git"},
		{&Target{Host: "h", Scheme: "https", path: "/.git"}, "h/_.git"},
		{&Target{Host: "h", Scheme: "https", path: "/a b/c:d/e\x00f"}, "h/a_b/c_d/e_f.git"},
		{&Target{Host: "h", Scheme: "https", path: "/CON/nul.txt"}, "h/_CON/_nul.txt.git"},
		{&Target{Host: "h", Scheme: "https", path: "/a./b"}, "h/a_/b.git"},
		{&Target{Host: "h", Scheme: "https", path: "/" + strings.Repeat("x", 300)}, "h/" + strings.Repeat("x", maxSegment) + ".git"},
	}
	for _, tt := range tests {
		got, err := cachePath(root, tt.target)
		if err != nil {
			t.Errorf("cachePath(%q): %v", tt.target.path, err)
			continue
		}
		if want := filepath.Join(root, filepath.FromSlash(tt.want)); got != want {
			t.Errorf("cachePath(%q %q) = %q, want %q", tt.target.Host, tt.target.path, got, want)
		}
	}
	for _, bad := range []*Target{
		{Host: "h", Scheme: "https", path: "/"},
		{Host: "h", Scheme: "https", path: strings.Repeat("/a", maxSegments+1)},
	} {
		if got, err := cachePath(root, bad); err == nil {
			t.Errorf("cachePath(%q) = %q, want an error", bad.path, got)
		}
	}
}
