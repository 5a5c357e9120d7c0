package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/hook"
)

func newHookCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use: "hook",
		Example: `  keysweep hook install --pre-commit
  keysweep hook pre-receive --timeout 4s`,
		Short: "Run as a git hook that stops secrets (pre-receive, pre-push), or install one",
	}
	cmd.AddCommand(newPreReceiveCmd(s), newPrePushCmd(s), newHookInstallCmd(s))
	return cmd
}

// preReceiveOptions are the flags of the server-side hook.
type preReceiveOptions struct {
	blobOptions
	cfg             configOptions
	trustRepoConfig bool
	timeout         time.Duration
	failOpen        bool
	noBypass        bool
	auditLog        string
	maxShown        int
	trustInline     bool
	refuseUnscanned bool
	verifyOptions
}

func newPreReceiveCmd(s *streams) *cobra.Command {
	o := &preReceiveOptions{}
	cmd := &cobra.Command{
		Use: "pre-receive",
		Example: `  # hooks/pre-receive of a bare repository on the server:
  exec keysweep hook pre-receive --config /etc/keysweep.toml --timeout 4s
  # with a pusher's bypass recorded:
  git push -o keysweep.allow=github-token:0123456789abcdef -o keysweep.reason="test fixture"`,
		Short: "Refuse a push that adds a secret (a git server's pre-receive hook)",
		Long: `Run as a git server's pre-receive hook: read "<old> <new> <ref>" lines on
stdin, scan only what the push adds (commits no existing ref reaches, and of
their blobs only those the repository did not hold), and refuse the push when
it adds a secret, naming rule, commit and path:line, the secret redacted.

The pusher can let a false positive through with push options (the server
needs "git config receive.advertisePushOptions true"):
  git push -o keysweep.allow=<fingerprint> -o keysweep.reason="why"
  git push -o keysweep.skip="why"        (skips the check for the whole push)
Each bypass is appended to the audit log with its reason, pusher and refs.

Configuration comes from --config and --ignore-file only: a pushed
repository's own .keysweep.toml is not trusted unless --trust-repo-config,
and then it is read from the repository's HEAD before the push, never from
the push itself. Nothing is sent over the network unless --verify: then the
secrets the refusal lists are verified with their providers, within the
time budget (a verification cut short is unknown, and the push is refused
all the same).

Content does not silence the check: a "keysweep:allow" marker in pushed
content is ignored (the secret is reported) unless --trust-inline-markers,
and then each secret it lets through is recorded in the audit log. Commit
and tag messages are checked too, and binary files. What the check cannot
look at (files over --max-blob-size, encoded text beyond the decode budget)
is named in its summary; --refuse-unscanned refuses such a push.

Time budget: --timeout (default 4s; GitHub Enterprise Server gives all
pre-receive hooks 5s together). A scan that runs out of time, or cannot read
what was pushed, refuses the push (fail-closed) unless --fail-open.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), s)
		},
	}
	f := cmd.Flags()
	o.cfg.bind(f)
	f.BoolVar(&o.trustRepoConfig, "trust-repo-config", false, "also read "+".keysweep.toml and .keysweepignore from the repository's HEAD (before the push)")
	f.DurationVar(&o.timeout, "timeout", 4*time.Second, "time budget of the whole check")
	f.BoolVar(&o.failOpen, "fail-open", false, "accept the push, with a warning, when the check runs out of time or fails (default: refuse it)")
	f.BoolVar(&o.noBypass, "no-bypass", false, "refuse the keysweep.allow and keysweep.skip push options")
	f.StringVar(&o.auditLog, "audit-log", "", "append every bypass to `FILE`, as JSON lines (default $XDG_STATE_HOME/keysweep/audit.jsonl of the user the hook runs as)")
	f.IntVar(&o.maxShown, "max-shown", 10, "list at most this many secrets in the message; count the rest")
	o.blobOptions.bind(f, "blobs")
	f.BoolVar(&o.trustInline, "trust-inline-markers", false, "let keysweep:allow markers in pushed content through, recording each in the audit log")
	f.BoolVar(&o.refuseUnscanned, "refuse-unscanned", false, "refuse a push holding content the check could not look at (too large, or encoded text beyond the decode budget)")
	o.verifyOptions.bind(f)
	return cmd
}

func (o *preReceiveOptions) run(ctx context.Context, s *streams) error {
	if stdinIsTerminal(s) {
		return errors.New(`hook pre-receive reads what a push updates: git runs it with "<old-id> <new-id> <ref>" lines on stdin; to try it by hand, pipe such lines in`)
	}
	h := &hook.PreReceive{
		Config: o.cfg.files(nil), TrustRepoConfig: o.trustRepoConfig,
		Timeout: o.timeout, FailOpen: o.failOpen, NoBypass: o.noBypass, AuditLog: o.auditLog,
		MaxShown: o.maxShown, Workers: o.workers, TrustInline: o.trustInline, RefuseUnscanned: o.refuseUnscanned,
		Getenv: os.Getenv, Log: s.errOut,
	}
	// A flag the hook cannot run with fails the check like any other
	// failure: closed, or open with --fail-open.
	if o.timeout <= 0 {
		return h.Fail(fmt.Errorf("--timeout must be positive, got %s", o.timeout))
	}
	maxSize, err := o.blobOptions.parse()
	if err != nil {
		return h.Fail(err)
	}
	h.MaxBlobSize = maxSize
	if err := o.openVerifiers(ctx, s, h); err != nil {
		return h.Fail(err)
	}
	return h.Run(ctx, s.in)
}

// openVerifiers sets the hook's verifiers, when --verify asks for them:
// AWS verification only (a hook never remediates), and the others.
func (o *preReceiveOptions) openVerifiers(ctx context.Context, s *streams, h *hook.PreReceive) error {
	vs, err := o.openVerify(s)
	if err != nil {
		return err
	}
	var sess *aws.Session
	if o.verifies("aws") {
		if sess, err = aws.Open(ctx, aws.Options{Workers: o.verifyWorkers, Timeout: o.verifyTimeout, Load: s.awsOpts, Limit: o.limiter()}); err != nil {
			return err
		}
	}
	if v := verifiers(sess, vs); v != nil {
		h.Verify = v
	}
	return nil
}

// prePushOptions are the flags of the local pre-push hook.
type prePushOptions struct {
	blobOptions
	cfg          configOptions
	maxShown     int
	ignoreInline bool
}

func newPrePushCmd(s *streams) *cobra.Command {
	o := &prePushOptions{}
	cmd := &cobra.Command{
		Use: "pre-push [REMOTE [URL]]",
		Example: `  keysweep hook install --pre-push
  # .git/hooks/pre-push:
  exec keysweep hook pre-push "$@"`,
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
	o.blobOptions.bind(f, "blobs")
	f.BoolVar(&o.ignoreInline, "ignore-inline-markers", false, "stop the push for secrets marked keysweep:allow too")
	return cmd
}

func newHookInstallCmd(s *streams) *cobra.Command {
	var preCommit, prePush, preReceive, force bool
	cmd := &cobra.Command{
		Use: "install [--pre-commit|--pre-push|--pre-receive] [PATH]",
		Example: `  keysweep hook install --pre-commit
  keysweep hook install --pre-push ~/src/app
  keysweep hook install --pre-receive /srv/git/app.git`,
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
			return hook.Install(cmd.Context(), path, kind, force, s.errOut)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&preCommit, "pre-commit", false, "install the pre-commit hook (the default)")
	f.BoolVar(&prePush, "pre-push", false, "install the pre-push hook")
	f.BoolVar(&preReceive, "pre-receive", false, "install the pre-receive hook (server side)")
	f.BoolVar(&force, "force", false, "replace an existing hook, keeping it as <hook>.keysweep-backup[.N]")
	return cmd
}

func (o *prePushOptions) run(ctx context.Context, s *streams, remote string) error {
	if stdinIsTerminal(s) {
		return errors.New(`hook pre-push reads what a push sends: git runs it with "<local-ref> <local-id> <remote-ref> <remote-id>" lines on stdin; to try it by hand, pipe such lines in`)
	}
	maxSize, err := o.blobOptions.parse()
	if err != nil {
		return err
	}
	h := &hook.PrePush{Dir: ".", Config: o.cfg.files(nil), MaxShown: o.maxShown, MaxBlobSize: maxSize, Workers: o.workers, KeepMarked: o.ignoreInline, Log: s.errOut}
	return h.Run(ctx, s.in, remote)
}

// stdinIsTerminal reports whether a hook's stdin is a terminal: it was run
// by hand, and would wait for what git sends it.
func stdinIsTerminal(s *streams) bool {
	f, ok := s.in.(*os.File)
	return ok && isTerminal(f)
}
