package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
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
	f.StringVar(&o.reportFile, "report", "", "write results to `FILE` instead of stdout (- for stdout)")
	f.BoolVar(&o.noRedact, "no-redact", false, "show secrets in clear in the results")
	f.BoolVar(&o.noProgress, "no-progress", false, "never show the progress bar")
}

func (o *outputOptions) validate() error {
	if !report.ValidFormat(o.format) {
		return fmt.Errorf("invalid --format %q (want one of %s)", o.format, strings.Join(report.Formats, ", "))
	}
	return checkReportPath(o.reportFile)
}

// scanOptions are the flags every scan shares.
type scanOptions struct {
	outputOptions
	cfg          configOptions
	aws          awsOptions
	workers      int
	maxBlobSize  string
	allowMissing bool
	ignoreInline bool
}

func (o *scanOptions) bindScan(cmd *cobra.Command, unit string) {
	o.bind(cmd)
	f := cmd.Flags()
	f.IntVar(&o.workers, "workers", 0, workersUsage(unit))
	f.StringVar(&o.maxBlobSize, "max-blob-size", "25MiB", "skip "+unit+" larger than this `SIZE`")
	f.BoolVar(&o.allowMissing, "allow-missing", false, "scan what is present when some "+unit+" cannot be read (partial clones, permissions), listing them")
	f.BoolVar(&o.ignoreInline, "ignore-inline-markers", false, "report secrets marked keysweep:allow too (an audit of what the markers hide)")
	o.cfg.bind(f)
	o.aws.bind(f)
}

// workersUsage is the help of --workers.
func workersUsage(unit string) string {
	return unit + " scanned at once; 0 means one per core (the default)"
}

// checkWorkers validates --workers: 0, the default, is one per core.
func checkWorkers(n int) error {
	if n < 0 {
		return fmt.Errorf("--workers must be 0 (one per core) or more, got %d", n)
	}
	return nil
}

// parseMaxBlobSize reads --max-blob-size: a whole number of bytes with an
// optional unit, decimal (KB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB,
// or K, M, G, T), in any case.
func parseMaxBlobSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{
		{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
		{"tb", 1e12}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3},
		{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1},
	} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	switch {
	case strings.HasPrefix(t, "-") || err == nil && n == 0:
		return 0, fmt.Errorf("--max-blob-size %q: invalid size: want more than 0 bytes, like 25MiB", s)
	case errors.Is(err, strconv.ErrRange) || err == nil && n > math.MaxInt64/mult:
		return 0, fmt.Errorf("--max-blob-size %q is too large: at most %dTiB", s, int64(math.MaxInt64>>40))
	case err != nil:
		return 0, fmt.Errorf("--max-blob-size %q: invalid size: want a whole number of bytes, with a unit or not (KB, MB, GB, TB, KiB, MiB, GiB, TiB), like 25MiB", s)
	}
	return n * mult, nil
}

// parseRange reads --range BASE..HEAD: the commits reachable from HEAD and
// not from BASE. BASE alone means BASE..HEAD and, as in git, an empty side
// is HEAD.
func parseRange(spec string) (base, head string, err error) {
	bad := func(why string) error { return fmt.Errorf("--range %q: %s", spec, why) }
	switch {
	case strings.Contains(spec, "..."):
		// git reads A...B as the commits of either side and not of both,
		// which is not what a pull request adds.
		return "", "", bad("three dots are not supported: give BASE..HEAD, the commits reachable from HEAD and not from BASE")
	case strings.TrimSpace(spec) == "":
		return "", "", bad("want BASE..HEAD, or BASE alone for BASE..HEAD")
	}
	base, head, found := strings.Cut(spec, "..")
	switch {
	case !found:
		return spec, "HEAD", nil
	case strings.Contains(head, ".."):
		return "", "", bad("want one range, BASE..HEAD")
	case base == "" && head == "":
		return "", "", bad("want BASE..HEAD, or BASE alone for BASE..HEAD")
	}
	if base == "" {
		base = "HEAD"
	}
	if head == "" {
		head = "HEAD"
	}
	return base, head, nil
}

