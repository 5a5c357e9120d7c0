package hook

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

// TestEdgeHookCommand: how a hook calls keysweep.
func TestEdgeHookCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, exe, onPath string
		same              bool
		want              string
		warn              bool
	}{
		{"a binary under TMPDIR, not on PATH", "/tmp/ci/keysweep", "", false, "/tmp/ci/keysweep", false},
		{"another keysweep on PATH", "/opt/keysweep/bin/keysweep", "/usr/local/bin/keysweep", false, "/opt/keysweep/bin/keysweep", false},
		{"the same keysweep on PATH", "/opt/homebrew/Cellar/keysweep/0.1.0/bin/keysweep", "/opt/homebrew/bin/keysweep", true, "/opt/homebrew/bin/keysweep", false},
		{"a path to quote", "/home/a b/keysweep", "", false, "'/home/a b/keysweep'", false},
		{"go run, keysweep on PATH", "/tmp/go-build1234/b001/exe/keysweep", "/usr/local/bin/keysweep", false, "keysweep", false},
		{"go run, no keysweep on PATH", "/tmp/go-build1234/b001/exe/keysweep", "", false, "keysweep", true},
		{"a test binary", "/tmp/go-build1234/b001/keysweep.test", "", false, "keysweep", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, warning := hookCommand(tc.exe, tc.onPath, tc.same)
			if got != tc.want || (warning != "") != tc.warn {
				t.Errorf("hookCommand = %q, warning %q; want %q, a warning: %v", got, warning, tc.want, tc.warn)
			}
		})
	}
}

// wantScript is the hook Install writes for kind, running keysweep with
// args. A test binary is a temporary build: the hook calls keysweep from
// PATH.
func wantScript(kind, args string) string {
	return "#!/bin/sh\n# " + kind + " hook written by \"keysweep hook install\": it stops secrets before\n" +
		"# they leave (see \"keysweep hook --help\").\nexec keysweep " + args + "\n"
}

// checkHook checks that the file at path holds want and is executable.
func checkHook(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read hook: %v", err)
	}
	if string(data) != want {
		t.Errorf("hook %s:\n%s\nwant:\n%s", path, data, want)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The umask may take permissions away, never add them.
	if perm := st.Mode().Perm(); !st.Mode().IsRegular() || perm&0o100 == 0 || perm&^0o755 != 0 {
		t.Errorf("hook %s: mode %v, want an executable file of at most 0755", path, st.Mode())
	}
}

// checkAbsent checks that nothing is at path.
func checkAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: %v, want nothing there", path, err)
	}
}

func TestInstall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, kind string
		// repo builds the repository and returns its path and where its
		// hooks go.
		repo    func(t *testing.T) (dir, hooks string)
		args    string
		wantErr string
	}{
		{
			name: "pre-commit", kind: "pre-commit", repo: workTree, args: "staged",
		},
		{
			name: "pre-push", kind: "pre-push", repo: workTree, args: `hook pre-push "$@"`,
		},
		{
			name: "pre-receive on a bare repository", kind: "pre-receive", repo: bareRepo, args: "hook pre-receive",
		},
		{
			name: "pre-commit under core.hooksPath", kind: "pre-commit", args: "staged",
			repo: func(t *testing.T) (string, string) {
				r := gittest.New(t)
				r.Git("config", "core.hooksPath", "githooks")
				return r.Dir, filepath.Join(r.Dir, "githooks")
			},
		},
		{
			name: "pre-push from a subdirectory", kind: "pre-push", args: `hook pre-push "$@"`,
			repo: func(t *testing.T) (string, string) {
				r := gittest.New(t)
				sub := filepath.Join(r.Dir, "src", "app")
				if err := os.MkdirAll(sub, 0o755); err != nil {
					t.Fatal(err)
				}
				return sub, filepath.Join(r.Dir, ".git", "hooks")
			},
		},
		{
			name: "pre-commit on a bare repository", kind: "pre-commit", repo: bareRepo,
			wantErr: "is a bare repository: nothing is committed or pushed from it (install --pre-receive there)",
		},
		{
			name: "pre-push on a bare repository", kind: "pre-push", repo: bareRepo,
			wantErr: "is a bare repository",
		},
		{
			name: "unknown kind", kind: "post-commit", repo: workTree,
			wantErr: `unknown hook "post-commit" (want pre-commit, pre-push or pre-receive)`,
		},
		{
			name: "empty kind", kind: "", repo: workTree,
			wantErr: `unknown hook "" (want pre-commit, pre-push or pre-receive)`,
		},
		{
			name: "not a repository", kind: "pre-commit",
			repo: func(t *testing.T) (string, string) {
				dir := t.TempDir()
				return dir, filepath.Join(dir, "hooks")
			},
			wantErr: "not a git repository",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, hooks := tc.repo(t)
			hook := filepath.Join(hooks, tc.kind)
			var log strings.Builder
			err := Install(context.Background(), dir, tc.kind, false, &log)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Install = %v, want an error with %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if tc.kind != "" {
					checkAbsent(t, hook)
				}
				return
			}
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			checkHook(t, hook, wantScript(tc.kind, tc.args))
			if !strings.Contains(log.String(), "keysweep: installed "+hook+"\n") {
				t.Errorf("log does not name %s:\n%s", hook, log.String())
			}
			checkAbsent(t, hook+".keysweep-backup")
		})
	}
}

