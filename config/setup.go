package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// Files name the configuration a run uses: each one given by the user
// wins over the repository's own file, which Read, when set, reads.
type Files struct {
	// Config is .keysweep.toml's stand-in, Ignores .keysweepignore's.
	Config, Ignores string
	// Baseline is an earlier report whose findings are not reported.
	Baseline string
	// Read reads a file at the root of what is scanned; nil when the
	// scanned content is not trusted to configure the scan.
	Read RepoFile
}

// RepoFile reads a file at the root of what is scanned; ok is false when
// there is no such file.
type RepoFile func(name string) (data []byte, source string, ok bool, err error)

// Setup is what a scan runs with: the rules, and what is suppressed. Its
// Filter is safe for concurrent use.
type Setup struct {
	Engine *detectors.Engine
	// Sources names the configuration and ignore files in use.
	Sources []string
	// Fingerprints computes each secret's fingerprint once (a memory-hard
	// hash) for filtering, reporting and auditing alike.
	Fingerprints *finding.Fingerprinter

	mu  sync.Mutex // guards sup's counts and the ignores' use
	sup Suppressor
}

// Resolve loads the configuration: files.Config, else the repository's own
// file (when files.Read is set), else the built-in defaults; the same for
// ignores, where the repository's own are .keysweepignore and
// .gitleaksignore. now decides which ignores have expired.
func Resolve(files Files, now time.Time) (*Setup, error) {
	l, err := load(files, now)
	if err != nil {
		return nil, err
	}
	s := &Setup{Fingerprints: new(finding.Fingerprinter), Sources: l.sources()}
	s.Engine = detectors.New(l.cfg.Apply(detectors.Catalog()))
	s.sup.Filter = l.cfg.Filter()
	s.sup.Ignores = l.ignores
	s.sup.Gitleaks = l.gitleaks
	s.sup.Baseline = l.baseline
	return s, nil
}

// loaded is what a run's configuration files say, before it becomes a
// Setup: Resolve and Describe read the same files the same way.
type loaded struct {
	cfg          *Config
	ignores      *Ignores
	gitleaks     *GitleaksIgnores
	baseline     Baseline
	baselineFile string
}

// load reads the files a run names, else the repository's own.
func load(files Files, now time.Time) (*loaded, error) {
	l := &loaded{}
	switch {
	case files.Config != "":
		c, err := Load(files.Config)
		if err != nil {
			return nil, err
		}
		l.cfg = c
	case files.Read != nil:
		data, source, ok, err := files.Read(FileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if l.cfg, err = Parse(source, data); err != nil {
				return nil, err
			}
		}
	}

	switch {
	case files.Ignores != "":
		// The user's file replaces the repository's ignores, both kinds.
		ig, err := LoadIgnores(files.Ignores, now)
		if err != nil {
			return nil, err
		}
		l.ignores = ig
	case files.Read != nil:
		data, source, ok, err := files.Read(IgnoreFileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if l.ignores, err = ParseIgnores(source, data, now); err != nil {
				return nil, err
			}
		}
		data, source, ok, err = files.Read(GitleaksIgnoreFileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if l.gitleaks, err = ParseGitleaksIgnores(source, data); err != nil {
				return nil, err
			}
		}
	}
	if files.Baseline != "" {
		b, err := LoadBaseline(files.Baseline)
		if err != nil {
			return nil, err
		}
		l.baseline, l.baselineFile = b, files.Baseline
	}
	return l, nil
}

// sources names the files in use, in the order they were read.
func (l *loaded) sources() []string {
	var out []string
	if l.cfg != nil {
		out = append(out, l.cfg.Source)
	}
	if l.ignores != nil {
		out = append(out, l.ignores.Source)
	}
	if l.gitleaks != nil {
		out = append(out, l.gitleaks.Source)
	}
	if l.baselineFile != "" {
		out = append(out, l.baselineFile)
	}
	return out
}

// NeedsFingerprints reports whether Filter fingerprints findings: only
// .keysweepignore and baselines name them (.gitleaksignore names places).
func (s *Setup) NeedsFingerprints() bool {
	return s.sup.Ignores != nil || len(s.sup.Baseline) > 0
}

