package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/local"
	"github.com/keysweep/keysweep/remote"
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
	opts.Scan.Workers, opts.Scan.MaxBlobSize, opts.Scan.AllowMissing = o.workers, maxSize, o.allowMissing
	opts.Scan.KeepMarked = opts.Scan.KeepMarked || o.ignoreInline
	if showProgress(s.errOut, o.noProgress) {
		opts.Progress = report.NewScanProgress(s.errOut)
	}
	return local.Run(ctx, opts)
}

func newGitCmd(s *streams) *cobra.Command {
	o := &scanOptions{}
	var allOccurrences, noReflogs, unreachable bool
	var rangeSpec, since, until, cacheDir string
	var branches []string
	var maxCommits int
	cmd := &cobra.Command{
		Use: "git [PATH | URL]",
		Example: `  keysweep git .
  keysweep git . --verify --results verified
  keysweep git . --since 2026-01-01 --branch main
  keysweep git https://github.com/acme/app --format sarif --report app.sarif
  keysweep git . --own-accounts 111122223333 --deactivate`,
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
same for --ignore-file and .keysweepignore.

A remote repository (https://host/owner/repo, git@host:owner/repo,
ssh://..., file://...) is cloned as a bare mirror first (into --cache-dir,
reused and fetched on the next run; else a temporary clone removed
afterwards) and scanned as someone else's: its own .keysweep.toml and
keysweep:allow markers are not trusted. Credentials: GITHUB_TOKEN or
GH_TOKEN for github.com, GITLAB_TOKEN for gitlab.com, else git's own
credential helpers; never written to disk or printed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			var rng *gitsrc.Range
			if cmd.Flags().Changed("range") {
				r, err := gitsrc.ParseRevRange(rangeSpec)
				if err != nil {
					return fmt.Errorf("--range %q: %s", rangeSpec, report.Escape(err.Error()))
				}
				rng = &r
			}
			opts := scanner.Options{AllOccurrences: allOccurrences, Reflog: !noReflogs && rng == nil, Unreachable: unreachable,
				Branches: branches, MaxCommits: maxCommits}
			var err error
			now := time.Now()
			if s.now != nil {
				now = s.now()
			}
			if opts.Since, err = parseWhen(since, now, false); err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			if opts.Until, err = parseWhen(until, now, true); err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			switch {
			case maxCommits < 0:
				return fmt.Errorf("--max-commits must not be negative, got %d", maxCommits)
			case rng != nil && unreachable:
				return errors.New("--include-unreachable scans what no commit of a range reaches: give one or the other")
			case rng != nil && len(branches) > 0:
				return errors.New("--range and --branch both choose the commits to scan: give one or the other")
			case unreachable && (len(branches) > 0 || since != "" || until != "" || maxCommits > 0):
				return errors.New("--include-unreachable scans what no ref reaches: it does not go with --branch, --since, --until or --max-commits")
			}
			for _, b := range branches {
				if err := gitsrc.CheckRefName(b); err != nil {
					return fmt.Errorf("--branch %q: %s", report.Escape(b), report.Escape(err.Error()))
				}
			}
			src := local.Git{Path: path, Range: rng}
			target, isRemote, err := remote.Parse(path)
			if err != nil {
				return err
			}
			if isRemote {
				// Checked before the clone, which may take minutes.
				if err := o.validate(); err != nil {
					return err
				}
				var log io.Writer // off a terminal, stderr holds the summary only
				if showProgress(s.errOut, o.noProgress) {
					log = s.errOut
				}
				dir, cleanup, err := remote.Mirror(cmd.Context(), target, remote.Options{CacheDir: cacheDir, Getenv: os.Getenv, Log: log})
				defer cleanup()
				if err != nil {
					return err
				}
				// Someone else's repository: its markers do not silence
				// the scan, and its configuration is not read.
				src, opts.KeepMarked = local.Git{Path: dir, Range: rng, Remote: target.String()}, true
			}
			return o.run(cmd.Context(), s, src, opts)
		},
	}
	o.bindScan(cmd, "blobs", true)
	cmd.Flags().BoolVar(&allOccurrences, "all-occurrences", false, "report every commit and path where a secret appears")
	cmd.Flags().StringVar(&since, "since", "", "scan only the commits made on or after `DATE` (2026-01-31, RFC 3339, or 30d / 12w ago): a secret older than that is reported at the oldest commit in the window that changes its file, or not at all")
	cmd.Flags().StringVar(&until, "until", "", "scan only the commits made on or before `DATE` (a date alone means its whole day)")
	cmd.Flags().StringArrayVar(&branches, "branch", nil, "scan only the history of `REF` (main, a tag, origin/main, refs/...; repeatable)")
	cmd.Flags().IntVar(&maxCommits, "max-commits", 0, "scan at most the `N` newest commits (0: all)")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "keep the mirror of a remote repository (PATH a URL) under `DIR`, fetched again on the next run (default: a temporary clone, removed afterwards)")
	cmd.Flags().BoolVar(&noReflogs, "no-reflogs", false, "do not scan the commits only reflogs reach (reset, amended or rebased away)")
	cmd.Flags().BoolVar(&unreachable, "include-unreachable", false, "also scan the commits and blobs nothing reaches (left by history rewrites until git prunes them)")
	cmd.Flags().StringVar(&rangeSpec, "range", "", "scan only the commits of `BASE..HEAD` (reachable from HEAD, not from BASE; BASE alone means BASE..HEAD, an empty side is HEAD), as for a push or pull request in CI, or `A...B` (reachable from either, not from both)")
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

// parseWhen reads a --since or --until date: 2026-01-31 (the day's start,
// or with end its end), RFC 3339, or a time ago (30d, 12w, 48h); "" is
// none.
func parseWhen(s string, now time.Time, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t, nil
	}
	if n := len(s); n > 1 {
		if k, err := strconv.Atoi(s[:n-1]); err == nil && k >= 0 && k < 100000 {
			unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[n-1]]
			if unit > 0 {
				return now.Add(-time.Duration(k) * unit), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want 2026-01-31, RFC 3339 like 2026-01-31T12:00:00Z, or 30d, 12w, 48h ago)", report.Escape(s))
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
	v, _, _ := buildVersion(debug.ReadBuildInfo())
	return report.WriteTo(s.out, o.reportFile, findings, report.Options{Format: o.format, NoRedact: o.noRedact, Color: color, Version: v, Fingerprints: fp,
		GroupBy: o.groupBy, RedactKeyIDs: o.redactKeyIDs})
}
