package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// scanOptions are the flags every scan shares.
type scanOptions struct {
	outputOptions
	blobOptions
	cfg          configOptions
	aws          awsOptions
	allowMissing bool
	ignoreInline bool
}

func (o *scanOptions) bindScan(cmd *cobra.Command, unit string) {
	o.outputOptions.bind(cmd)
	o.outputOptions.bindProgress(cmd)
	f := cmd.Flags()
	o.blobOptions.bind(f, unit)
	f.BoolVar(&o.allowMissing, "allow-missing", false, "scan what is present when some "+unit+" cannot be read (partial clones, permissions), listing them")
	f.BoolVar(&o.ignoreInline, "ignore-inline-markers", false, "report secrets marked keysweep:allow too (an audit of what the markers hide)")
	o.cfg.bind(f)
	o.aws.bind(f)
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
	read    config.RepoFile
	extra   func(*scanner.Options)
	scan    source
}

func (r scanRun) run(cmd *cobra.Command, s *streams) error {
	o := r.o
	if err := o.validate(); err != nil {
		return err
	}
	maxSize, err := o.blobOptions.parse()
	if err != nil {
		return err
	}
	setup, err := o.cfg.resolve(r.read)
	if err != nil {
		return err
	}
	sess, err := o.aws.open(cmd.Context(), s)
	if err != nil {
		return err
	}
	defer sess.Close()
	bar := newProgress(s.errOut, o.noProgress)
	opts := scanner.Options{Workers: o.workers, MaxBlobSize: maxSize, AllowMissing: o.allowMissing, KeepMarked: o.ignoreInline}
	if r.extra != nil {
		r.extra(&opts)
	}
	if bar != nil {
		opts.Progress = func(blobs, bytes int64) { _ = bar.Set64(bytes) }
	}
	res, scanErr := r.scan(cmd.Context(), setup.Engine, opts)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(s.errOut)
	}
	if res == nil {
		return scanErr
	}
	report.WriteShallowWarning(s.errOut, res.Stats.Shallow)
	res.Findings = setup.Filter(res.Findings)
	var awsErr error
	if sess != nil {
		sess.Process(cmd.Context(), res.Findings)
		sum := sess.Summary()
		defer report.WriteAWSSummary(s.errOut, sum)
		awsErr = sum.Err()
	}
	if err := writeResults(s, &o.outputOptions, res.Findings, setup.Fingerprints); err != nil {
		return err
	}
	report.WriteScanSummary(s.errOut, res.Stats, report.ScanSummary{Unit: r.unit, Commits: r.commits, MaxBlobSize: maxSize, Findings: len(res.Findings)})
	report.WriteSuppressed(s.errOut, setup.Suppressed(), res.Stats.InlineAllowed)
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
				read:  config.GitFile(cmd.Context(), path),
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
				read: config.DirFile(root),
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
				read: config.DirFile(top),
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

// writeResults writes findings to stdout or --report FILE, fingerprinted
// through fp when it is not nil.
func writeResults(s *streams, o *outputOptions, findings []finding.Finding, fp *finding.Fingerprinter) error {
	opts := report.Options{Format: o.format, NoRedact: o.noRedact, Version: version, Fingerprints: fp}
	if toStdout(o.reportFile) {
		opts.Color = o.format == "text" && isTerminal(s.out) && os.Getenv("NO_COLOR") == ""
		if err := report.Write(s.out, findings, opts); err != nil {
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
		return report.Write(w, findings, opts)
	})
	if err != nil {
		return fmt.Errorf("write report %s: %w", o.reportFile, err)
	}
	return nil
}
