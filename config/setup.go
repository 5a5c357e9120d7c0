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
// ignores. now decides which ignores have expired.
func Resolve(files Files, now time.Time) (*Setup, error) {
	s := &Setup{Fingerprints: new(finding.Fingerprinter)}
	var cfg *Config
	switch {
	case files.Config != "":
		c, err := Load(files.Config)
		if err != nil {
			return nil, err
		}
		cfg = c
	case files.Read != nil:
		data, source, ok, err := files.Read(FileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if cfg, err = Parse(source, data); err != nil {
				return nil, err
			}
		}
	}
	if cfg != nil {
		s.Sources = append(s.Sources, cfg.Source)
	}
	s.Engine = detectors.New(cfg.Apply(detectors.Catalog()))
	s.sup.Filter = cfg.Filter()

	switch {
	case files.Ignores != "":
		ig, err := LoadIgnores(files.Ignores, now)
		if err != nil {
			return nil, err
		}
		s.sup.Ignores = ig
	case files.Read != nil:
		data, source, ok, err := files.Read(IgnoreFileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if s.sup.Ignores, err = ParseIgnores(source, data, now); err != nil {
				return nil, err
			}
		}
	}
	if s.sup.Ignores != nil {
		s.Sources = append(s.Sources, s.sup.Ignores.Source)
	}
	if files.Baseline != "" {
		b, err := LoadBaseline(files.Baseline)
		if err != nil {
			return nil, err
		}
		s.sup.Baseline = b
		s.Sources = append(s.Sources, files.Baseline)
	}
	return s, nil
}

// NeedsFingerprints reports whether Filter fingerprints findings: only
// ignores and baselines name them.
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
		if s.sup.Keep(f.RuleID, f.Path, f.Commit, f.Fingerprint, legacy) {
			out = append(out, f)
		}
	}
	return out
}

// Suppressed says what Filter has dropped so far, by reason, and which
// ignores were unused, have expired or use an old fingerprint.
type Suppressed struct {
	Counts                  map[string]int
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