func workTree(t *testing.T) (string, string) {
	r := gittest.New(t)
	return r.Dir, filepath.Join(r.Dir, ".git", "hooks")
}

func bareRepo(t *testing.T) (string, string) {
	r := gittest.NewBare(t)
	return r.Dir, filepath.Join(r.Dir, "hooks")
}

// TestInstallOverExistingHook: a hook already there is replaced only
// with force, and kept unless it is the very hook Install writes.
func TestInstallOverExistingHook(t *testing.T) {
	t.Parallel()
	const mine = "#!/bin/sh\necho mine\n"
	script := wantScript("pre-push", `hook pre-push "$@"`)
	for _, tc := range []struct {
		name string
		// existing is the hook there before, backups the backups there
		// before (.keysweep-backup, then .1, .2, ...).
		existing string
		// mode is the existing hook's, 0700 when zero.
		mode    os.FileMode
		backups []string
		force   bool
		wantErr []string
		// wantHook is what the hook holds after, wantBackups what the
		// backups hold.
		wantHook    string
		wantBackups []string
	}{
		{
			name:     "another hook, without force",
			existing: mine,
			wantErr:  []string{"already exists: rerun with --force to replace it (it is then kept as ", ".keysweep-backup)", `or add this line to it: keysweep hook pre-push "$@"`},
			wantHook: mine,
		},
		{
			name:     "the same hook, without force",
			existing: script,
			wantErr:  []string{"already exists: rerun with --force to replace it, or add this line"},
			wantHook: script,
		},
		{
			name:        "another hook, with force",
			existing:    mine,
			force:       true,
			wantHook:    script,
			wantBackups: []string{mine},
		},
		{
			name:        "another hook and a backup, with force",
			existing:    mine,
			backups:     []string{"#!/bin/sh\necho older\n"},
			force:       true,
			wantHook:    script,
			wantBackups: []string{"#!/bin/sh\necho older\n", mine},
		},
		{
			name:        "another hook and a backup, without force",
			existing:    mine,
			backups:     []string{"#!/bin/sh\necho older\n"},
			wantErr:     []string{"(it is then kept as ", ".keysweep-backup.1)"},
			wantHook:    mine,
			wantBackups: []string{"#!/bin/sh\necho older\n"},
		},
		{
			name:     "the same hook, with force: no backup",
			existing: script,
			force:    true,
			wantHook: script,
		},
		{
			// git skips a hook it cannot execute.
			name:     "the same hook, not executable, with force: made executable",
			existing: script,
			mode:     0o644,
			force:    true,
			wantHook: script,
		},
		{
			name:     "an empty hook, with force",
			existing: "", force: true,
			// An empty file is still a hook someone put there.
			wantHook:    script,
			wantBackups: []string{""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := gittest.New(t)
			hooks := filepath.Join(r.Dir, ".git", "hooks")
			hook := filepath.Join(hooks, "pre-push")
			if err := os.MkdirAll(hooks, 0o755); err != nil {
				t.Fatal(err)
			}
			mode := tc.mode
			if mode == 0 {
				mode = 0o700
			}
			if err := os.WriteFile(hook, []byte(tc.existing), mode); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(hook)
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range tc.backups {
				if err := os.WriteFile(backupName(hook, i), []byte(b), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			var log strings.Builder
			err = Install(context.Background(), r.Dir, "pre-push", tc.force, &log)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Install succeeded, want an error")
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Install error %q lacks %q", err, want)
					}
				}
				if !strings.Contains(err.Error(), hook+" already exists") {
					t.Errorf("Install error %q does not name the hook", err)
				}
			} else if err != nil {
				t.Fatalf("Install: %v", err)
			}

			data, err := os.ReadFile(hook)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.wantHook {
				t.Errorf("hook holds:\n%s\nwant:\n%s", data, tc.wantHook)
			}
			if tc.wantErr == nil {
				checkHook(t, hook, script)
			} else {
				after, err := os.Stat(hook)
				if err != nil {
					t.Fatal(err)
				}
				if after.Mode() != before.Mode() {
					t.Errorf("hook left with mode %v, was %v", after.Mode(), before.Mode())
				}
			}

			for i, want := range tc.wantBackups {
				name := backupName(hook, i)
				data, err := os.ReadFile(name)
				if err != nil {
					t.Errorf("backup %d: %v", i, err)
					continue
				}
				if string(data) != want {
					t.Errorf("%s holds %q, want %q", name, data, want)
				}
				if i >= len(tc.backups) {
					// The hook moved: its mode moved with it.
					st, err := os.Stat(name)
					if err != nil {
						t.Fatal(err)
					}
					if st.Mode() != before.Mode() {
						t.Errorf("%s: mode %v, want %v", name, st.Mode(), before.Mode())
					}
					if !strings.Contains(log.String(), "keysweep: kept the existing hook as "+name+"\n") {
						t.Errorf("log does not name the backup %s:\n%s", name, log.String())
					}
				}
			}
			checkAbsent(t, backupName(hook, len(tc.wantBackups)))
			if len(tc.wantBackups) == len(tc.backups) && strings.Contains(log.String(), "kept the existing hook") {
				t.Errorf("log names a backup that was not made:\n%s", log.String())
			}
		})
	}
}

