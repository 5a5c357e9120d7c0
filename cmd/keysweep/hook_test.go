package main

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/internal/gittest"
)

// gitServer is a bare repository that a client pushes to with real git,
// with keysweep (this test binary standing in for it) as its pre-receive
// hook once hook is called.
type gitServer struct {
	t      *testing.T
	bare   *gittest.Repo
	client *gittest.Repo
	audit  string
}

func newGitServer(t *testing.T) *gitServer {
	t.Helper()
	s := &gitServer{t: t, bare: gittest.NewBare(t), client: gittest.New(t), audit: filepath.Join(t.TempDir(), "audit.jsonl")}
	s.bare.Git("config", "receive.advertisePushOptions", "true")
	s.client.Git("remote", "add", "origin", s.bare.Dir)
	return s
}

// hook installs keysweep hook pre-receive with args.
func (s *gitServer) hook(args ...string) {
	s.t.Helper()
	line := "KEYSWEEP_AS_CLI=1 exec " + shellQuote(os.Args[0]) + " hook pre-receive --audit-log " + shellQuote(s.audit)
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	writeFile(s.t, filepath.Join(s.bare.Dir, "hooks", "pre-receive"), "#!/bin/sh\n"+line+"\n", 0o755)
}

// seed pushes a first, clean commit to main.
func (s *gitServer) seed() {
	s.t.Helper()
	s.client.Write("README.md", "# app\n")
	s.client.Commit("init")
	s.accepted("main")
}

// accepted pushes and expects the push to go through.
func (s *gitServer) accepted(args ...string) string {
	s.t.Helper()
	return s.client.Git(append([]string{"push", "origin"}, args...)...)
}

// refused pushes and expects the hook to refuse the push.
func (s *gitServer) refused(args ...string) string {
	s.t.Helper()
	out := s.client.GitFails(append([]string{"push", "origin"}, args...)...)
	if !strings.Contains(out, "pre-receive hook declined") {
		s.t.Fatalf("push failed, but not by the hook:\n%s", out)
	}
	return out
}

// ref returns what ref points at on the server, or "" when it does not
// exist.
func (s *gitServer) ref(name string) string {
	s.t.Helper()
	out, err := s.bare.Try("rev-parse", "--verify", "--quiet", name)
	if err != nil {
		return ""
	}
	return out
}

// runHook runs keysweep (this test binary) in dir as git runs a hook,
// and returns its exit code and stderr.
func runHook(t *testing.T, dir, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KEYSWEEP_AS_CLI=1")
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatal(err)
	return 0, ""
}

// auditEntries reads the server's audit log.
func (s *gitServer) auditEntries() []audit.Entry {
	s.t.Helper()
	entries, err := audit.Read(s.audit)
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

// checkRefusal checks that a refusal names each place and shows no
// secret in clear.
func checkRefusal(t *testing.T, out string, secrets []string, places ...string) {
	t.Helper()
	for _, p := range places {
		if !strings.Contains(out, p) {
			t.Errorf("refusal does not name %q:\n%s", p, out)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("refusal shows a secret in clear:\n%s", out)
		}
	}
	for _, want := range []string{"remote: keysweep: push refused", "How to fix it", "fingerprint"} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal lacks %q:\n%s", want, out)
		}
	}
}

var allSecrets = []string{tokA, tokB, tokC, tokD, tokE, secret}

func TestPreReceiveAcceptsCleanAndRefusesSecrets(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	c := s.client
	c.Write("README.md", "# app\n")
	c.Write("src/main.go", "package main\n")
	c.Commit("init")
	out := s.accepted("main")
	if !strings.Contains(out, "keysweep: checked 1 new commit (2 blobs") || !strings.Contains(out, "no secrets") {
		t.Errorf("clean push summary:\n%s", out)
	}

	before := s.ref("main")
	c.Write("deploy/prod.env", "REGION=eu-west-1\nDEBUG=false\nAWS_ACCESS_KEY_ID="+keyID+"\nAWS_SECRET_ACCESS_KEY="+secret+"\n")
	leak := c.Commit("prod settings")
	out = s.refused("main")
	checkRefusal(t, out, allSecrets, "aws-access-key", "deploy/prod.env:3", leak[:12], "(refs/heads/main)", "git push -o keysweep.allow=aws-access-key:")
	if got := s.ref("main"); got != before {
		t.Errorf("main moved to %s on a refused push", got)
	}
}

