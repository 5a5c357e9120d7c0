package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"golang.org/x/term"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/github"
	"github.com/keysweep/keysweep/report"
)

// Set at release time with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Exit codes: the contract scripts and CI depend on.
const (
	exitClean    = 0
	exitFindings = 1
	exitError    = 2
)

// The sentinels the packages end a run with, mapped to exit codes here.
var (
	// errFindings ends a command that reported findings.
	errFindings = finding.ErrFindings
	// errInterrupted ends a command cut short by Ctrl-C or SIGTERM.
	errInterrupted = finding.ErrInterrupted
)

// streams are the command's standard streams, and the waits it makes.
type streams struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	// sleep waits out rate limits and webhook retries; nil waits in real
	// time. Tests make it return at once.
	sleep github.Sleeper
	// now is the clock of grace periods; nil is time.Now.
	now func() time.Time
	// awsOpts are added to the AWS configuration (tests: retries that do
	// not wait).
	awsOpts []func(*awsconfig.LoadOptions) error
}

// run executes keysweep with args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(ctx, args, &streams{in: stdin, out: stdout, errOut: stderr})
}

// execute runs keysweep with args on s and returns the exit code.
func execute(ctx context.Context, args []string, s *streams) int {
	stderr := s.errOut
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, errInterrupted) && !errors.Is(err, errFindings) {
		// Whatever the command was doing when the signal came ("context
		// canceled", "git cat-file: signal: killed") says less than this.
		err = errInterrupted
	}
	code := exitCode(err)
	if code == exitError {
		fmt.Fprintf(stderr, "keysweep: %s\n", oneLine(err))
	}
	return code
}

// exitCode decides the exit code from a command's error: 0 clean,
// 1 findings, 2 anything else (bad usage, unreadable input, an
// incomplete scan).
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitClean
	case errors.Is(err, errFindings):
		return exitFindings
	default:
		return exitError
	}
}

// oneLine makes an error one line of plain text: errors quote paths, refs
// and answers that someone else chose, which must not reach the terminal
// as control sequences.
func oneLine(err error) string { return report.OneLine(err) }

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "keysweep",
		Short: "Find leaked secrets in git repositories, with first-class AWS key handling",
		Long: `keysweep finds leaked secrets in git repositories: every blob of the full
history of every ref, each scanned once, each secret reported at the commit,
path and line that introduced it.

Exit codes: 0 no findings, 1 findings, 2 error (bad usage, unreadable
repository, incomplete scan). Results go to stdout (or --report FILE);
progress, logs and the summary go to stderr.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.errOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newGitCmd(s), newDirCmd(s), newStagedCmd(s), newHookCmd(s), newGitHubCmd(s), newMergeCmd(s), newRemediateCmd(s), newRulesCmd(s), newConfigCmd(s), newVersionCmd(s))
	return root
}

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Example: `  keysweep version`,
		Short:   "Print the version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v, c, d := buildVersion(debug.ReadBuildInfo())
			_, err := fmt.Fprintf(s.out, "keysweep %s (commit %s, built %s)\n", v, c, d)
			return err
		},
	}
}

// buildVersion is the version, commit and date: as set at link time
// (releases), else as the build info says (go install ...@vX gives the
// module's version, a build from a checkout the VCS revision and time).
func buildVersion(info *debug.BuildInfo, ok bool) (v, c, d string) {
	v, c, d = version, commit, date
	if !ok {
		return v, c, d
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	modified := false
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			if c == "none" {
				c = kv.Value
			}
		case "vcs.time":
			if d == "unknown" {
				d = kv.Value
			}
		case "vcs.modified":
			modified = kv.Value == "true"
		}
	}
	if modified && c != "none" && !strings.HasSuffix(c, "+dirty") && commit == "none" {
		c += "+dirty"
	}
	return v, c, d
}

// showProgress reports whether progress is shown on w: a terminal, not
// in CI, and not turned off.
func showProgress(w io.Writer, disabled bool) bool {
	return !disabled && os.Getenv("CI") == "" && isTerminal(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