// Filter drops suppressed findings, counting them, and fills in the
// fingerprints of those it needed to look at. It is safe for concurrent
// use: a sweep filters several repositories' findings at once.
func (s *Setup) Filter(fs []finding.Finding) []finding.Finding {
	out := fs[:0]
	// Fingerprints cost a memory-hard hash each: only ignores and
	// baselines need them.
	needFP := s.NeedsFingerprints()
	if needFP {
		_ = s.Fingerprints.Fill(context.Background(), fs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range fs {
		legacy := ""
		if needFP {
			// Ignores and baselines written before fingerprints were
			// hashed slowly name the old form.
			legacy = finding.LegacyFingerprint(f.RuleID, f.KeyID, f.Secret)
		}
		if s.sup.KeepAt(f.RuleID, f.Path, f.Commit, f.Line, f.Fingerprint, legacy) {
			out = append(out, f)
		}
	}
	return out
}

// Suppressed says what Filter has dropped so far, by reason, and which
// ignores were unused, have expired or use an old fingerprint. Each
// ignore names its file (Ignore.Source): .keysweepignore's entries come
// first, then .gitleaksignore's.
type Suppressed struct {
	Counts map[string]int
	// IgnoreFile is .keysweepignore's source, else .gitleaksignore's.
	IgnoreFile              string
	Expired, Unused, Legacy []*Ignore
}

// Suppressed reports what the setup's filter did.
func (s *Setup) Suppressed() Suppressed {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Suppressed{Counts: map[string]int{}}
	for k, v := range s.sup.Counts {
		out.Counts[k] = v
	}
	if ig := s.sup.Ignores; ig != nil {
		out.IgnoreFile = ig.Source
		out.Expired, out.Unused, out.Legacy = ig.Expired(), ig.Unused(), ig.Legacy()
	}
	if g := s.sup.Gitleaks; g != nil {
		if out.IgnoreFile == "" {
			out.IgnoreFile = g.Source
		}
		out.Unused = append(out.Unused, g.Unused()...)
	}
	return out
}

// DirFile reads files from a directory on disk.
func DirFile(dir string) RepoFile {
	return func(name string) ([]byte, string, bool, error) {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", false, nil
		case err != nil:
			return nil, "", false, fmt.Errorf("read %s: %w", p, err)
		}
		return data, p, true, nil
	}
}

// GitFile reads a repository's file from the top of its work tree when
// path is in one (at the top or in a subdirectory), else from the commit
// HEAD names: in a bare repository (a mirror, a server's) or inside a git
// directory, a file on disk is not the project's.
func GitFile(ctx context.Context, path string) RepoFile {
	var onDisk RepoFile
	return func(name string) ([]byte, string, bool, error) {
		if onDisk == nil {
			onDisk = noFile
			switch top, err := gitsrc.WorkTree(ctx, path); {
			case err == nil && sameDir(top, path):
				// Messages name the files as the user named the directory.
				onDisk = DirFile(path)
			case err == nil:
				onDisk = DirFile(top)
			case !isRepository(ctx, path):
				// Not a repository: the scan says what is wrong with path.
				onDisk = DirFile(path)
			}
		}
		if data, source, ok, err := onDisk(name); ok || err != nil {
			return data, source, ok, err
		}
		repo, err := gitsrc.Open(ctx, path)
		if err != nil {
			return nil, "", false, nil // the scan says what is wrong with path
		}
		data, ok, err := repo.RevFile(ctx, "HEAD", name)
		return data, "HEAD:" + name, ok, err
	}
}

// noFile finds no file.
func noFile(string) ([]byte, string, bool, error) { return nil, "", false, nil }

// isRepository reports whether path is in a git repository, work tree or
// not.
func isRepository(ctx context.Context, path string) bool {
	_, err := gitsrc.Open(ctx, path)
	return err == nil
}

// HeadFile reads a file from the commit HEAD names, and only from there:
// on a server, a file of the repository's directory is not the project's.
func HeadFile(ctx context.Context, path string) RepoFile {
	return func(name string) ([]byte, string, bool, error) {
		repo, err := gitsrc.Open(ctx, path)
		if err != nil {
			return nil, "", false, err
		}
		data, ok, err := repo.RevFile(ctx, "HEAD", name)
		return data, "HEAD:" + name, ok, err
	}
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