func TestPreReceiveEarlierCommitOfAPush(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	c := s.client
	s.seed()
	c.Write("ci.yml", "env:\n  GITHUB_TOKEN: "+tokA+"\n")
	leak := c.Commit("ci")
	c.Write("ci.yml", "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n")
	c.Commit("use the secret store")
	c.Write("docs.md", "docs\n")
	c.Commit("docs")
	out := s.refused("main")
	checkRefusal(t, out, allSecrets, "github-token", "ci.yml:2", "commit       "+leak[:12])
}

func TestPreReceiveMergeCommit(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	c := s.client
	c.Write("app.conf", "mode = dev\n")
	c.Commit("init")
	s.accepted("main")
	c.Git("checkout", "-q", "-b", "feature")
	c.Write("app.conf", "mode = feature\n")
	c.Commit("feature")
	c.Git("checkout", "-q", "main")
	c.Write("app.conf", "mode = prod\n")
	c.Commit("prod")
	c.GitFails("merge", "-q", "feature")
	// The conflict is resolved with a token neither parent has.
	c.Write("app.conf", "mode = prod\ntoken = "+tokB+"\n")
	merge := c.Commit("merge feature")
	out := s.refused("main")
	checkRefusal(t, out, allSecrets, "app.conf:2", "commit       "+merge[:12])
}

func TestPreReceiveKnownHistory(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	c := s.client
	// History the server held before keysweep was installed, secret and all.
	c.Write("old.env", "TOKEN="+tokC+"\n")
	c.Commit("old secret")
	c.Write("old.env", "TOKEN=\n")
	c.Commit("clear it")
	s.accepted("main")
	s.hook()

	out := s.accepted("main:refs/heads/copy")
	if !strings.Contains(out, "nothing new to check") {
		t.Errorf("new branch at known history:\n%s", out)
	}
	out = s.accepted(":refs/heads/copy")
	if !strings.Contains(out, "nothing new to check") || s.ref("refs/heads/copy") != "" {
		t.Errorf("deletion:\n%s", out)
	}
	c.Git("tag", "v0.1", "HEAD~1")
	out = s.accepted("v0.1")
	if !strings.Contains(out, "nothing new to check") {
		t.Errorf("tag at known history:\n%s", out)
	}
	// A new commit that puts back a secret from old history: being in the
	// object store is no proof of having been checked (a push can leave
	// objects no ref reaches), so the blob is scanned, and the push that
	// puts the secret back at the tip is refused.
	c.Write("old.env", "TOKEN="+tokC+"\n")
	revert := c.Commit("revert the clean-up")
	out = s.refused("main")
	checkRefusal(t, out, allSecrets, "old.env:1", "commit       "+revert[:12])
}

func TestPreReceiveTags(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	c := s.client
	s.seed()
	// Commits on no branch, reachable only from the tags pushed.
	c.Git("checkout", "-q", "--detach")
	c.Write("release.env", "NPM_TOKEN="+tokD+"\n")
	c.Commit("release")
	c.Git("tag", "-a", "-m", "release 1.0", "v1.0")
	out := s.refused("v1.0")
	checkRefusal(t, out, allSecrets, "release.env:1", "(refs/tags/v1.0)")
	c.Git("tag", "light")
	out = s.refused("light")
	checkRefusal(t, out, allSecrets, "release.env:1", "(refs/tags/light)")
	if s.ref("refs/tags/v1.0") != "" || s.ref("refs/tags/light") != "" {
		t.Error("a refused tag was created")
	}
}