// source runs one kind of scan.
type source func(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error)

// scanRun is one scan from flags to exit code.
type scanRun struct {
	o    *scanOptions
	unit string // what the summary counts: "blobs", "files"
	// commits says whether the summary counts commits.
	commits bool
	read    repoFile
	extra   func(*scanner.Options)
	scan    source
}

func (r scanRun) run(cmd *cobra.Command, s *streams) error {
	o := r.o
	if err := o.validate(); err != nil {
		return err
	}
	maxSize, err := parseMaxBlobSize(o.maxBlobSize)
	if err != nil {
		return err
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	setup, err := o.cfg.setup(r.read)
	if err != nil {
		return err
	}
	aws, err := o.aws.prepare(cmd.Context(), s)
	if err != nil {
		return err
	}
	defer aws.close()
	bar := newProgress(s.errOut, o.noProgress)
	opts := scanner.Options{Workers: o.workers, MaxBlobSize: maxSize, AllowMissing: o.allowMissing, KeepMarked: o.ignoreInline}
	if r.extra != nil {
		r.extra(&opts)
	}
	if bar != nil {
		opts.Progress = func(blobs, bytes int64) { _ = bar.Set64(bytes) }
	}
	res, scanErr := r.scan(cmd.Context(), setup.engine, opts)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(s.errOut)
	}
	if res == nil {
		return scanErr
	}
	if n := res.Stats.Shallow; n > 0 {
		fmt.Fprintf(s.errOut, "keysweep: warning: a shallow clone: its history stops at %d %s, and what %s holds is attributed to %s; run git fetch --unshallow to scan the whole history\n",
			n, plural(n, "commit"), pick(n, "it", "they"), pick(n, "it", "them"))
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
	printSummary(s.errOut, res, maxSize, r.unit, r.commits)
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

func newGitCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	var allOccurrences bool
	var rangeSpec string
	cmd := &cobra.Command{
		Use:   "git [PATH]",
		Short: "Scan the full history of every ref of a git repository",
		Long: `Scan every blob of the full history of every ref (local and remote
branches, tags, notes, the stash, a detached HEAD), merges included. Each
unique blob is read and scanned once, and each secret is reported once per
(rule, secret, path) at the commit that introduced it.

Configuration: --config FILE, else the repository's .keysweep.toml (from
the work tree, or from HEAD in a bare repository), else the defaults; the
same for --ignore-file and .keysweepignore.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			var base, head string
			if cmd.Flags().Changed("range") {
				var err error
				if base, head, err = parseRange(rangeSpec); err != nil {
					return err
				}
			}
			return scanRun{
				o: o, unit: "blobs", commits: true,
				read:  gitFile(cmd.Context(), path),
				extra: func(opts *scanner.Options) { opts.AllOccurrences = allOccurrences },
				scan: func(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error) {
					if head != "" {
						return scanner.Range(ctx, path, det, base, head, opts)
					}
					return scanner.Git(ctx, path, det, opts)
				},
			}.run(cmd, s)
		},
	}
	o.bindScan(cmd, "blobs")
	cmd.Flags().BoolVar(&allOccurrences, "all-occurrences", false, "report every commit and path where a secret appears")
	cmd.Flags().StringVar(&rangeSpec, "range", "", "scan only the commits of `BASE..HEAD` (reachable from HEAD, not from BASE; BASE alone means BASE..HEAD, an empty side is HEAD), as for a push or pull request in CI")
	return cmd
}

func newDirCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "dir [PATH]",
		Short: "Scan the files under a directory on disk (not history)",
		Long: `Scan every regular file under PATH (or PATH itself, a file), in parallel.
Version control directories (.git, .hg, .svn) are skipped, symbolic links are
not followed, binary files and files over --max-blob-size are skipped and
counted. Files ignored by .gitignore are scanned: a local .env is exactly
where secrets sit.

Configuration: --config FILE, else PATH/.keysweep.toml; --ignore-file FILE,
else PATH/.keysweepignore.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			root := path
			if st, err := os.Stat(path); err == nil && !st.IsDir() {
				root = filepath.Dir(path)
			}
			return scanRun{
				o: o, unit: "files",
				read: dirFile(root),
				scan: func(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error) {
					return scanner.Dir(ctx, path, det, opts)
				},
			}.run(cmd, s)
		},
	}
	o.bindScan(cmd, "files")
	return cmd
}

func newStagedCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	var repo string
	cmd := &cobra.Command{
		Use:   "staged",
		Short: "Scan what is staged for the next commit (for a pre-commit hook)",
		Long: `Scan the staged content of every added or modified file and report the
secrets on the lines the staged change adds, at their line in the staged
file. Exits 1 when it finds one, which stops a pre-commit hook.

As a plain git hook:
  printf '#!/bin/sh\nexec keysweep staged\n' > .git/hooks/pre-commit
  chmod +x .git/hooks/pre-commit
With the pre-commit framework, use the hook id "keysweep" of this repository.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			top, err := workTree(cmd.Context(), repo)
			if err != nil {
				return err
			}
			return scanRun{
				o: o, unit: "files",
				read: dirFile(top),
				scan: func(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error) {
					return scanner.Staged(ctx, top, det, opts)
				},
			}.run(cmd, s)
		},
	}
	o.bindScan(cmd, "files")
	cmd.Flags().StringVar(&repo, "repo", ".", "the repository (any directory of its work tree)")
	return cmd
}

// workTree returns the top of the work tree that holds dir.
func workTree(ctx context.Context, dir string) (string, error) {
	top, err := gitsrc.WorkTree(ctx, dir)
	if err != nil {
		return "", err
	}
	return top, nil
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
	if toStdout(o.reportFile) {
		color := o.format == "text" && isTerminal(s.out) && os.Getenv("NO_COLOR") == ""
		if err := report.WriteFindings(s.out, findings, report.Options{Format: o.format, Color: color, Version: version}); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		return nil
	}
	// A report with secrets in clear is readable by its owner alone.
	perm := os.FileMode(0o666)
	if o.noRedact {
		perm = 0o600
	}
	err := writeAtomic(o.reportFile, perm, func(w io.Writer) error {
		return report.WriteFindings(w, findings, report.Options{Format: o.format, Version: version})
	})
	if err != nil {
		return fmt.Errorf("write report %s: %w", o.reportFile, err)
	}
	return nil
}

func printSummary(w io.Writer, res *scanner.Result, maxSize int64, unit string, commits bool) {
	st := res.Stats
	fmt.Fprint(w, "keysweep: scanned ")
	if commits {
		fmt.Fprintf(w, "%d %s, ", st.Commits, plural(st.Commits, "commit"))
	}
	fmt.Fprintf(w, "%d %s (%s) in %s; skipped %d binary and %d larger than %s",
		st.Blobs, plural(int(st.Blobs), strings.TrimSuffix(unit, "s")), humanBytes(st.Bytes), st.Duration.Round(time.Millisecond), st.SkippedBinary, st.SkippedLarge, humanBytes(maxSize))
	if n := len(st.Missing); n > 0 {
		what := plural(n, "object") + " missing"
		if unit == "files" {
			what = "unreadable"
		}
		fmt.Fprintf(w, "; %d %s", n, what)
	}
	if st.Undecoded > 0 {
		fmt.Fprintf(w, "; %d with encoded text beyond the decode budget", st.Undecoded)
	}
	if st.Truncated > 0 {
		fmt.Fprintf(w, "; %d where AWS keys were paired within the work bound", st.Truncated)
	}
	fmt.Fprintf(w, "; %d %s\n", len(res.Findings), plural(len(res.Findings), "finding"))
	if n := len(st.Missing); n > 0 {
		shown := st.Missing
		if n > 10 {
			shown = shown[:10]
		}
		fmt.Fprintf(w, "keysweep: missing or unreadable: %s", report.Escape(strings.Join(shown, " ")))
		if n > 10 {
			fmt.Fprintf(w, " and %d more", n-10)
		}
		fmt.Fprintln(w)
	}
}

func humanBytes(n int64) string { return report.HumanBytes(n) }

// pick returns one for n == 1, else other.
func pick(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
