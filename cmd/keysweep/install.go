package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// prePushOptions are the flags of the local pre-push hook.
type prePushOptions struct {
	cfg          configOptions
	maxShown     int
	maxBlobSize  string
	workers      int
	ignoreInline bool
}

func newPrePushCmd(s *streams) *cobra.Command {
	o := &prePushOptions{}
	cmd := &cobra.Command{
		Use:   "pre-push [REMOTE [URL]]",
		Short: "Stop a push that would add a secret (a local pre-push hook)",
		Long: `Run as a git pre-push hook (git passes the remote's name and URL, and
"<local ref> <local id> <remote ref> <remote id>" lines on stdin): scan the
commits being pushed that the remote does not have (neither its
remote-tracking refs nor its current ids reach them) and stop the push when
they add a secret.

Install it with: keysweep hook install --pre-push

Configuration: --config FILE, else the repository's .keysweep.toml (work
tree, else HEAD); the same for --ignore-file and .keysweepignore.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			remote := ""
			if len(args) > 0 {
				remote = args[0]
			}
			return o.run(cmd.Context(), s, remote)
		},
	}
	f := cmd.Flags()
	o.cfg.bind(f)
	f.IntVar(&o.maxShown, "max-shown", 10, "list at most this many secrets; count the rest")
	f.StringVar(&o.maxBlobSize, "max-blob-size", "25MiB", "skip blobs larger than this `SIZE`")
	f.IntVar(&o.workers, "workers", 0, workersUsage("blobs"))
	f.BoolVar(&o.ignoreInline, "ignore-inline-markers", false, "stop the push for secrets marked keysweep:allow too")
	return cmd
}

func (o *prePushOptions) run(ctx context.Context, s *streams, remote string) error {
	if stdinIsTerminal(s) {
		return errors.New(`hook pre-push reads what a push sends: git runs it with "<local-ref> <local-id> <remote-ref> <remote-id>" lines on stdin; to try it by hand, pipe such lines in`)
	}
	start := time.Now()
	maxSize, err := parseMaxBlobSize(o.maxBlobSize)
	if err != nil {
		return err
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	refs, err := scanner.ParsePushRefs(s.in)
	if err != nil {
		return err
	}
	setup, err := o.cfg.setup(gitFile(ctx, "."))
	if err != nil {
		return err
	}
	res, err := scanner.Outgoing(ctx, ".", setup.engine, remote, refs, scanner.Options{Workers: o.workers, MaxBlobSize: maxSize, KeepMarked: o.ignoreInline})
	if err != nil {
		return err
	}
	findings := setup.filter(res.Findings)
	if len(findings) > 0 {
		var names []string
		for _, r := range refs {
			names = append(names, r.RemoteRef)
		}
		if remote != "" {
			names = append(names[:0:0], remote+": "+strings.Join(names, ", "))
		}
		err := report.WriteRefusal(s.errOut, report.Build(findings, false), report.Refusal{
			Title:    "keysweep: push stopped by the pre-push hook",
			Refs:     names,
			MaxShown: o.maxShown,
			Bypass: func(fingerprints []string) []string {
				lines := []string{"Add a line per fingerprint, with the reason, to .keysweepignore:"}
				for _, fp := range fingerprints {
					lines = append(lines, "  "+fp+" <why it is not a secret>")
				}
				return append(lines,
					"or put keysweep:allow on the secret's line, then amend the commit;",
					"or, for this push only: git push --no-verify")
			},
		})
		if err != nil {
			return err
		}
		return errFindings
	}
	printPushSummary(s.errOut, res, start, maxSize, 0)
	setup.printSummary(s.errOut, res.Stats.InlineAllowed)
	return nil
}

// hookKinds are the hooks keysweep hook install writes, and what each
// runs.
var hookKinds = map[string]string{
	"pre-commit":  "staged",
	"pre-push":    `hook pre-push "$@"`,
	"pre-receive": "hook pre-receive",
}

func newHookInstallCmd(s *streams) *cobra.Command {
	var preCommit, prePush, preReceive, force bool
	cmd := &cobra.Command{
		Use:   "install [--pre-commit|--pre-push|--pre-receive] [PATH]",
		Short: "Install keysweep as a git hook of the repository at PATH",
		Long: `Write a git hook that runs keysweep into the hooks directory of the
repository at PATH (default: the current one; core.hooksPath is honored):
  --pre-commit   (default) check what is staged before each commit
  --pre-push     check the commits a push sends that the remote lacks
  --pre-receive  on a server's bare repository: refuse pushes that add secrets
An existing hook is left alone unless --force: it is then kept as
<hook>.keysweep-backup (or <hook>.keysweep-backup.N, as a backup is never
overwritten), unless it is the very hook keysweep would write. The hook
calls keysweep by its absolute path: git runs hooks with its own PATH.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			kind := "pre-commit"
			n := 0
			for k, on := range map[string]bool{"pre-commit": preCommit, "pre-push": prePush, "pre-receive": preReceive} {
				if on {
					kind = k
					n++
				}
			}
			if n > 1 {
				return errors.New("give one of --pre-commit, --pre-push, --pre-receive")
			}
			return installHook(cmd.Context(), s, path, kind, force)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&preCommit, "pre-commit", false, "install the pre-commit hook (the default)")
	f.BoolVar(&prePush, "pre-push", false, "install the pre-push hook")
	f.BoolVar(&preReceive, "pre-receive", false, "install the pre-receive hook (server side)")
	f.BoolVar(&force, "force", false, "replace an existing hook, keeping it as <hook>.keysweep-backup[.N]")
	return cmd
}

func installHook(ctx context.Context, s *streams, path, kind string, force bool) error {
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
		fmt.Fprintf(s.errOut, "keysweep: warning: %s\n", warning)
	}
	if backup != "" {
		if err := os.Rename(hook, backup); err != nil {
			return fmt.Errorf("keep the existing hook: %w", err)
		}
		fmt.Fprintf(s.errOut, "keysweep: kept the existing hook as %s\n", backup)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create hooks directory: %w", err)
	}
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		return fmt.Errorf("write hook: %w", err)
	}
	fmt.Fprintf(s.errOut, "keysweep: installed %s\n", hook)
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
