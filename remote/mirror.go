package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/keysweep/keysweep/internal/escape"
)

// Options are how Mirror fetches a repository.
type Options struct {
	// CacheDir, if set, keeps mirrors between runs, each at
	// <CacheDir>/<host>/<path>.git: created on the first run, fetched
	// (with pruning) on the next. "" clones into a temporary directory
	// that cleanup removes.
	CacheDir string
	// Getenv reads the tokens: GITHUB_TOKEN or GH_TOKEN for github.com,
	// GITLAB_TOKEN for gitlab.com (https only). nil reads none.
	Getenv func(string) string
	// Log, if set, is told in one line what is done ("keysweep: cloning
	// https://host/owner/repo", "keysweep: fetching ..."), never a
	// credential.
	Log io.Writer

	// tokenHosts replaces defaultTokenHosts (tests serve on 127.0.0.1).
	tokenHosts map[string]tokenSource
	// git is the git binary; "" is git from PATH.
	git string
	// environ replaces os.Environ() as the base of git's environment.
	environ []string
}

// tokenSource is where the token for a host comes from, and the user
// name the host takes it with.
type tokenSource struct {
	vars []string // environment variables, the first one set wins
	user string
}

// defaultTokenHosts: GitHub takes any token (classic or fine-grained
// personal, App installation, Actions' GITHUB_TOKEN) as the password of
// user x-access-token; GitLab takes personal, project, group and OAuth
// tokens as the password of user oauth2.
func defaultTokenHosts() map[string]tokenSource {
	return map[string]tokenSource{
		"github.com": {vars: []string{"GITHUB_TOKEN", "GH_TOKEN"}, user: "x-access-token"},
		"gitlab.com": {vars: []string{"GITLAB_TOKEN"}, user: "oauth2"},
	}
}

// The environment variables the credential helper reads the user name
// and password from: the password is never in an argument list, a file,
// or the URL git stores.
const (
	envUser     = "KEYSWEEP_REMOTE_USERNAME"
	envPassword = "KEYSWEEP_REMOTE_PASSWORD"
)

// helperScript is the credential helper keysweep gives git for the
// repository's origin only (git appends the action: get, store, erase).
// git asks it only after the server answered 401, and only for that
// scheme, host and port: a redirect to another host is never answered
// with the credential.
const helperScript = `!f() { test "$1" = get || return 0; printf 'username=%s\npassword=%s\n' "$` + envUser + `" "$` + envPassword + `"; }; f`

// credential is what keysweep gives git to authenticate with.
type credential struct {
	user, password string
	// helper: give user and password through helperScript (replacing
	// the user's helpers for the origin); otherwise only the user name,
	// and git's own helpers find the password.
	helper bool
	// from names where the credential came from, for messages: an
	// environment variable or "the URL".
	from string
}

// runner runs git for one target.
type runner struct {
	t      *Target
	opts   Options
	cred   *credential
	hint   string // what to do when authentication is refused
	env    []string
	git    string
	config []string // -c options before the subcommand
}

