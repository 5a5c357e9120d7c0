// Package scanner decides what to scan and runs the worker pool: it walks
// a source (a repository's history), reads each unique blob once, hands it
// to the detectors and turns their matches into findings located at the
// commit, path and line that introduced them. It knows nothing of output
// formats.
package scanner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
)

// Detector finds secrets in a blob's content, and says what it could not
// look at (encoded text beyond its decode budget).
type Detector interface {
	ScanCoverage(path string, data []byte) ([]detectors.Match, detectors.Coverage)
}

// AllowMarker on the line of a secret (or of its end, for a multi-line
// secret) says that it is not a leak: no finding is made.
const AllowMarker = "keysweep:allow"

// findingsIn locates each match in data. Matches come ordered by
// position, so data is read about once however many there are: lines and
// columns are counted on from the previous match, and AllowMarker is
// looked up among its occurrences, found once. Matches marked with
// AllowMarker are dropped and counted, or with keepMarked kept and
// flagged.
func findingsIn(ms []detectors.Match, data []byte, path string, keepMarked bool) (out []finding.Finding, allowed int) {
	out = make([]finding.Finding, 0, len(ms))
	loc := locator{data: data, line: 1}
	for _, m := range ms {
		line, col := loc.at(m.Start)
		snippet := snippetAt(data, loc.lineStart, m.Start, m.End)
		marked := loc.markedAllowed(m.End)
		if marked && !keepMarked {
			allowed++
			continue
		}
		f := finding.Finding{
			RuleID:       m.RuleID,
			Description:  m.Description,
			Secret:       m.Secret,
			Path:         path,
			Line:         line,
			Column:       col,
			KeyID:        m.KeyID,
			SessionToken: m.SessionToken,
			Decoded:      m.Decoded,
			Context:      m.Context,
			Snippet:      snippet,
			Marked:       marked,
		}
		if f.KeyID != "" {
			account, _ := detectors.AccountID(f.KeyID)
			f.AccountID, f.Canary = &account, detectors.IsCanary(account)
		}
		out = append(out, f)
	}
	return out, allowed
}

// The parts of a snippet are clipped to these many bytes.
const (
	snippetSide  = 40
	snippetMatch = 80
)

// snippetAt is the line of a match at [start, end) of data, its line
// starting at lineStart: up to snippetSide bytes before it on its line, its
// first line, and up to snippetSide bytes after it on its last, each cut
// on a character.
func snippetAt(data []byte, lineStart, start, end int) *finding.Snippet {
	from := max(lineStart, start-snippetSide)
	match := data[start:min(end, len(data))]
	if i := bytes.IndexByte(match, '\n'); i >= 0 {
		match = match[:i]
	}
	if len(match) > snippetMatch {
		match = match[:snippetMatch]
	}
	to := min(len(data), end+snippetSide)
	after := data[min(end, len(data)):to]
	if i := bytes.IndexByte(after, '\n'); i >= 0 {
		after = after[:i]
	}
	if end-start != len(match) {
		after = nil // a multi-line or clipped match: what follows is not beside it
	}
	return &finding.Snippet{
		Before: string(bytes.TrimLeft(trimBroken(data[from:start], true), "\t ")),
		Match:  string(trimBroken(match, false)),
		After:  strings.TrimRight(string(trimBroken(bytes.TrimRight(after, "\r"), false)), " \t"),
	}
}

