package detectors

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Secrets hide in encoded text: base64 in Kubernetes secrets and CI
// variables, hex in dumps, percent-encoding in URLs and form bodies. Runs
// of such text are decoded, and when the result is text it is scanned
// again, its matches pointing at the encoded run.
const (
	maxDecodeDepth  = 2       // decoded text inside decoded text, no deeper
	maxDecodedBytes = 4 << 20 // decoded bytes scanned per blob
	minBase64Run    = 24
	minHexRun       = 32
	maxEncodedRun   = 256 << 10
)

// encoded is a run of encoded text and what it decodes to.
type encoded struct {
	start, end int
	how        string
	text       []byte
}

func (e *Engine) scanEncoded(path string, data []byte, depth int, budget *int, direct []Match) []Match {
	var out []Match
	for _, enc := range findEncoded(data) {
		if *budget <= 0 {
			break
		}
		*budget -= len(enc.text)
		for _, m := range e.scan(path, enc.text, depth+1, budget) {
			if overlapsSameRule(direct, m.RuleID, enc.start, enc.end) {
				continue
			}
			how := enc.how
			if m.Decoded != "" {
				how += "+" + m.Decoded
			}
			m.Start, m.End, m.Decoded = enc.start, enc.end, how
			out = append(out, m)
		}
	}
	return out
}

func overlapsSameRule(ms []Match, rule string, start, end int) bool {
	for _, m := range ms {
		if m.RuleID == rule && m.Start < end && start < m.End {
			return true
		}
	}
	return false
}

func isBase64Run(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexByte(s[i]) {
			return false
		}
	}
	return true
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// runClass marks the bytes of base64 (and hex) runs.
var runClass = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isBase64Run(byte(c))
	}
	return t
}()

// findEncoded returns the runs of data that decode to text, in order.
func findEncoded(data []byte) []encoded {
	var out []encoded
	for off := 0; off < len(data); {
		k := bytes.IndexByte(data[off:], '%')
		if k < 0 {
			break
		}
		if enc, ok := percentRun(data, off+k); ok {
			out = append(out, enc)
			off = enc.end
		} else {
			off += k + 1
		}
	}
	percent := len(out)

	// Runs shorter than minBase64Run do not count, so look only at every
	// minBase64Run-th byte: a long enough run must cover it. Most bytes of
	// code and text are never read here.
	n := len(data)
	for i := 0; i+minBase64Run <= n; {
		p := i + minBase64Run - 1
		if !runClass[data[p]] {
			i = p + 1
			continue
		}
		start := p
		for start > i && runClass[data[start-1]] {
			start--
		}
		j := p + 1
		for j < n && runClass[data[j]] {
			j++
		}
		i = j
		if j-start < minBase64Run || j-start > maxEncodedRun {
			continue
		}
		end := j
		for end < n && end-j < 2 && data[end] == '=' {
			end++
		}
		if text, how, ok := decodeRun(string(data[start:end])); ok {
			out = append(out, encoded{start: start, end: end, how: how, text: text})
			i = end
		}
	}
	if percent > 0 && percent < len(out) {
		sort.SliceStable(out, func(a, b int) bool { return out[a].start < out[b].start })
	}
	return out
}

// decodeRun decodes a run as hex or base64, when it is text.
//
// Runs are common (identifiers, paths, hashes), text in them is rare, so
// cheap necessary conditions come first: in the hex of ASCII text every
// other digit is below 8, and in its base64 every fourth character
// encodes a byte's top six bits, which are below 32 (A-Z, a-f).
func decodeRun(run string) ([]byte, string, bool) {
	if len(run) >= minHexRun && len(run)%2 == 0 && allHex(run) {
		for i := 0; i < len(run); i += 2 {
			if run[i] > '7' {
				return nil, "", false // not ASCII text: a hash or binary
			}
		}
		if b, err := hex.DecodeString(run); err == nil && isText(b) {
			return b, "hex", true
		}
		return nil, "", false
	}
	for i := 0; i < len(run); i += 4 {
		if c := run[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'f') {
			return nil, "", false
		}
	}
	lower, upper, digit, _ := charClasses(run)
	if !(lower && upper) || !digit && len(run) < 40 {
		return nil, "", false // words, identifiers, paths
	}
	trimmed := strings.TrimRight(run, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(trimmed)
		if err == nil && isText(b) {
			return b, "base64", true
		}
	}
	return nil, "", false
}

// percentRun decodes the token around a percent escape at i, when it holds
// at least two escapes and decodes to something else.
func percentRun(data []byte, i int) (encoded, bool) {
	// Bounded both ways: a minified file can be one endless token.
	start := i
	for start > 0 && i-start < 512 && !isPercentStop(data[start-1]) {
		start--
	}
	end := i
	for end < len(data) && end-i < 4096 && !isPercentStop(data[end]) {
		end++
	}
	run := string(data[start:end])
	if strings.Count(run, "%") < 2 {
		return encoded{}, false
	}
	dec, err := url.PathUnescape(run)
	if err != nil || dec == run || !isText([]byte(dec)) {
		return encoded{}, false
	}
	return encoded{start: start, end: end, how: "percent", text: []byte(dec)}, true
}

func isPercentStop(c byte) bool {
	return c <= ' ' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c >= 0x7f
}

// isText reports whether b is printable UTF-8 text (line breaks and tabs
// allowed): what a secret or a config file decodes to, unlike the random
// bytes of a hash, a key's binary form or a compressed blob.
func isText(b []byte) bool {
	if len(b) < 8 || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}
