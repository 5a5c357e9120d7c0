package hook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// hookKinds are the hooks keysweep hook install writes, and what each
// runs.
var hookKinds = map[string]string{
	"pre-commit":  "staged",
	"pre-push":    `hook pre-push "$@"`,
	"pre-receive": "hook pre-receive",
}

// Install writes a git hook of kind (pre-commit, pre-push or pre-receive)
// that runs keysweep into the hooks directory of the repository at path,
// saying what it did on log. An existing hook is replaced only with force,
// and kept as a backup unless it is the very hook Install writes.
func Install(ctx context.Context, path, kind string, force bool, log io.Writer) error {
	if _, ok := hookKinds[kind]; !ok {
		return fmt.Errorf("unknown hook %q (want pre-commit, pre-push or pre-receive)", kind)
	}
	dir, bare, err := gitsrc.HooksDir(ctx, path)
	if err != nil {
		return err
	}
	if bare && kind != "pre-receive" {
		return fmt.Errorf("%s is a bare repository: nothing is committed or pushed from it (install --pre-receive there)", path)
	}
	hook := filepath.Join(dir, kind)
	bin, warning := keysweepBinary()
	script := fmt.Sprintf("#!/bin/sh\n# %s hook written by \"keysweep hook install\": it stops secrets before\n# they leave (see \"keysweep hook --help\").\nexec %s %s\n", kind, bin, hookKinds[kind])
	backup := ""
	_, err = os.Lstat(hook)
	switch {
	case err == nil:
		// Reinstalling the same hook replaces nothing worth keeping.
		kept := ""
		if old, err := os.ReadFile(hook); err != nil || string(old) != script {
			if backup, err = freeBackupName(hook); err != nil {
				return err
			}
			kept = " (it is then kept as " + backup + ")"
		}
		if !force {
			return fmt.Errorf("%s already exists: rerun with --force to replace it%s, or add this line to it: %s %s", hook, kept, bin, hookKinds[kind])
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("check for an existing hook: %w", err)
	}
	if warning != "" {
		fmt.Fprintf(log, "keysweep: warning: %s\n", warning)
	}
	if backup != "" {
		if err := os.Rename(hook, backup); err != nil {
			return fmt.Errorf("keep the existing hook: %w", err)
		}
		fmt.Fprintf(log, "keysweep: kept the existing hook as %s\n", backup)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create hooks directory: %w", err)
	}
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		return fmt.Errorf("write hook: %w", err)
	}
	// WriteFile keeps the mode of a file it replaces: git skips a hook it
	// cannot execute.
	if err := os.Chmod(hook, 0o755); err != nil {
		return fmt.Errorf("make the hook executable: %w", err)
	}
	fmt.Fprintf(log, "keysweep: installed %s\n", hook)
	return nil
}

// freeBackupName returns where to keep an existing hook: <hook>.keysweep-backup,
// or, when that is taken by an earlier backup, the first free
// <hook>.keysweep-backup.N. A backup is never overwritten.
func freeBackupName(hook string) (string, error) {
	name := hook + ".keysweep-backup"
	for n := 1; n <= 100; n++ {
		_, err := os.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return name, nil
		case err != nil:
			return "", fmt.Errorf("check for an earlier backup of the hook: %w", err)
		}
		name = fmt.Sprintf("%s.keysweep-backup.%d", hook, n)
	}
	return "", fmt.Errorf("%s has 100 backups already: remove those not needed", hook)
}

// keysweepBinary is how a hook calls this keysweep, and a warning when the
// hook may not find it. Git runs hooks with its own PATH (a GUI client's is
// often minimal), so the hook calls keysweep by an absolute path.
func keysweepBinary() (string, string) {
	exe, err := os.Executable()
	if err != nil {
		return "keysweep", fmt.Sprintf("cannot tell where this keysweep is (%v): the hook calls \"keysweep\" from PATH", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	onPath, same := "", false
	if p, err := exec.LookPath("keysweep"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			onPath = abs
			a, aerr := os.Stat(abs)
			b, berr := os.Stat(exe)
			same = aerr == nil && berr == nil && os.SameFile(a, b)
		}
	}
	return hookCommand(exe, onPath, same)
}

// hookCommand decides how a hook calls the keysweep at exe (symbolic
// links resolved), given the keysweep found on PATH (onPath, "" for none)
// and whether that is the same file. It returns the command and a warning
// when the hook may not find it.
func hookCommand(exe, onPath string, same bool) (string, string) {
	switch {
	case same:
		// The path found on PATH, a link a package manager keeps pointing
		// at the current version, outlives the file it resolves to.
		return shellQuote(onPath), ""
	case temporaryBuild(exe):
		if onPath != "" {
			return "keysweep", ""
		}
		return "keysweep", "this keysweep is a temporary build (go run or go test) and no keysweep is on PATH: the hook calls \"keysweep\", so install it (go install github.com/keysweep/keysweep/cmd/keysweep@latest) before the hook runs"
	}
	return shellQuote(exe), ""
}

// temporaryBuild reports whether exe is a build the go command deletes
// when it is done: a go run binary (go-build*/.../exe/NAME) or a test
// binary (NAME.test).
func temporaryBuild(exe string) bool {
	base := strings.TrimSuffix(filepath.Base(exe), ".exe")
	if strings.HasSuffix(base, ".test") {
		return true
	}
	if filepath.Base(filepath.Dir(exe)) != "exe" {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(exe), "/") {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
