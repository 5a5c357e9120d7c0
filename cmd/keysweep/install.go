package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	f.IntVar(&o.workers, "workers", 0, "blobs scanned at once (default: the number of cores)")
	f.BoolVar(&o.ignoreInline, "ignore-inline-markers", false, "stop the push for secrets marked keysweep:allow too")
	return cmd
}

func (o *prePushOptions) run(ctx context.Context, s *streams, remote string) error {
	start := time.Now()
	maxSize, err := parseSize(o.maxBlobSize)
	if err != nil {
		return fmt.Errorf("--max-blob-size: %w", err)
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
An existing hook is left alone unless --force (it is then kept as
<hook>.keysweep-backup).`,
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
	f.BoolVar(&force, "force", false, "replace an existing hook, keeping it as <hook>.keysweep-backup")
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
	_, err = os.Lstat(hook)
	switch {
	case err == nil && !force:
		return fmt.Errorf("%s already exists: rerun with --force to replace it (it is kept as %s.keysweep-backup), or add this line to it: %s %s", hook, kind, keysweepBinary(), hookKinds[kind])
	case err == nil:
		if err := os.Rename(hook, hook+".keysweep-backup"); err != nil {
			return fmt.Errorf("keep the existing hook: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("check for an existing hook: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create hooks directory: %w", err)
	}
	script := fmt.Sprintf("#!/bin/sh\n# %s hook written by \"keysweep hook install\": it stops secrets before\n# they leave (see \"keysweep hook --help\").\nexec %s %s\n", kind, keysweepBinary(), hookKinds[kind])
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		return fmt.Errorf("write hook: %w", err)
	}
	fmt.Fprintf(s.errOut, "keysweep: installed %s\n", hook)
	return nil
}

// keysweepBinary is how a hook calls keysweep: this executable's absolute
// path, so that the hook works without keysweep on the PATH git runs hooks
// with; or plain "keysweep" when this is a temporary build (go run, tests).
func keysweepBinary() string {
	exe, err := os.Executable()
	if err != nil {
		return "keysweep"
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	tmp := os.TempDir()
	if resolved, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = resolved
	}
	if strings.HasPrefix(exe, tmp+string(filepath.Separator)) || !strings.HasPrefix(filepath.Base(exe), "keysweep") {
		return "keysweep"
	}
	return shellQuote(exe)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
