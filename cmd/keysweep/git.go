package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
)

// outputOptions are the flags every scanning command shares.
type outputOptions struct {
	format     string
	reportFile string
	noRedact   bool
	noProgress bool
}

func (o *outputOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&o.reportFile, "report", "", "write results to `FILE` instead of stdout")
	f.BoolVar(&o.noRedact, "no-redact", false, "show secrets in clear in the results")
	f.BoolVar(&o.noProgress, "no-progress", false, "never show the progress bar")
}

func (o *outputOptions) validate() error {
	if !report.ValidFormat(o.format) {
		return fmt.Errorf("invalid --format %q (want one of %s)", o.format, strings.Join(report.Formats, ", "))
	}
	return nil
}

type gitOptions struct {
	outputOptions
	cfg            configOptions
	aws            awsOptions
	workers        int
	maxBlobSize    string
	allOccurrences bool
	allowMissing   bool
}

func newGitCmd(s *streams) *cobra.Command {
	o := &gitOptions{}
	cmd := &cobra.Command{
		Use:   "git [PATH]",
		Short: "Scan the full history of every ref of a git repository",
		Long: `Scan every blob of the full history of every ref (local and remote
branches, tags, notes, the stash, a detached HEAD), merges included. Each
unique blob is read and scanned once, and each secret is reported once per
(rule, secret, path) at the commit that introduced it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			return runGit(cmd, s, o, path)
		},
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.IntVar(&o.workers, "workers", 0, "blobs scanned at once (default: the number of cores)")
	f.StringVar(&o.maxBlobSize, "max-blob-size", "25MiB", "skip blobs larger than this `SIZE`")
	f.BoolVar(&o.allOccurrences, "all-occurrences", false, "report every commit and path where a secret appears")
	f.BoolVar(&o.allowMissing, "allow-missing", false, "scan what is present when objects are missing (partial clones)")
	o.cfg.bind(f)
	o.aws.bind(f)
	return cmd
}

func runGit(cmd *cobra.Command, s *streams, o *gitOptions, path string) error {
	if err := o.validate(); err != nil {
		return err
	}
	maxSize, err := parseSize(o.maxBlobSize)
	if err != nil {
		return fmt.Errorf("--max-blob-size: %w", err)
	}
	if o.workers < 0 {
		return fmt.Errorf("--workers must be positive, got %d", o.workers)
	}
	setup, err := o.cfg.setup(gitFile(cmd.Context(), path))
	if err != nil {
		return err
	}
	aws, err := o.aws.prepare(cmd.Context())
	if err != nil {
		return err
	}
	defer aws.close()
	bar := newProgress(s.errOut, o.noProgress)
	opts := scanner.Options{
		Workers:        o.workers,
		MaxBlobSize:    maxSize,
		AllOccurrences: o.allOccurrences,
		AllowMissing:   o.allowMissing,
	}
	if bar != nil {
		opts.Progress = func(blobs, bytes int64) { _ = bar.Set64(bytes) }
	}
	res, scanErr := scanner.Git(cmd.Context(), path, setup.engine, opts)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(s.errOut)
	}
	if res == nil {
		return scanErr
	}
	res.Findings = setup.filter(res.Findings)
	var awsErr error
	if aws != nil {
		aws.process(cmd.Context(), res.Findings)
		sum := aws.summary(res.Findings)
		defer sum.print(s.errOut)
		awsErr = sum.err()
	}
	if err := writeResults(s, &o.outputOptions, res.Findings); err != nil {
		return err
	}
	printSummary(s.errOut, res, maxSize)
	setup.printSummary(s.errOut, res.Stats.InlineAllowed)
	if scanErr != nil {
		return scanErr
	}
	if awsErr != nil {
		return awsErr
	}
	if len(res.Findings) > 0 {
		return errFindings
	}
	return nil
}

// newProgress returns a progress bar on stderr, or nil when stderr is not
// a terminal, in CI, or with --no-progress.
func newProgress(w io.Writer, disabled bool) *progressbar.ProgressBar {
	if disabled || os.Getenv("CI") != "" || !isTerminal(w) {
		return nil
	}
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("scanning"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// writeResults writes findings to stdout or --report FILE.
func writeResults(s *streams, o *outputOptions, findings []scanner.Finding) error {
	return writeReport(s, o, report.Build(findings, o.noRedact))
}

// writeReport writes findings built for output to stdout or --report FILE.
func writeReport(s *streams, o *outputOptions, findings []report.Finding) error {
	if o.reportFile == "" {
		color := o.format == "text" && isTerminal(s.out) && os.Getenv("NO_COLOR") == ""
		if err := report.WriteFindings(s.out, findings, report.Options{Format: o.format, Color: color}); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		return nil
	}
	f, err := os.Create(o.reportFile)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	werr := report.WriteFindings(f, findings, report.Options{Format: o.format})
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write report %s: %w", o.reportFile, werr)
	}
	return nil
}

func printSummary(w io.Writer, res *scanner.Result, maxSize int64) {
	st := res.Stats
	fmt.Fprintf(w, "keysweep: scanned %d commits, %d blobs (%s) in %s; skipped %d binary and %d larger than %s",
		st.Commits, st.Blobs, humanBytes(st.Bytes), st.Duration.Round(time.Millisecond), st.SkippedBinary, st.SkippedLarge, humanBytes(maxSize))
	if n := len(st.Missing); n > 0 {
		fmt.Fprintf(w, "; %d objects missing", n)
	}
	fmt.Fprintf(w, "; %d findings\n", len(res.Findings))
	if n := len(st.Missing); n > 0 {
		shown := st.Missing
		if n > 10 {
			shown = shown[:10]
		}
		fmt.Fprintf(w, "keysweep: missing objects: %s", strings.Join(shown, " "))
		if n > 10 {
			fmt.Fprintf(w, " and %d more", n-10)
		}
		fmt.Fprintln(w)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
