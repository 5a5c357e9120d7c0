package scanner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// Staged scans what the index would commit: the staged content of each
// added or modified file, reporting only secrets on the lines the staged
// change adds. The whole file is scanned, so that a secret on an added
// line pairs with its key id on an unchanged one.
func Staged(ctx context.Context, path string, det Detector, opts Options) (*Result, error) {
	start := time.Now()
	if opts.MaxBlobSize <= 0 {
		opts.MaxBlobSize = DefaultMaxBlobSize
	}
	repo, err := gitsrc.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	files, err := repo.Staged(ctx)
	if err != nil {
		return nil, fmt.Errorf("list staged changes: %w", err)
	}
	br, err := repo.NewBlobReader(ctx, opts.MaxBlobSize)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	st := &res.Stats
	for _, f := range files {
		if f.Mode == "160000" || len(f.Added) == 0 {
			continue // a submodule, or a change that adds no line
		}
		if err := br.Queue(f.Blob); err != nil {
			return nil, err
		}
		if err := br.Flush(); err != nil {
			return nil, err
		}
		content, err := br.Next()
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("read staged %s: %w", f.Path, err)
		}
		switch {
		case content.Missing || content.NotBlob:
			st.Missing = append(st.Missing, f.Blob)
			continue
		case content.TooLarge:
			st.SkippedLarge++
			continue
		}
		fs, err := st.scanBounded(ctx, det, opts, f.Path, content.Data)
		if err != nil {
			_ = br.Close()
			return nil, err
		}
		if len(fs) == 0 {
			continue
		}
		added := addedText(content.Data, f.Added)
		for _, x := range fs {
			// Reported when the staged change adds the finding's line, or
			// adds the secret itself (an AWS secret lines below its id).
			if addsLine(f.Added, x.Line, x.Line+strings.Count(x.Secret, "\n")) || strings.Contains(added, x.Secret) {
				x.Blob, x.Source = f.Blob, finding.SourceBlob
				res.Findings = append(res.Findings, x)
			}
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	st.Duration = time.Since(start)
	if n := len(st.Missing); n > 0 && !opts.AllowMissing {
		return res, fmt.Errorf("%w: %d staged objects are missing", ErrIncomplete, n)
	}
	return res, nil
}

// addsLine reports whether lines first..last meet one of the ranges.
func addsLine(ranges [][2]int, first, last int) bool {
	for _, r := range ranges {
		if first <= r[1] && r[0] <= last {
			return true
		}
	}
	return false
}

// addedText returns the text of the added lines, one per line.
func addedText(data []byte, ranges [][2]int) string {
	var b strings.Builder
	line := 1
	for _, l := range strings.SplitAfter(string(data), "\n") {
		for _, r := range ranges {
			if r[0] <= line && line <= r[1] {
				b.WriteString(l)
				break
			}
		}
		line++
	}
	return b.String()
}
