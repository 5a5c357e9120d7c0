// Package scanner decides what to scan and runs the worker pool: it walks
// a source (a repository's history), reads each unique blob once, hands it
// to the detectors and turns their matches into findings located at the
// commit, path and line that introduced them. It knows nothing of output
// formats.
package scanner

import (
	"bytes"
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
	// Verification and Remediation are filled in after the scan, for AWS
	// findings, when the user asks for them.
	Verification *verify.Result
	Remediation  *verify.Remediation

	seq int64 // order in the walk: lower is older
}

// Detector finds secrets in a blob's content.
type Detector interface {
	Scan(path string, data []byte) []detectors.Match
}

// AllowMarker on the line of a secret (or of its end, for a multi-line
// secret) says that it is not a leak: no finding is made.
const AllowMarker = "keysweep:allow"

// findingsIn locates each match in data. Matches come ordered by
// position, so lines are counted once through the data. Matches marked
// with AllowMarker are dropped and counted.
func findingsIn(ms []detectors.Match, data []byte, path string) (out []Finding, allowed int) {
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
		if markedAllowed(data, lineStart, m.End) {
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
// counted and skipped, the rest counted, scanned and located.
func (st *Stats) scanContent(det Detector, path string, data []byte) []Finding {
	if isBinary(data) {
		st.SkippedBinary++
		return nil
	}
	st.Blobs++
	st.Bytes += int64(len(data))
	fs, allowed := findingsIn(det.Scan(path, data), data, path)
	st.InlineAllowed += int64(allowed)
	return fs
}

// add adds a worker's counts to st.
func (st *Stats) add(o Stats) {
	st.Blobs += o.Blobs
	st.Bytes += o.Bytes
	st.SkippedBinary += o.SkippedBinary
	st.SkippedLarge += o.SkippedLarge
	st.InlineAllowed += o.InlineAllowed
	st.Missing = append(st.Missing, o.Missing...)
}