func TestPreReceiveBypass(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	c := s.client
	s.seed()
	c.Write("test/fixtures/token.txt", tokA+"\n")
	c.Write("deploy.sh", "export GITHUB_TOKEN="+tokB+"\n")
	leak := c.Commit("fixtures")
	fpA := finding.Fingerprint("github-token", "", tokA)
	fpB := finding.Fingerprint("github-token", "", tokB)

	out := s.refused("main", "-o", "keysweep.allow="+fpA)
	if !strings.Contains(out, "keysweep.allow needs a reason") {
		t.Errorf("allow without a reason:\n%s", out)
	}
	// Allowing one of two secrets is not enough.
	out = s.refused("main", "-o", "keysweep.allow="+fpA, "-o", "keysweep.reason=test fixture")
	checkRefusal(t, out, allSecrets, "deploy.sh:1")
	if strings.Contains(out, "token.txt") {
		t.Errorf("the allowed secret is still listed:\n%s", out)
	}
	out = s.accepted("main", "-o", "keysweep.allow="+fpA, "-o", "keysweep.allow="+fpB, "-o", "keysweep.reason=test fixture")
	if !strings.Contains(out, "2 secrets allowed by the pusher") {
		t.Errorf("allowed push:\n%s", out)
	}
	type entry struct{ Action, Reason, Fingerprint, Path, Commit string }
	var got []entry
	for _, e := range s.auditEntries() {
		if e.Repo == "" || len(e.Refs) != 1 || e.Refs[0] != "refs/heads/main" || e.Time == "" {
			t.Errorf("audit entry lacks the push's context: %+v", e)
		}
		got = append(got, entry{e.Action, e.Reason, e.Fingerprint, e.Path, e.Commit})
	}
	want := []entry{
		{"push-allow", "test fixture", fpB, "deploy.sh", leak},
		{"push-allow", "test fixture", fpA, "test/fixtures/token.txt", leak},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}

	// Skipping the check: accepted, recorded with what it let through.
	c.Write("later.env", "TOKEN="+tokC+"\n")
	c.Commit("later")
	s.refused("main", "-o", "keysweep.skip")
	out = s.accepted("main", "-o", "keysweep.skip=emergency fix, token revoked")
	if !strings.Contains(out, "check skipped at the pusher's request") {
		t.Errorf("skip:\n%s", out)
	}
	entries := s.auditEntries()[2:]
	if len(entries) != 2 || entries[0].Action != "push-skip" || entries[0].Reason != "emergency fix, token revoked" || entries[1].Path != "later.env" {
		t.Errorf("skip audit entries: %+v", entries)
	}
	data, err := os.ReadFile(s.audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range allSecrets {
		if strings.Contains(string(data), sec) {
			t.Error("the audit log holds a secret")
		}
	}

	// An operator can turn bypasses off.
	s.hook("--no-bypass")
	c.Write("more.env", "TOKEN="+tokD+"\n")
	c.Commit("more")
	out = s.refused("main", "-o", "keysweep.skip=please")
	if !strings.Contains(out, "does not accept keysweep.allow or keysweep.skip") {
		t.Errorf("--no-bypass:\n%s", out)
	}
}

func TestPreReceiveOperatorConfig(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	c := s.client
	s.seed()

	ops := t.TempDir()
	ignore := filepath.Join(ops, "ignore")
	writeFile(t, ignore, finding.Fingerprint("github-token", "", tokA)+" shared demo token of the tutorial, revoked\n", 0o644)
	s.hook("--ignore-file", ignore)
	c.Write("tutorial.md", "Use "+tokA+" to try it.\n")
	c.Commit("tutorial")
	out := s.accepted("main")
	if !strings.Contains(out, "not reported: 1 ignored") {
		t.Errorf("operator ignore:\n%s", out)
	}

	// The pushed repository's own configuration does not switch rules off.
	c.Write(".keysweep.toml", "[rules]\ndisable = [\"github-token\", \"generic-secret\"]\n")
	c.Write("app.env", "TOKEN="+tokB+"\n")
	c.Commit("quiet the scanner")
	out = s.refused("main")
	checkRefusal(t, out, allSecrets, "app.env:1")

	// Trusted, it is read from the server's HEAD, before the push: pushing
	// it does not take effect in the same push; once it is there, it does.
	s.hook("--trust-repo-config")
	s.refused("main")
	c.Git("reset", "-q", "--hard", "HEAD~1")
	c.Write(".keysweep.toml", "[rules]\ndisable = [\"github-token\", \"generic-secret\"]\n")
	c.Commit("config")
	s.accepted("main")
	c.Write("app.env", "TOKEN="+tokB+"\n")
	c.Commit("app")
	s.accepted("main")

	// A broken operator configuration refuses pushes with its reason.
	bad := filepath.Join(ops, "bad.toml")
	writeFile(t, bad, "[rules]\nfrobnicate = true\n", 0o644)
	s.hook("--config", bad)
	c.Write("x.txt", "x\n")
	c.Commit("x")
	out = s.refused("main")
	if !strings.Contains(out, "frobnicate") || !strings.Contains(out, "fail-closed") {
		t.Errorf("bad config:\n%s", out)
	}
}

func TestPreReceiveTimeout(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	c := s.client
	s.seed()
	c.Write("app.env", "TOKEN="+tokE+"\n")
	c.Commit("app")

	// A budget too short for anything: the check cannot finish.
	s.hook("--timeout", "1ns")
	out := s.refused("main")
	if !strings.Contains(out, "push refused: the check did not finish within 1ns") || !strings.Contains(out, "fail-closed") {
		t.Errorf("fail-closed:\n%s", out)
	}
	s.hook("--timeout", "1ns", "--fail-open")
	out = s.accepted("main")
	if !strings.Contains(out, "WARNING: push accepted without a complete check for secrets (--fail-open)") {
		t.Errorf("fail-open:\n%s", out)
	}
	entries := s.auditEntries()
	if len(entries) != 1 || entries[0].Action != "push-fail-open" || !strings.Contains(entries[0].Error, "did not finish") {
		t.Errorf("fail-open audit: %+v", entries)
	}
}

func TestPreReceiveLargeAndBinaryFiles(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook("--max-blob-size", "1MiB")
	c := s.client
	big := make([]byte, 3<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(c.Dir, "assets", "video.bin"), string(big)+"\ntoken="+tokA+"\n", 0o644)
	writeFile(t, filepath.Join(c.Dir, "bin", "tool"), "\x7fELF\x00\x00\x01 "+strings.Repeat("\x00\x01", 100)+"\n", 0o755)
	c.Write("README.md", "# app\n")
	c.Commit("assets")
	out := s.accepted("main")
	// Binary files are scanned (text hides behind a NUL byte); what is too
	// large is named as not checked.
	if !strings.Contains(out, "checked 1 new commit (2 blobs,") || !strings.Contains(out, "not checked: 1 file larger than 1.0 MiB") {
		t.Errorf("summary:\n%s", out)
	}
	// A binary file with a token in it is refused.
	writeFile(t, filepath.Join(c.Dir, "bin", "tool"), "\x7fELF\x00\x00\x01 "+tokB+"\n", 0o755)
	c.Commit("tool")
	out = s.refused("main")
	checkRefusal(t, out, allSecrets, "bin/tool:1")
}

func TestPreReceiveBadInput(t *testing.T) {
	t.Parallel()
	bare := gittest.NewBare(t)
	missing := strings.Repeat("ab", 20)
	zero := strings.Repeat("0", 40)
	for _, tc := range []struct {
		name, stdin, want string
		args              []string
		code              int
	}{
		{"malformed", "hello\n", `push refused: ref update line 1: want "<old-id> <new-id> <ref>"`, nil, exitError},
		{"missing object", zero + " " + missing + " refs/heads/main\n", "push refused: scan incomplete: resolve refs/heads/main: object " + missing + " is missing", nil, exitError},
		{"missing, fail-open", zero + " " + missing + " refs/heads/main\n", "WARNING: push accepted without a complete check", []string{"--fail-open", "--audit-log", filepath.Join(t.TempDir(), "a.jsonl")}, exitClean},
		{"nothing", "", "nothing new to check", nil, exitClean},
		{"bad timeout", "", "--timeout must be positive", []string{"--timeout", "0s"}, exitError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"hook", "pre-receive"}, tc.args...)
			code, errOut := runHook(t, bare.Dir, tc.stdin, args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 && tc.code == exitError {
				t.Errorf("error is not one line:\n%s", errOut)
			}
		})
	}
}

