package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// configOptions are the flags that say what to look for and what to keep
// quiet about.
type configOptions struct {
	configFile string
	ignoreFile string
	baseline   string
}

func (o *configOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.configFile, "config", "", "read rules and allowlists from `FILE` instead of the scanned repository's "+config.FileName)
	f.StringVar(&o.ignoreFile, "ignore-file", "", "read ignored fingerprints from `FILE` instead of the scanned repository's "+config.IgnoreFileName)
	f.StringVar(&o.baseline, "baseline", "", "do not report findings already in `REPORT.json`, an earlier keysweep report")
}

// repoFile reads a file at the root of what is scanned; ok is false when
// there is no such file.
type repoFile func(name string) (data []byte, source string, ok bool, err error)

// scanSetup is what a scan runs with: the rules, and what is suppressed.
type scanSetup struct {
	engine *detectors.Engine
	sup    *config.Suppressor
	// sources names the configuration and ignore files in use.
	sources []string
	// fp computes each secret's fingerprint once (a memory-hard hash)
	// for filtering, reporting and auditing alike.
	fp report.Fingerprinter
}

// setup loads the configuration: --config, else the repository's own file
// (when read is not nil), else the built-in defaults; the same for ignores.
func (o *configOptions) setup(read repoFile) (*scanSetup, error) {
	s := &scanSetup{sup: &config.Suppressor{}}
	var cfg *config.Config
	switch {
	case o.configFile != "":
		c, err := config.Load(o.configFile)
		if err != nil {
			return nil, err
		}
		cfg = c
	case read != nil:
		data, source, ok, err := read(config.FileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if cfg, err = config.Parse(source, data); err != nil {
				return nil, err
			}
		}
	}
	if cfg != nil {
		s.sources = append(s.sources, cfg.Source)
	}
	s.engine = detectors.New(cfg.Apply(detectors.Catalog()))
	s.sup.Filter = cfg.Filter()

	now := time.Now()
	switch {
	case o.ignoreFile != "":
		ig, err := config.LoadIgnores(o.ignoreFile, now)
		if err != nil {
			return nil, err
		}
		s.sup.Ignores = ig
	case read != nil:
		data, source, ok, err := read(config.IgnoreFileName)
		if err != nil {
			return nil, err
		}
		if ok {
			if s.sup.Ignores, err = config.ParseIgnores(source, data, now); err != nil {
				return nil, err
			}
		}
	}
	if s.sup.Ignores != nil {
		s.sources = append(s.sources, s.sup.Ignores.Source)
	}
	if o.baseline != "" {
		b, err := config.LoadBaseline(o.baseline)
		if err != nil {
			return nil, err
		}
		s.sup.Baseline = b
		s.sources = append(s.sources, o.baseline)
	}
	return s, nil
}

// filter drops suppressed findings.
func (s *scanSetup) filter(fs []scanner.Finding) []scanner.Finding {
	out := fs[:0]
	// Fingerprints cost a memory-hard hash each: only ignores and
	// baselines need them.
	needFP := s.sup.Ignores != nil || len(s.sup.Baseline) > 0
	if needFP {
		_ = s.fp.Warm(context.Background(), fs)
	}
	for _, f := range fs {
		if !needFP {
			if s.sup.Keep(f.RuleID, f.Path, f.Commit, "") {
				out = append(out, f)
			}
			continue
		}
		// Ignores and baselines written before fingerprints were hashed
		// slowly name the old form.
		if s.sup.Keep(f.RuleID, f.Path, f.Commit, s.fp.Fingerprint(f.RuleID, f.KeyID, f.Secret), report.LegacyFingerprint(f.RuleID, f.KeyID, f.Secret)) {
			out = append(out, f)
		}
	}
	return out
}

// printSummary says on stderr what was suppressed, and which ignores were
// unused or have expired.
func (s *scanSetup) printSummary(w io.Writer, inline int64) {
	c := s.sup.Counts
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{c[config.ByAllowlist], "allowlisted"}, {c[config.ByIgnore], "ignored"}, {c[config.ByBaseline], "in the baseline"}, {int(inline), "marked " + scanner.AllowMarker}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "keysweep: not reported: %s\n", strings.Join(parts, ", "))
	}
	for _, e := range s.sup.Ignores.Expired() {
		fmt.Fprintf(w, "keysweep: %s:%d: ignore of %s expired on %s: reported again\n", s.sup.Ignores.Source, e.Line, e.Fingerprint, e.Expires.Format("2006-01-02"))
	}
	for _, e := range s.sup.Ignores.Unused() {
		fmt.Fprintf(w, "keysweep: %s:%d: unused ignore of %s (%s)\n", s.sup.Ignores.Source, e.Line, report.Escape(e.Fingerprint), report.Escape(e.Reason))
	}
	for _, e := range s.sup.Ignores.Legacy() {
		fmt.Fprintf(w, "keysweep: %s:%d: ignore of %s uses an old fingerprint, a fast hash of the secret: replace it with %s\n", s.sup.Ignores.Source, e.Line, e.Fingerprint, e.Replacement)
	}
}

// dirFile reads files from a directory on disk.
func dirFile(dir string) repoFile {
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

// gitFile reads a repository's file from the top of its work tree when
// path is in one (at the top or in a subdirectory), else from the commit
// HEAD names (a bare repository, a mirror).
func gitFile(ctx context.Context, path string) repoFile {
	var onDisk repoFile
	return func(name string) ([]byte, string, bool, error) {
		if onDisk == nil {
			// The scan says what is wrong with path, if anything. Messages
			// name the files as the user named the directory, when it is the
			// top.
			dir := path
			if top, err := gitsrc.WorkTree(ctx, path); err == nil && !sameDir(top, path) {
				dir = top
			}
			onDisk = dirFile(dir)
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

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