// Mirror clones t into a bare mirror (or, with a cache, fetches into the
// one a previous run made) and returns its directory, and cleanup, which
// removes a temporary clone (a no-op for the cache). cleanup is never nil.
//
// Every error is one line that names the URL without credentials, says
// why (authentication refused, repository not found, cannot resolve
// host, ...) and what to do; ErrAuth and ErrNotFound are matched with
// errors.Is. An error of ctx (interrupted) wraps ctx.Err().
func Mirror(ctx context.Context, t *Target, opts Options) (dir string, cleanup func(), err error) {
	noop := func() {}
	if t == nil || t.URL == "" {
		return "", noop, errors.New("mirror: no repository")
	}
	if t.path == "" {
		// Not made by Parse: checked as an argument would be.
		p, ok, err := Parse(t.URL)
		if err != nil {
			return "", noop, err
		}
		if !ok {
			return "", noop, fmt.Errorf("mirror: %q is not a remote repository", escape.Text(t.URL))
		}
		t = p
	}
	r, err := newRunner(ctx, t, opts)
	if err != nil {
		return "", noop, err
	}
	if opts.CacheDir == "" {
		root, err := os.MkdirTemp("", "keysweep-mirror-")
		if err != nil {
			return "", noop, fmt.Errorf("clone %s: %w", t, err)
		}
		remove := func() { _ = os.RemoveAll(root) }
		r.logf("cloning")
		if err := r.clone(ctx, root); err != nil {
			remove()
			return "", noop, err
		}
		return root, remove, nil
	}

	dir, err = cachePath(opts.CacheDir, t)
	if err != nil {
		return "", noop, err
	}
	st, err := os.Lstat(dir)
	switch {
	case err == nil && st.IsDir():
		r.logf("fetching")
		if err := r.fetch(ctx, dir); err != nil {
			return "", noop, err
		}
		return dir, noop, nil
	case err == nil:
		return "", noop, fmt.Errorf("cache %s is not a directory: remove it", escape.Text(dir))
	case !errors.Is(err, fs.ErrNotExist):
		return "", noop, fmt.Errorf("cache: %w", err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", noop, fmt.Errorf("cache: %w", err)
	}
	// Cloned beside and renamed into place: an interrupted clone never
	// leaves a half mirror where the next run would fetch into it.
	tmp, err := os.MkdirTemp(parent, ".keysweep-clone-")
	if err != nil {
		return "", noop, fmt.Errorf("cache: %w", err)
	}
	r.logf("cloning")
	if err := r.clone(ctx, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return "", noop, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		if st, serr := os.Lstat(dir); serr == nil && st.IsDir() {
			// Another run cloned it meanwhile: as fresh as ours.
			return dir, noop, nil
		}
		return "", noop, fmt.Errorf("cache: %w", err)
	}
	return dir, noop, nil
}

// newRunner works out the credential, the environment and the options
// git runs with.
func newRunner(ctx context.Context, t *Target, opts Options) (*runner, error) {
	r := &runner{t: t, opts: opts, git: opts.git}
	if r.git == "" {
		r.git = "git"
	}
	if err := r.credentials(); err != nil {
		return nil, err
	}
	base := opts.environ
	if base == nil {
		base = os.Environ()
	}
	env, err := r.environment(ctx, base)
	if err != nil {
		return nil, err
	}
	r.env = env
	r.config = []string{
		// No hook of the user's templates runs (reference-transaction
		// runs on fetch), nor would one a mirror somehow held.
		"-c", "core.hooksPath=" + os.DevNull,
		// git's default, whatever the user's configuration says: a
		// redirect is followed only on the first request, and then
		// credentials are asked for the new host afresh.
		"-c", "http.followRedirects=initial",
		"-c", "submodule.recurse=false",
		// An automatic gc finishes before the scan reads the mirror.
		"-c", "gc.autoDetach=false",
	}
	return r, nil
}

// credentials picks what the target is authenticated with: the user
// name and password of its URL, else the host's token, else git's own
// credential helpers (and for ssh, ssh's keys).
func (r *runner) credentials() error {
	t := r.t
	switch t.Scheme {
	case "ssh":
		r.hint = "load a key into ssh-agent, or name one in ~/.ssh/config"
		return nil
	case "file":
		return nil
	}
	if t.auth != nil {
		r.cred = &credential{user: t.auth.user, password: t.auth.password, helper: t.auth.hasPassword, from: "the URL"}
		if t.auth.hasPassword {
			r.hint = "the user name and password in the URL were refused"
		} else {
			r.hint = "configure a git credential helper for the user name in the URL"
		}
		return nil
	}
	hosts := r.opts.tokenHosts
	if hosts == nil {
		hosts = defaultTokenHosts()
	}
	src, ok := hosts[t.Host]
	if !ok || t.Scheme != "https" {
		r.hint = "configure a git credential helper, or put the user name in the URL"
		return nil
	}
	if r.opts.Getenv != nil {
		for _, v := range src.vars {
			tok := r.opts.Getenv(v)
			if tok == "" {
				continue
			}
			if strings.IndexFunc(tok, func(c rune) bool { return c <= ' ' || c == 0x7f }) >= 0 {
				return fmt.Errorf("%s holds a space or a control character: set it to the token alone", v)
			}
			r.cred = &credential{user: src.user, password: tok, helper: true, from: v}
			r.hint = "check " + v + ": it was refused, or cannot read this repository"
			return nil
		}
	}
	r.hint = "set " + strings.Join(src.vars, " or ") + ", or configure a git credential helper"
	return nil
}

// unsetEnv are variables of the caller's environment that would make
// git work on another repository than the mirror (set when keysweep runs
// from a hook), write a credential into a trace, or that keysweep sets
// itself.
var unsetEnv = map[string]bool{
	"GIT_DIR": true, "GIT_WORK_TREE": true, "GIT_INDEX_FILE": true, "GIT_OBJECT_DIRECTORY": true,
	"GIT_ALTERNATE_OBJECT_DIRECTORIES": true, "GIT_COMMON_DIR": true, "GIT_NAMESPACE": true,
	"GIT_QUARANTINE_PATH": true, "GIT_PREFIX": true, "GIT_CEILING_DIRECTORIES": true,
	envUser: true, envPassword: true,
	// Traces keep Authorization headers out only while redaction is on,
	// git's default.
	"GIT_TRACE_REDACT": true,
}

// environment returns git's environment: base less unsetEnv, with no
// prompt of any kind, only the target's protocol allowed, and the
// credential (through GIT_CONFIG_COUNT, after the caller's own entries).
func (r *runner) environment(ctx context.Context, base []string) ([]string, error) {
	env := make([]string, 0, len(base)+16)
	configCount := 0
	has := map[string]bool{}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if unsetEnv[k] {
			continue
		}
		if k == "GIT_CONFIG_COUNT" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("GIT_CONFIG_COUNT=%q is not a count", v)
			}
			configCount = n
			continue
		}
		if v != "" {
			has[k] = true
		}
		env = append(env, kv)
	}
	allow := r.t.Scheme
	if allow == "http" {
		allow = "http:https"
	}
	env = append(env,
		"LC_ALL=C",
		"GIT_TERMINAL_PROMPT=0",
		// Empty: no askpass program at all, not even core.askPass or
		// SSH_ASKPASS, which git would fall back on.
		"GIT_ASKPASS=",
		// Git Credential Manager shows no window.
		"GCM_INTERACTIVE=never",
		"GIT_NO_LAZY_FETCH=1",
		"GIT_NO_REPLACE_OBJECTS=1",
		// Neither a redirect nor anything the repository names can make
		// git use another transport (ext:: runs a command).
		"GIT_ALLOW_PROTOCOL="+allow,
	)
	var config [][2]string
	if c := r.cred; c != nil {
		scope := "credential." + r.t.origin
		if c.helper {
			config = append(config,
				[2]string{scope + ".helper", ""}, // the user's helpers neither answer nor store
				[2]string{scope + ".helper", helperScript})
			env = append(env, envUser+"="+c.user, envPassword+"="+c.password)
		} else {
			config = append(config, [2]string{scope + ".username", c.user})
		}
	}
	for i, kv := range config {
		n := strconv.Itoa(configCount + i)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+kv[0], "GIT_CONFIG_VALUE_"+n+"="+kv[1])
	}
	if configCount+len(config) > 0 {
		env = append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(configCount+len(config)))
	}
	if r.t.Scheme == "ssh" && !has["GIT_SSH_COMMAND"] && !has["GIT_SSH"] && !r.userSSHCommand(ctx, env) {
		// ssh never asks for a passphrase or to accept a host key.
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	return env, nil
}