// keysweepOnPath returns a PATH whose first directory holds a "keysweep"
// that runs this test binary as keysweep, for hooks that call keysweep by
// name.
func keysweepOnPath(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "keysweep"), "#!/bin/sh\nKEYSWEEP_AS_CLI=1 exec "+shellQuote(os.Args[0])+" \"$@\"\n", 0o755)
	return "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
}

func TestHookInstall(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	code, _, errOut := runCLI(t, "hook", "install", "--pre-push", r.Dir)
	hook := filepath.Join(r.Dir, ".git", "hooks", "pre-push")
	if code != exitClean || !strings.Contains(errOut, "installed "+hook) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `exec keysweep hook pre-push "$@"`) {
		t.Errorf("pre-push hook:\n%s", data)
	}
	// An existing hook is kept unless --force, and then backed up.
	code, _, errOut = runCLI(t, "hook", "install", "--pre-push", r.Dir)
	if code != exitError || !strings.Contains(errOut, "already exists: rerun with --force") {
		t.Errorf("second install: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "hook", "install", "--pre-push", "--force", r.Dir); code != exitClean {
		t.Errorf("--force: exit %d %s", code, errOut)
	}
	// keysweep's own hook, unchanged, is replaced without a backup.
	if _, err := os.Lstat(hook + ".keysweep-backup"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("keysweep's own hook was backed up: %v", err)
	}
	// core.hooksPath is where git looks, so it is where the hook goes.
	r.Git("config", "core.hooksPath", "githooks")
	if code, _, errOut := runCLI(t, "hook", "install", r.Dir); code != exitClean {
		t.Errorf("pre-commit: exit %d %s", code, errOut)
	}
	if data, err := os.ReadFile(filepath.Join(r.Dir, "githooks", "pre-commit")); err != nil || !strings.Contains(string(data), "exec keysweep staged") {
		t.Errorf("pre-commit hook under core.hooksPath: %v %q", err, data)
	}

	bare := gittest.NewBare(t)
	if code, _, errOut := runCLI(t, "hook", "install", bare.Dir); code != exitError || !strings.Contains(errOut, "bare repository") {
		t.Errorf("pre-commit in a bare repository: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "hook", "install", "--pre-receive", bare.Dir); code != exitClean || !strings.Contains(errOut, filepath.Join(bare.Dir, "hooks", "pre-receive")) {
		t.Errorf("pre-receive: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{{"--pre-push", "--pre-commit", r.Dir}, {t.TempDir()}} {
		if code, _, errOut := runCLI(t, append([]string{"hook", "install"}, args...)...); code != exitError || strings.Count(errOut, "\n") != 1 {
			t.Errorf("install %v: exit %d %q", args, code, errOut)
		}
	}
}

// TestInstalledHooks installs the pre-receive hook on a server and the
// pre-push hook in a clone, both with keysweep hook install, and pushes
// through them.
func TestInstalledHooks(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	path := keysweepOnPath(t)
	s.client.Env = []string{path}
	c := s.client
	for _, args := range [][]string{{"--pre-receive", s.bare.Dir}, {"--pre-push", c.Dir}} {
		if code, _, errOut := runCLI(t, append([]string{"hook", "install"}, args...)...); code != exitClean {
			t.Fatalf("install %v: exit %d %s", args, code, errOut)
		}
	}
	c.Write("README.md", "# app\n")
	c.Commit("init")
	out := s.accepted("main")
	if strings.Count(out, ": no secrets") != 2 || strings.Count(out, "keysweep: checked 1 new commit") != 2 {
		t.Errorf("both hooks should check the commit:\n%s", out)
	}
	c.Git("fetch", "-q", "origin")

	// The pre-push hook stops the push before it leaves.
	c.Write("src/settings.py", "DEBUG = False\nSLACK_TOKEN = \""+tokC+"\"\n")
	leak := c.Commit("settings")
	out = c.GitFails("push", "origin", "main")
	for _, want := range []string{"push stopped by the pre-push hook", "src/settings.py:2", leak[:12], "origin: refs/heads/main", "git push --no-verify"} {
		if !strings.Contains(out, want) {
			t.Errorf("pre-push output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "remote:") || strings.Contains(out, tokC) {
		t.Errorf("the push reached the server, or the secret is shown:\n%s", out)
	}
	// Skipping the local hook leaves the server's.
	out = s.client.GitFails("push", "--no-verify", "origin", "main")
	checkRefusal(t, out, allSecrets, "src/settings.py:2")

	// A branch of commits the remote has is not scanned again.
	c.Git("reset", "-q", "--hard", "HEAD~1")
	c.Git("branch", "copy")
	out = s.accepted("copy")
	if strings.Count(out, "nothing new to check") != 2 {
		t.Errorf("known commits:\n%s", out)
	}
}
