// Package scanner decides what to scan and runs the worker pool: it walks
// a source (a repository's history), reads each unique blob once, hands it
// to the detectors and turns their matches into findings located at the
// commit, path and line that introduced them. It knows nothing of output
// formats.
package scanner

import (
	"bytes"
	"context"
	"unicode/utf8"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/verify"
)

// Finding is a secret and where it was introduced.
type Finding struct {
	RuleID      string
	Description string
	// Secret is the raw value; report redacts it unless asked not to.
	Secret string
	Commit string
	Path   string
	// Line and Column are 1-based; Column counts characters (code points).
	Line, Column int
	Author       string
	Email        string
	// Date is the author date of Commit, RFC 3339.
	Date   string
	BlobID string

	// KeyID and AccountID are set for AWS findings; AccountID is decoded
	// offline from the key id and is empty for keys that carry none.
	KeyID        string
	AccountID    string
	SessionToken string
	// Canary marks a key of a canary-token account: never send it to AWS.
	Canary bool
	// Decoded says how the secret was decoded ("base64", "hex",
	// "percent", chained with "+"), when it was found inside encoded text.
	Decoded string
	// Source says where outside a file the secret was found: "" for a
	// file's content, SourceCommitMessage or SourceTagMessage (Path is
	// then empty and Line counts lines of the message).
	Source string
	// Marked is set, when Options.KeepMarked, for a secret whose line
	// carries AllowMarker.
	Marked bool
	// ShallowBoundary marks a finding at a commit where a shallow clone's
	// history stops: the secret may have been introduced earlier, in
	// history the clone lacks.
	ShallowBoundary bool
	// Verification and Remediation are filled in after the scan, for AWS
	// findings, when the user asks for them.
	Verification *verify.Result
	Remediation  *verify.Remediation

	seq int64 // order in the walk: lower is older
}

// Sources of findings that are not in a file.
const (
	SourceCommitMessage = "commit-message"
	SourceTagMessage    = "tag-message"
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
// position, so lines are counted once through the data. Matches marked
// with AllowMarker are dropped and counted, or with keepMarked kept and
// flagged.
func findingsIn(ms []detectors.Match, data []byte, path string, keepMarked bool) (out []Finding, allowed int) {
	out = make([]Finding, 0, len(ms))
	line, lineStart, pos := 1, 0, 0
	for _, m := range ms {
		if m.Start < pos { // not ordered: count again from the start
			line, lineStart, pos = 1, 0, 0
		}
		chunk := data[pos:m.Start]
		if n := bytes.Count(chunk, []byte{'\n'}); n > 0 {
			line += n
			lineStart = pos + bytes.LastIndexByte(chunk, '\n') + 1
		}
		pos = m.Start
		marked := markedAllowed(data, lineStart, m.End)
		if marked && !keepMarked {
			allowed++
			continue
		}
		f := Finding{
			RuleID:       m.RuleID,
			Description:  m.Description,
			Secret:       m.Secret,
			Path:         path,
			Line:         line,
			Column:       utf8.RuneCount(data[lineStart:m.Start]) + 1,
			KeyID:        m.KeyID,
			SessionToken: m.SessionToken,
			Decoded:      m.Decoded,
			Marked:       marked,
		}
		if f.KeyID != "" {
			f.AccountID, _ = verify.AccountID(f.KeyID)
			f.Canary = verify.IsCanary(f.AccountID)
		}
		out = append(out, f)
	}
	return out, allowed
}

// markedAllowed reports whether the lines from start's line to end's line
// carry AllowMarker.
func markedAllowed(data []byte, lineStart, end int) bool {
	if end > len(data) {
		end = len(data)
	}
	stop := bytes.IndexByte(data[end:], '\n')
	if stop < 0 {
		stop = len(data)
	} else {
		stop += end
	}
	return bytes.Contains(data[lineStart:stop], []byte(AllowMarker))
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
func (st *Stats) scanContent(det Detector, opts Options, path string, data []byte) []Finding {
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
	fs, allowed := findingsIn(ms, data, path, opts.KeepMarked)
	st.InlineAllowed += int64(allowed)
	return fs
}

// scanBounded is scanContent within ctx: detectors do not look at the
// context, so a blob that takes longer than the scan may (a budget ran
// out, the user pressed Ctrl-C) is abandoned rather than waited for. Its
// goroutine finishes on its own, into counts of its own, and its result
// is dropped.
func (st *Stats) scanBounded(ctx context.Context, det Detector, opts Options, path string, data []byte) ([]Finding, error) {
	type result struct {
		fs []Finding
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
	st.Messages += o.Messages
	st.Missing = append(st.Missing, o.Missing...)
}
