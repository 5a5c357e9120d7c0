package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/term"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
)

// runProcess runs keysweep (this test binary) in dir with env added to
// this process's environment, as a shell or CI job would.
func runProcess(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	// git trusts the repositories of the user sudo ran as root for.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SUDO_UID=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "KEYSWEEP_AS_CLI=1"), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// oneLineError checks that stderr is one "keysweep: " line holding want.
func oneLineError(t *testing.T, stderr, want string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "keysweep: ") || !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want one line holding %q", stderr, want)
	}
}

// TestEdgeConfigFromSubdirectory: a scan started in (or given) a
// subdirectory of a work tree reads the work tree's .keysweep.toml and
// .keysweepignore, not the committed ones.
func TestEdgeConfigFromSubdirectory(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write(".keysweep.toml", "# nothing allowlisted yet\n")
	r.Write("fixtures/token.txt", "token: "+tokA+"\n")
	r.Write("src/leak.go", "var t = \""+tokB+"\"\n")
	r.Commit("init")
	// Edited in the work tree, not committed yet.
	r.Write(".keysweep.toml", "[allowlist]\npaths = [\"fixtures/\"]\n")
	r.Write(".keysweepignore", finding.Fingerprint("github-token", "", tokB)+" revoked, kept as an example\n")
	sub := filepath.Join(r.Dir, "src")

	want := "not reported: 1 allowlisted, 1 ignored"
	for name, run := range map[string]func() (int, string, string){
		"top":                 func() (int, string, string) { return runCLI(t, "git", r.Dir) },
		"SUBDIR":              func() (int, string, string) { return runCLI(t, "git", sub) },
		"from a subdirectory": func() (int, string, string) { return runProcess(t, sub, nil, "git", "--no-progress") },
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run()
			if code != exitClean || out != "" || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out, errOut, want)
			}
		})
	}
}

// dubiousRepo returns a repository owned by another user, and the
// environment of a git that trusts no directory.
func dubiousRepo(t *testing.T) (*gittest.Repo, []string) {
	t.Helper()
	return gittest.NewForeign(t)
}

// TestEdgeDubiousOwnership: git's refusal of a repository another user
// owns is reported as what it is, with the command that lifts it.
func TestEdgeDubiousOwnership(t *testing.T) {
	t.Parallel()
	r, env := dubiousRepo(t)
	fix := "git config --global --add safe.directory " + r.Dir
	for _, tc := range []struct {
		name string
		dir  string
		args []string
		fix  string
	}{
		{"git", "/", []string{"git", r.Dir, "--no-progress"}, fix},
		{"git from a subdirectory", r.Dir, []string{"git", "--no-progress"}, fix},
		{"staged", "/", []string{"staged", "--repo", r.Dir, "--no-progress"}, fix},
		{"hook install", "/", []string{"hook", "install", r.Dir}, fix},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runProcess(t, tc.dir, env, tc.args...)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			oneLineError(t, errOut, "dubious ownership")
			if !strings.HasSuffix(strings.TrimSpace(errOut), tc.fix) || strings.Contains(errOut, "not a git repository") {
				t.Errorf("stderr %q should end with %q", errOut, tc.fix)
			}
		})
	}
}

// TestEdgeInstallCallsTheBinaryByPath builds keysweep under TMPDIR, as a
// CI job downloads it, installs the pre-commit hook with it, and commits
// with a PATH that has no keysweep: the hook runs it all the same.
func TestEdgeInstallCallsTheBinaryByPath(t *testing.T) {
	t.Parallel()
	bin := releaseBinary(t)
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + filepath.Dir(git) + string(os.PathListSeparator) + "/bin"

	r := gittest.New(t)
	r.Env = []string{path}
	install := exec.Command(bin, "hook", "install", r.Dir)
	install.Env = append(os.Environ(), path)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	hook, err := os.ReadFile(filepath.Join(r.Dir, ".git", "hooks", "pre-commit"))
	if err != nil || !strings.Contains(string(hook), "\nexec "+bin+" staged\n") {
		t.Fatalf("hook does not call %s by its path: %v\n%s", bin, err, hook)
	}
	r.Write("a.env", "TOKEN="+tokA+"\n")
	r.Git("add", "a.env")
	out := r.GitFails("commit", "-q", "-m", "leak")
	if !strings.Contains(out, "github-token") || strings.Contains(out, "not found") {
		t.Errorf("the hook did not stop the commit with a finding:\n%s", out)
	}

	// keysweep on PATH through a link, as package managers install it:
	// the hook calls the link, which survives an upgrade.
	linkDir := t.TempDir()
	link := filepath.Join(linkDir, "keysweep")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	other := gittest.New(t)
	install = exec.Command(link, "hook", "install", "--pre-push", other.Dir)
	install.Env = append(os.Environ(), "PATH="+linkDir+string(os.PathListSeparator)+filepath.Dir(git))
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	hook, err = os.ReadFile(filepath.Join(other.Dir, ".git", "hooks", "pre-push"))
	if err != nil || !strings.Contains(string(hook), "\nexec "+link+" hook pre-push") {
		t.Errorf("hook does not call the keysweep on PATH by its path %s: %v\n%s", link, err, hook)
	}
}

