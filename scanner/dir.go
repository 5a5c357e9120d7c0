package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/keysweep/keysweep/finding"
)

// skipDirs are directories of version control metadata: their content is
// history, not files, and `keysweep git` is the scan for it.
var skipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, ".jj": true}

// Dir scans the files under root (or root itself, a file) on disk, with
// opts.Workers files read and scanned at once. Symbolic links are not
// followed. Unreadable files are listed in Stats.Missing; without
// opts.AllowMissing they make the error wrap ErrIncomplete.
func Dir(ctx context.Context, root string, det Detector, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.MaxBlobSize <= 0 {
		opts.MaxBlobSize = DefaultMaxBlobSize
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	c := &collector{opts: opts}
	paths := make(chan string, 256)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(paths)
		if !info.IsDir() {
			paths <- root
			return nil
		}
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root {
					return err
				}
				c.addMissing(p)
				return nil
			}
			if d.IsDir() {
				if skipDirs[d.Name()] && p != root {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil // symbolic links, devices, sockets
			}
			select {
			case paths <- p:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for range opts.Workers {
		g.Go(func() error { return c.readFiles(gctx, root, info.IsDir(), paths, det) })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := &c.findings[i], &c.findings[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	sort.Strings(c.stats.Missing)
	res := &Result{Findings: findingsOf(c.findings), Stats: c.stats}
	res.Stats.Duration = time.Since(start)
	if n := len(res.Stats.Missing); n > 0 && !opts.AllowMissing {
		return res, fmt.Errorf("%w: %d files could not be read (permissions?); rerun with --allow-missing to scan what is readable", ErrIncomplete, n)
	}
	return res, nil
}

func (c *collector) addMissing(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Missing = append(c.stats.Missing, p)
}

// readFiles scans the files sent on paths.
func (c *collector) readFiles(ctx context.Context, root string, isDir bool, paths <-chan string, det Detector) error {
	var local []found
	var st Stats
	for p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := readFile(p, c.opts.MaxBlobSize)
		switch {
		case errors.Is(err, errTooLarge):
			st.SkippedLarge++
			continue
		case err != nil:
			st.Missing = append(st.Missing, p)
			continue
		}
		rel := filepath.Base(p)
		if isDir {
			if r, err := filepath.Rel(root, p); err == nil {
				rel = r
			}
		}
		rel = filepath.ToSlash(rel)
		fs, err := st.scanBounded(ctx, det, c.opts, rel, data)
		if err != nil {
			return err
		}
		for _, f := range fs {
			f.Source = finding.SourceFile
			local = append(local, found{Finding: f})
		}
		if c.opts.Progress != nil {
			c.opts.Progress(c.blobs.Add(1), c.bytes.Add(int64(len(data))))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.findings = append(c.findings, local...)
	c.stats.add(st)
	return nil
}

var errTooLarge = errors.New("file too large")

// readFile reads a file of at most max bytes.
func readFile(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() > max {
		return nil, errTooLarge
	}
	// Read to EOF: the file may have grown since Stat, but not past max.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errTooLarge
	}
	return data, nil
}