// userSSHCommand says whether the user's git configuration names an ssh
// command (core.sshCommand), which keysweep then leaves alone.
func (r *runner) userSSHCommand(ctx context.Context, env []string) bool {
	cmd := exec.CommandContext(ctx, r.git, "config", "--get", "core.sshCommand")
	cmd.Env = env
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) != ""
}

func (r *runner) logf(action string) {
	if r.opts.Log != nil {
		fmt.Fprintf(r.opts.Log, "keysweep: %s %s\n", action, escape.Text(r.t.String()))
	}
}

// clone clones the target into dir, an empty directory.
func (r *runner) clone(ctx context.Context, dir string) error {
	_, err := r.run(ctx, "clone", "clone", "--mirror", "--quiet", "--no-recurse-submodules", "--", r.t.URL, dir)
	return err
}

// fetch brings the cached mirror dir up to date with the target: every
// ref, those gone from the target removed.
func (r *runner) fetch(ctx context.Context, dir string) error {
	out, err := r.run(ctx, "fetch", "--git-dir", dir, "rev-parse", "--is-bare-repository")
	if err != nil || strings.TrimSpace(out) != "true" {
		return fmt.Errorf("cache %s is not a git mirror: remove it", escape.Text(dir))
	}
	stored, _ := r.run(ctx, "fetch", "--git-dir", dir, "config", "--get", "remote.origin.url")
	stored = strings.TrimSpace(stored)
	if stored != r.t.URL {
		if !strings.EqualFold(stored, r.t.URL) {
			return fmt.Errorf("cache %s holds a mirror of %s, not of %s: remove it, or name the repository as before", escape.Text(dir), escape.Text(redactArg(stored)), escape.Text(r.t.String()))
		}
		if _, err := r.run(ctx, "fetch", "--git-dir", dir, "config", "remote.origin.url", r.t.URL); err != nil {
			return err
		}
	}
	// The URL and refspec are named, not read from the cached config.
	_, err = r.run(ctx, "fetch", "--git-dir", dir, "fetch", "--prune", "--quiet", "--no-write-fetch-head",
		"--recurse-submodules=no", "--", r.t.URL, "+refs/*:refs/*")
	return err
}

// maxStderr bounds what is kept of git's error output (its end, where
// the reason is): a hostile server can send remote: lines without end.
const maxStderr = 64 << 10

// run runs git with args (after the -c options) and returns its output;
// op (clone, fetch) names the step in an error.
func (r *runner) run(ctx context.Context, op string, args ...string) (string, error) {
	full := append(append([]string{}, r.config...), args...)
	cmd := exec.CommandContext(ctx, r.git, full...)
	cmd.Env = r.env
	cmd.Stdin = nil
	// git's helpers (git-remote-https, ssh) may hold the pipes after git
	// is killed on cancel.
	cmd.WaitDelay = 5 * time.Second
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stdout = &limitedWriter{w: &stdout, n: 1 << 20}
	cmd.Stderr = stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s %s: %w", op, escape.Text(r.t.String()), ctx.Err())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "", fmt.Errorf("%s %s: run git: %w (keysweep needs git on PATH)", op, escape.Text(r.t.String()), err)
	}
	return "", r.failure(op, stderr.Bytes())
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= b.max {
		b.buf = append(b.buf[:0], p[len(p)-b.max:]...)
		return n, nil
	}
	if over := len(b.buf) + len(p) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

func (b *tailBuffer) Bytes() []byte { return b.buf }

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