// TestEdgeInstallForceKeepsTheFirstBackup: --force never overwrites a
// backup, and reinstalling keysweep's own hook backs up nothing.
func TestEdgeInstallForceKeepsTheFirstBackup(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	hooks := filepath.Join(r.Dir, ".git", "hooks")
	hook := filepath.Join(hooks, "pre-commit")
	mine := "#!/bin/sh\necho my own checks\n"
	writeFile(t, hook, mine, 0o755)
	backups := func() map[string]string {
		got := map[string]string{}
		matches, _ := filepath.Glob(hook + ".keysweep-backup*")
		for _, m := range matches {
			data, _ := os.ReadFile(m)
			got[filepath.Base(m)] = string(data)
		}
		return got
	}

	for range 2 {
		if code, _, errOut := runCLI(t, "hook", "install", "--force", r.Dir); code != exitClean {
			t.Fatalf("--force: exit %d %s", code, errOut)
		}
	}
	if diff := cmp.Diff(map[string]string{"pre-commit.keysweep-backup": mine}, backups()); diff != "" {
		t.Errorf("after two --force (-want +got):\n%s", diff)
	}

	// keysweep's hook with flags someone added is theirs: kept too, beside
	// the first backup.
	ours, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(ours), " staged", " staged --config /etc/keysweep.toml", 1)
	writeFile(t, hook, edited, 0o755)
	code, _, errOut := runCLI(t, "hook", "install", "--force", r.Dir)
	if code != exitClean || !strings.Contains(errOut, "pre-commit.keysweep-backup.1") {
		t.Errorf("--force over an edited hook: exit %d %s", code, errOut)
	}
	want := map[string]string{"pre-commit.keysweep-backup": mine, "pre-commit.keysweep-backup.1": edited}
	if diff := cmp.Diff(want, backups()); diff != "" {
		t.Errorf("after --force over an edited hook (-want +got):\n%s", diff)
	}
	writeFile(t, hook, mine, 0o755)
	code, _, errOut = runCLI(t, "hook", "install", r.Dir)
	if code != exitError || !strings.Contains(errOut, "pre-commit.keysweep-backup.2") {
		t.Errorf("without --force: exit %d %s; want it to name the next backup", code, errOut)
	}
}

// TestEdgeBadFlags: each bad flag value is one line and exit 2, before
// any work is done.
func TestEdgeBadFlags(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"range with an option for a side", []string{"git", r.Dir, "--range", "--output=x...main"}, `"--output=x" does not name a commit`},
		{"range and branch", []string{"git", r.Dir, "--range", "main~1...main", "--branch", "main"}, "--range and --branch"},
		{"bad since", []string{"git", r.Dir, "--since", "last tuesday"}, `--since: "last tuesday" is not a date`},
		{"bad branch", []string{"git", r.Dir, "--branch", "-delete"}, `--branch "-delete"`},
		{"negative max commits", []string{"git", r.Dir, "--max-commits", "-3"}, "--max-commits must not be negative"},
		{"unreachable in a window", []string{"git", r.Dir, "--include-unreachable", "--since", "30d"}, "--include-unreachable scans what no ref reaches"},
		{"two dots alone", []string{"git", r.Dir, "--range", ".."}, `--range ".."`},
		{"two ranges", []string{"git", r.Dir, "--range", "a..b..c"}, `--range "a..b..c"`},
		{"negative workers, git", []string{"git", r.Dir, "--workers", "-1"}, "--workers must be 0 (one per core) or more, got -1"},
		{"negative workers, dir", []string{"dir", r.Dir, "--workers", "-1"}, "--workers must be 0"},
		{"negative workers, staged", []string{"staged", "--repo", r.Dir, "--workers", "-1"}, "--workers must be 0"},
		{"negative workers, pre-receive", []string{"hook", "pre-receive", "--workers", "-2"}, "--workers must be 0"},
		{"negative workers, pre-push", []string{"hook", "pre-push", "--workers", "-2"}, "--workers must be 0"},
		{"size in TiB too large", []string{"git", r.Dir, "--max-blob-size", "9000000TiB"}, `--max-blob-size "9000000TiB" is too large`},
		{"size overflows", []string{"git", r.Dir, "--max-blob-size", "99999999999999999999"}, `--max-blob-size "99999999999999999999" is too large`},
		{"zero size", []string{"git", r.Dir, "--max-blob-size", "0"}, `--max-blob-size "0"`},
		{"negative size", []string{"dir", r.Dir, "--max-blob-size", "-1MiB"}, `--max-blob-size "-1MiB"`},
		{"unknown unit", []string{"git", r.Dir, "--max-blob-size", "3 parsecs"}, `--max-blob-size "3 parsecs": invalid size: want a whole number`},
		{"pre-receive size", []string{"hook", "pre-receive", "--max-blob-size", "0"}, `--max-blob-size "0"`},
		{"pre-push size", []string{"hook", "pre-push", "--max-blob-size", "lots"}, `--max-blob-size "lots"`},
		{"verify workers 0 without --verify", []string{"git", r.Dir, "--verify-workers", "0"}, "--verify-workers must be at least 1, got 0"},
		{"verify workers 0, dir", []string{"dir", r.Dir, "--verify-workers", "0"}, "--verify-workers must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, tc.args...)
			if code != exitError || out != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, out, exitError)
			}
			oneLineError(t, errOut, tc.want)
		})
	}
}

