package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/local"
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

// bindScan binds the flags of a scan; remediation adds those that act on
// AWS keys of the user's accounts (not for a pre-commit check).
func (o *scanOptions) bindScan(cmd *cobra.Command, unit string, remediation bool) {
	o.outputOptions.bind(cmd)
	o.outputOptions.bindProgress(cmd)
	f := cmd.Flags()
	o.blobOptions.bind(f, unit)
	f.BoolVar(&o.allowMissing, "allow-missing", false, "scan what is present when some "+unit+" cannot be read (partial clones, permissions), listing them")
	f.BoolVar(&o.ignoreInline, "ignore-inline-markers", false, "report secrets marked keysweep:allow too (an audit of what the markers hide)")
	o.cfg.bind(f)
	if !remediation {
		o.aws.verifyOptions.bind(f)
		return
	}
	o.aws.bind(f)
	o.aws.bindLocal(f)
}

// run scans src with the flags, and reports.
func (o *scanOptions) run(ctx context.Context, s *streams, src local.Source, extra scanner.Options) error {
	if err := o.validate(); err != nil {
		return err
	}
	maxSize, err := o.blobOptions.parse()
	if err != nil {
		return err
	}
	setup, err := o.cfg.resolve(src.Config(ctx))
	if err != nil {
		return err
	}
	results, err := finding.ParseResults(o.results)
	if err != nil {
		return fmt.Errorf("--results: %w", err)
	}
	vs, err := o.aws.openVerify(s)
	if err != nil {
		return err
	}
	sess, err := o.aws.open(ctx, s)
	if err != nil {
		return err
	}
	defer sess.Close()
	opts := local.Options{Source: src, Setup: setup, AWS: sess, Results: results, Report: reporter{s, &o.outputOptions, setup.Fingerprints}, Log: s.errOut}
	if vs != nil {
		opts.Verify = vs
	}
	opts.Scan = extra
	opts.Scan.Workers, opts.Scan.MaxBlobSize, opts.Scan.AllowMissing, opts.Scan.KeepMarked = o.workers, maxSize, o.allowMissing, o.ignoreInline
	if showProgress(s.errOut, o.noProgress) {
		opts.Progress = report.NewScanProgress(s.errOut)
	}
	return local.Run(ctx, opts)
}

func newGitCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	var allOccurrences, noReflogs, unreachable bool
	var rangeSpec string
	cmd := &cobra.Command{
		Use:   "git [PATH]",
		Short: "Scan the full history of every ref of a git repository",
		Long: `Scan every blob of the full history of every ref (local and remote
branches, tags, notes, the stash, a detached HEAD), merges included. Each
unique blob is read and scanned once, and each secret is reported once per
(rule, secret, path) at the commit that introduced it. The messages of
every commit and annotated tag are scanned too.

Beyond the refs: commits that only reflogs still reach (reset, amended or
rebased away, but kept by git for weeks) are scanned and their findings
marked "reach": "reflog", unless --no-reflogs. With --include-unreachable,
the commits and blobs nothing reaches any more (what a history rewrite
leaves in a server's or mirror's object store until git prunes it) are
scanned too, marked "reach": "unreachable"; a blob no commit names is
reported with no commit. The summary counts each.

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
				if base, head, err = gitsrc.ParseRange(rangeSpec); err != nil {
					return fmt.Errorf("--range %q: %w", rangeSpec, err)
				}
			}
			if head != "" && unreachable {
				return errors.New("--include-unreachable scans what no commit of a range reaches: give one or the other")
			}
			return o.run(cmd.Context(), s, local.Git{Path: path, Base: base, Head: head},
				scanner.Options{AllOccurrences: allOccurrences, Reflog: !noReflogs && head == "", Unreachable: unreachable})
		},
	}
	o.bindScan(cmd, "blobs", true)
	cmd.Flags().BoolVar(&allOccurrences, "all-occurrences", false, "report every commit and path where a secret appears")
	cmd.Flags().BoolVar(&noReflogs, "no-reflogs", false, "do not scan the commits only reflogs reach (reset, amended or rebased away)")
	cmd.Flags().BoolVar(&unreachable, "include-unreachable", false, "also scan the commits and blobs nothing reaches (left by history rewrites until git prunes them)")
	cmd.Flags().StringVar(&rangeSpec, "range", "", "scan only the commits of `BASE..HEAD` (reachable from HEAD, not from BASE; BASE alone means BASE..HEAD, an empty side is HEAD), as for a push or pull request in CI")
	return cmd
}

func newDirCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "dir [PATH | -]",
		Short: "Scan the files under a directory on disk (not history), or standard input",
		Example: `  keysweep dir .
  keysweep dir ./config --format json --report findings.json
  kubectl get secret app -o yaml | keysweep dir -`,
		Long: `Scan every regular file under PATH (or PATH itself, a file), in parallel;
with "-", what standard input holds (reported as the file "-").
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
			if path == "-" {
				return o.run(cmd.Context(), s, local.Stdin{In: s.in}, scanner.Options{})
			}
			return o.run(cmd.Context(), s, local.Dir{Path: path}, scanner.Options{})
		},
	}
	o.bindScan(cmd, "files", true)
	return cmd
}

func newStagedCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	var repo string
	cmd := &cobra.Command{
		Use:   "staged [PATH]",
		Short: "Scan what is staged for the next commit (for a pre-commit hook)",
		Long: `Scan the staged content of every added or modified file and report the
secrets on the lines the staged change adds, at their line in the staged
file. Exits 1 when it finds one, which stops a pre-commit hook.

As a plain git hook:
  printf '#!/bin/sh\nexec keysweep staged\n' > .git/hooks/pre-commit
  chmod +x .git/hooks/pre-commit
With the pre-commit framework, use the hook id "keysweep" of this repository.

PATH is the repository (any directory of its work tree; default .).`,
		Example: `  keysweep staged
  keysweep staged ~/src/app --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("repo") {
					return errors.New("give the repository as PATH or --repo, not both")
				}
				repo = args[0]
			}
			top, err := gitsrc.WorkTree(cmd.Context(), repo)
			if err != nil {
				return err
			}
			return o.run(cmd.Context(), s, local.Staged{Top: top}, scanner.Options{})
		},
	}
	o.bindScan(cmd, "files", false)
	cmd.Flags().StringVar(&repo, "repo", ".", "the repository (any directory of its work tree)")
	_ = cmd.Flags().MarkHidden("repo") // before PATH was the way
	return cmd
}

// reporter writes findings to stdout or --report FILE.
type reporter struct {
	s  *streams
	o  *outputOptions
	fp *finding.Fingerprinter
}

func (r reporter) Report(fs []finding.Finding) error { return writeResults(r.s, r.o, fs, r.fp) }

// writeResults writes findings to stdout or --report FILE, fingerprinted
// through fp when it is not nil.
func writeResults(s *streams, o *outputOptions, findings []finding.Finding, fp *finding.Fingerprinter) error {
	color := o.format == "text" && isTerminal(s.out) && os.Getenv("NO_COLOR") == ""
	return report.WriteTo(s.out, o.reportFile, findings, report.Options{Format: o.format, NoRedact: o.noRedact, Color: color, Version: version, Fingerprints: fp})
}