// trimBroken drops a character cut short at the start (front) or the
// end of b.
func trimBroken(b []byte, front bool) []byte {
	if front {
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
		return b
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.Valid(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// locator places positions of data, taken in order, on lines and columns.
type locator struct {
	data []byte
	// pos is on line line, which starts at lineStart.
	pos, line, lineStart int
	// col characters start in data[lineStart:colPos], colPos being where
	// one starts (reading from lineStart).
	colPos, col int
	// markers are the positions of AllowMarker and where their lines
	// start, found on first use.
	markers, markerLines []int
	found                bool
	// steps counts the bytes read, for tests.
	steps int
}

// at returns the line and the column (in characters, both from 1) of
// pos. Taken in order, positions cost the bytes between them; a position
// before the last one is counted from the start again.
func (l *locator) at(pos int) (line, col int) {
	if pos < l.pos {
		l.pos, l.line, l.lineStart, l.colPos, l.col = 0, 1, 0, 0, 0
	}
	chunk := l.data[l.pos:pos]
	l.steps += len(chunk)
	if n := bytes.Count(chunk, []byte{'\n'}); n > 0 {
		l.line += n
		l.lineStart = l.pos + bytes.LastIndexByte(chunk, '\n') + 1
		l.colPos, l.col = l.lineStart, 0
	}
	l.pos = pos
	for l.colPos < pos {
		if l.data[l.colPos] < utf8.RuneSelf {
			l.colPos++
			l.col++
			continue
		}
		_, size := utf8.DecodeRune(l.data[l.colPos:])
		if l.colPos+size > pos {
			break
		}
		l.colPos += size
		l.col++
	}
	// A character cut short at pos counts a character a byte, as
	// utf8.RuneCount counts the bytes of a broken one.
	return l.line, l.col + (pos - l.colPos) + 1
}

// markedAllowed reports whether the lines from the last position's line
// to end's line carry AllowMarker.
func (l *locator) markedAllowed(end int) bool {
	if !l.found {
		l.found = true
		lineStart, from := 0, 0
		for off := 0; ; {
			k := bytes.Index(l.data[off:], []byte(AllowMarker))
			if k < 0 {
				break
			}
			p := off + k
			if nl := bytes.LastIndexByte(l.data[from:p], '\n'); nl >= 0 {
				lineStart = from + nl + 1
			}
			l.markers = append(l.markers, p)
			l.markerLines = append(l.markerLines, lineStart)
			off, from = p+1, p
		}
		l.steps += len(l.data)
	}
	// The first marker on or after the line of the last position is on
	// one of the lines up to end's when no line starts between end and
	// it: its own line starts at end or before.
	i := sort.SearchInts(l.markers, l.lineStart)
	return i < len(l.markers) && l.markerLines[i] <= min(end, len(l.data))
}

// isBinary reports whether data looks binary the way git decides it: a
// NUL byte in the first 8000 bytes.
func isBinary(data []byte) bool {
	if len(data) > 8000 {
		data = data[:8000]
	}
	return bytes.IndexByte(data, 0) >= 0
}

// scanContent scans one blob or file's content for st: binary content is
// counted and skipped (unless opts.ScanBinary), the rest counted, scanned
// and located.
func (st *Stats) scanContent(det Detector, opts Options, path string, data []byte) []finding.Finding {
	if !opts.ScanBinary && isBinary(data) {
		st.SkippedBinary++
		return nil
	}
	st.Blobs++
	st.Bytes += int64(len(data))
	ms, cov := det.ScanCoverage(path, data)
	if cov.Undecoded > 0 {
		st.Undecoded++
	}
	if cov.Truncated > 0 {
		st.Truncated++
	}
	fs, allowed := findingsIn(ms, data, path, opts.KeepMarked)
	st.InlineAllowed += int64(allowed)
	return fs
}

// scanBounded is scanContent within ctx: detectors do not look at the
// context, so a blob that takes longer than the scan may (a budget ran
// out, the user pressed Ctrl-C) is abandoned rather than waited for. Its
// goroutine finishes on its own, into counts of its own, and its result
// is dropped.
func (st *Stats) scanBounded(ctx context.Context, det Detector, opts Options, path string, data []byte) ([]finding.Finding, error) {
	type result struct {
		fs []finding.Finding
		st Stats
	}
	r, err := bounded(ctx, func() result {
		var local Stats
		fs := local.scanContent(det, opts, path, data)
		return result{fs, local}
	})
	if err != nil {
		return nil, err
	}
	st.add(r.st)
	return r.fs, nil
}

// Reader scans what r holds as one file named name (standard input, for
// `keysweep dir -`), read to its end but no further than opts.MaxBlobSize:
// more is an error, not a silent cut.
func Reader(ctx context.Context, name string, r io.Reader, det Detector, opts Options) (*Result, error) {
	if opts.MaxBlobSize <= 0 {
		opts.MaxBlobSize = DefaultMaxBlobSize
	}
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxBlobSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > opts.MaxBlobSize {
		return nil, fmt.Errorf("%s holds more than --max-blob-size (%d bytes): not scanned", name, opts.MaxBlobSize)
	}
	var st Stats
	fs, err := st.scanBounded(ctx, det, opts, name, data)
	if err != nil {
		return nil, err
	}
	for i := range fs {
		fs[i].Source = finding.SourceFile
	}
	if opts.Progress != nil {
		opts.Progress(1, int64(len(data)))
	}
	return &Result{Findings: fs, Stats: st}, nil
}

// bounded returns what fn returns, or ctx's error as soon as ctx is done
// while fn still runs. fn must touch nothing the caller keeps using.
func bounded[T any](ctx context.Context, fn func() T) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// add adds a worker's counts to st.
func (st *Stats) add(o Stats) {
	st.Blobs += o.Blobs
	st.Bytes += o.Bytes
	st.SkippedBinary += o.SkippedBinary
	st.SkippedLarge += o.SkippedLarge
	st.InlineAllowed += o.InlineAllowed
	st.Undecoded += o.Undecoded
	st.Truncated += o.Truncated
	st.Messages += o.Messages
	st.Missing = append(st.Missing, o.Missing...)
}