// TestEdgeGoodFlags: the values the flags document are accepted.
func TestEdgeGoodFlags(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"workers 0 means one per core", []string{"git", r.Dir, "--workers", "0"}, exitFindings},
		{"workers 0, dir", []string{"dir", r.Dir, "--workers", "0"}, exitClean},
		{"a size in TiB", []string{"git", r.Dir, "--max-blob-size", "1TiB"}, exitFindings},
		{"a size in TB", []string{"git", r.Dir, "--max-blob-size", "2TB"}, exitFindings},
		{"two-dot range", []string{"git", r.Dir, "--range", "main~2..main"}, exitFindings},
		{"open range", []string{"git", r.Dir, "--range", "main~1.."}, exitClean},
		{"range to a base", []string{"git", r.Dir, "--range", "..main"}, exitClean},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if code, _, errOut := runCLI(t, append(tc.args, "--no-progress")...); code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
		})
	}
	for _, cmd := range [][]string{{"git"}, {"dir"}, {"staged"}, {"hook", "pre-receive"}, {"hook", "pre-push"}} {
		_, out, _ := runCLI(t, append(cmd, "--help")...)
		if !regexp.MustCompile(`--workers int +\S.*0 .*one per core`).MatchString(out) {
			t.Errorf("%v --help does not say what --workers 0 means:\n%s", cmd, out)
		}
	}
}

// TestEdgeHookOnATerminal: a hook that reads what git sends on stdin,
// started by hand on a terminal, says so at once instead of waiting.
func TestEdgeHookOnATerminal(t *testing.T) {
	t.Parallel()
	// The master side of a pseudo-terminal is a terminal too.
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		t.Skip("/dev/ptmx is not a terminal here")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hook", "pre-receive"}, `git runs it with "<old-id> <new-id> <ref>" lines on stdin`},
		{[]string{"hook", "pre-push", "origin"}, `git runs it with "<local-ref> <local-id> <remote-ref> <remote-id>" lines on stdin`},
	} {
		var out, errOut bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- run(context.Background(), tc.args, tty, &out, &errOut) }()
		select {
		case code := <-done:
			if code != exitError {
				t.Errorf("%v: exit %d, want %d", tc.args, code, exitError)
			}
			oneLineError(t, errOut.String(), tc.want)
		case <-time.After(10 * time.Second):
			t.Fatalf("%v waits for input on a terminal", tc.args)
		}
	}
}

// TestEdgeSummaryPlurals: one is singular in summaries.
func TestEdgeSummaryPlurals(t *testing.T) {
	t.Parallel()
	one := gittest.New(t)
	one.Write("a.env", "TOKEN="+tokA+"\n")
	one.Commit("one")
	missing := leakyRepo(t)
	if err := os.Remove(missing.ObjectPath(missing.BlobID("# demo\n"))); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.env"), "TOKEN="+tokA+"\n", 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"one of each", []string{"git", one.Dir}, []string{"scanned 1 commit, 1 blob (", "; 1 finding\n"}},
		{"several", []string{"git", leakyRepo(t).Dir}, []string{"scanned 3 commits, 2 blobs (", "; 1 finding\n"}},
		{"one file", []string{"dir", dir}, []string{"scanned 1 file (", "; 1 finding\n"}},
		{"one missing object", []string{"git", missing.Dir, "--allow-missing"}, []string{"; 1 object missing;"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, errOut := runCLI(t, append(tc.args, "--no-progress")...)
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if regexp.MustCompile(`\b1 (commits|blobs|files|findings|objects)\b`).MatchString(errOut) {
				t.Errorf("a plural after 1:\n%s", errOut)
			}
		})
	}
}

// FuzzParseMaxBlobSize: any --max-blob-size gives a positive size or a
// one-line error naming the flag, never a panic or an overflow.
func FuzzParseMaxBlobSize(f *testing.F) {
	for _, s := range []string{"25MiB", "1TiB", "2TB", "0", "-1k", "9223372036854775807", "8388608TiB", "lots", " 3 g "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseMaxBlobSize(s)
		switch {
		case err != nil && (n != 0 || strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") || !strings.HasPrefix(err.Error(), "--max-blob-size ")):
			t.Errorf("parseMaxBlobSize(%q) = %d, %q", s, n, err)
		case err == nil && n <= 0:
			t.Errorf("parseMaxBlobSize(%q) = %d", s, n)
		}
	})
}