// backupName is the name of the i-th backup of hook.
func backupName(hook string, i int) string {
	if i == 0 {
		return hook + ".keysweep-backup"
	}
	return hook + ".keysweep-backup." + strconv.Itoa(i)
}

// TestInstallBackupsAccumulate: forced installs over hooks that others
// rewrote keep each of them, never overwriting a backup, and reinstalling
// keysweep's own hook keeps nothing.
func TestInstallBackupsAccumulate(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	hook := filepath.Join(r.Dir, ".git", "hooks", "pre-commit")
	script := wantScript("pre-commit", "staged")
	first, second := "#!/bin/sh\necho first\n", "#!/bin/sh\necho second\n"
	install := func() {
		t.Helper()
		if err := Install(context.Background(), r.Dir, "pre-commit", true, &strings.Builder{}); err != nil {
			t.Fatalf("Install: %v", err)
		}
		checkHook(t, hook, script)
	}
	for _, step := range []struct {
		name string
		// hook, when set, is written over the hook before installing.
		hook string
		// want are the backups after the step, in order.
		want []string
	}{
		{name: "another hook", hook: first, want: []string{first}},
		{name: "another hook again", hook: second, want: []string{first, second}},
		{name: "keysweep's own hook", want: []string{first, second}},
		{name: "yet another hook", hook: first, want: []string{first, second, first}},
	} {
		if step.hook != "" {
			if err := os.WriteFile(hook, []byte(step.hook), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		install()
		for i, want := range step.want {
			if data, err := os.ReadFile(backupName(hook, i)); err != nil || string(data) != want {
				t.Errorf("%s: backup %d holds %q (%v), want %q", step.name, i, data, err, want)
			}
		}
		checkAbsent(t, backupName(hook, len(step.want)))
	}
}

// TestInstallOverSymlinkedHook: a hook that is a link to a shared script
// is kept as a link; the script it points at is left alone.
func TestInstallOverSymlinkedHook(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	shared := filepath.Join(t.TempDir(), "shared-hook")
	const content = "#!/bin/sh\necho shared\n"
	if err := os.WriteFile(shared, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	hooks := filepath.Join(r.Dir, ".git", "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(hooks, "pre-commit")
	if err := os.Symlink(shared, hook); err != nil {
		t.Fatal(err)
	}
	if err := Install(context.Background(), r.Dir, "pre-commit", true, &strings.Builder{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	checkHook(t, hook, wantScript("pre-commit", "staged"))
	if target, err := os.Readlink(hook + ".keysweep-backup"); err != nil || target != shared {
		t.Errorf("backup: link to %q (%v), want a link to %s", target, err, shared)
	}
	if data, err := os.ReadFile(shared); err != nil || string(data) != content {
		t.Errorf("the shared script holds %q (%v), want it untouched", data, err)
	}
}
