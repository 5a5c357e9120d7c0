// Package local runs the scans people run on their own machine (keysweep
// git, dir and staged): a source's content through the detectors, the
// configuration's suppressions, AWS verification when asked, then the
// report and the summaries on stderr.
package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// Source is what a local scan reads.
type Source interface {
	// Scan scans the source with det.
	Scan(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error)
	// Config reads the source's own configuration files.
	Config(ctx context.Context) config.RepoFile
	// Unit is what the summary counts ("blobs", "files"); Commits says
	// whether it counts commits too.
	Unit() string
	Commits() bool
}

// Git is the history of every ref of the repository at Path or, with
// Head set, the commits of Base..Head.
type Git struct {
	Path string
	// Range, if set, is the commits to scan (BASE..HEAD, A...B).
	Range *gitsrc.Range
	// Remote, when set, names the remote repository Path mirrors: its
	// findings carry it, and its own configuration files are not read (a
	// repository someone else controls does not silence the scan).
	Remote string
}

func (g Git) Scan(ctx context.Context, det scanner.Detector, opts scanner.Options) (res *scanner.Result, err error) {
	if g.Range != nil {
		res, err = scanner.Revisions(ctx, g.Path, det, *g.Range, opts)
	} else {
		res, err = scanner.Git(ctx, g.Path, det, opts)
	}
	if res != nil && g.Remote != "" {
		for i := range res.Findings {
			res.Findings[i].Repository = g.Remote
		}
	}
	return res, err
}

func (g Git) Config(ctx context.Context) config.RepoFile {
	if g.Remote != "" {
		return nil
	}
	return config.GitFile(ctx, g.Path)
}
func (Git) Unit() string  { return "blobs" }
func (Git) Commits() bool { return true }

// Dir is the files under Path (or Path itself, a file).
type Dir struct{ Path string }

func (d Dir) Scan(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error) {
	return scanner.Dir(ctx, d.Path, det, opts)
}

// Config reads the directory's files, or those beside Path when it is a
// file.
func (d Dir) Config(context.Context) config.RepoFile {
	root := d.Path
	if st, err := os.Stat(d.Path); err == nil && !st.IsDir() {
		root = filepath.Dir(d.Path)
	}
	return config.DirFile(root)
}

func (Dir) Unit() string  { return "files" }
func (Dir) Commits() bool { return false }

// Stdin is what standard input holds, scanned as one file named "-"
// (`keysweep dir -`). Configuration comes from the working directory.
type Stdin struct{ In io.Reader }

func (s Stdin) Scan(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error) {
	return scanner.Reader(ctx, "-", s.In, det, opts)
}

// Config reads the working directory's files.
func (Stdin) Config(context.Context) config.RepoFile { return config.DirFile(".") }

func (Stdin) Unit() string  { return "files" }
func (Stdin) Commits() bool { return false }

// Staged is what is staged for the next commit in the work tree whose top
// is Top.
type Staged struct{ Top string }

func (s Staged) Scan(ctx context.Context, det scanner.Detector, opts scanner.Options) (*scanner.Result, error) {
	return scanner.Staged(ctx, s.Top, det, opts)
}

func (s Staged) Config(context.Context) config.RepoFile { return config.DirFile(s.Top) }
func (Staged) Unit() string                             { return "files" }
func (Staged) Commits() bool                            { return false }

// Options say what a local scan reads, with what, and where it reports.
type Options struct {
	Source Source
	// Setup is the configuration, resolved by the caller (with the
	// source's own files, unless the user named others).
	Setup *config.Setup
	Scan  scanner.Options
	// AWS, if set, verifies and remediates the AWS keys found; Verify,
	// if set, verifies the other secrets.
	AWS    *aws.Session
	Verify Verifier
	// Results, if set, are the verification results reported
	// (--results); the exit code follows what is reported.
	Results map[string]bool
	// Report writes the findings; Log receives the summaries.
	Report Reporter
	Log    io.Writer
	// Progress, if set, shows how far the scan is.
	Progress Progress
}

// Verifier verifies findings in place and counts what it found, by
// status.
type Verifier interface {
	Process(ctx context.Context, fs []finding.Finding)
	Summary() map[string]int
}

// Reporter writes a scan's findings.
type Reporter interface {
	Report(fs []finding.Finding) error
}

// Progress is told what the scan is doing, how many blobs it reads in
// all once the walk knows, what is scanned so far, and when it ends.
type Progress interface {
	Stage(stage string, total int64)
	Scanned(blobs, bytes int64)
	Finish()
}

// Run scans opts.Source and reports. It returns finding.ErrFindings when
// the report holds findings, and an error when the scan was incomplete or
// a remediation step failed (what was found is reported all the same).
func Run(ctx context.Context, opts Options) error {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Scan.MaxBlobSize <= 0 {
		opts.Scan.MaxBlobSize = scanner.DefaultMaxBlobSize
	}
	scanOpts := opts.Scan
	if opts.Progress != nil {
		scanOpts.Progress, scanOpts.Stage = opts.Progress.Scanned, opts.Progress.Stage
	}
	res, scanErr := opts.Source.Scan(ctx, opts.Setup.Engine, scanOpts)
	if opts.Progress != nil {
		opts.Progress.Finish()
		fmt.Fprintln(opts.Log)
	}
	if res == nil {
		return scanErr
	}
	report.WriteShallowWarning(opts.Log, res.Stats.Shallow)
	res.Findings = opts.Setup.Filter(res.Findings)
	var awsErr error
	if opts.AWS != nil {
		opts.AWS.Process(ctx, res.Findings)
		sum := opts.AWS.Summary()
		defer report.WriteAWSSummary(opts.Log, sum)
		awsErr = sum.Err()
	}
	if opts.Verify != nil {
		opts.Verify.Process(ctx, res.Findings)
		defer report.WriteVerifySummary(opts.Log, opts.Verify.Summary())
	}
	res.Findings = finding.KeepResults(res.Findings, opts.Results)
	if err := opts.Report.Report(res.Findings); err != nil {
		return err
	}
	report.WriteScanSummary(opts.Log, res.Stats, report.ScanSummary{
		Unit: opts.Source.Unit(), Commits: opts.Source.Commits(), MaxBlobSize: opts.Scan.MaxBlobSize, Findings: res.Findings,
	})
	report.WriteSuppressed(opts.Log, opts.Setup.Suppressed(), res.Stats.InlineAllowed)
	switch {
	case scanErr != nil:
		return scanErr
	case awsErr != nil:
		return awsErr
	case len(res.Findings) > 0:
		return finding.ErrFindings
	}
	return nil
}
