package detectors

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
)

// Secrets hide in encoded text: base64 in Kubernetes secrets and CI
// variables, hex in dumps, percent-encoding in URLs and form bodies. Runs
// of such text are decoded, and when the result is text it is scanned
// again, its matches pointing at the encoded run. A run may be wrapped
// over lines (base64 at 76 columns, `xxd -p` at 60), hold an odd byte that
// breaks its alignment, or be longer than one decoding: each is decoded
// all the same, and what the per-blob budget leaves undecoded is counted,
// never silently dropped. Escaped text (JSON string escapes, XML
// entities) is decoded within the same budget, its matches placed on the
// escaped bytes they came from: see escape.go.
const (
	maxDecodeDepth  = 2       // decoded text inside decoded text, no deeper
	maxDecodedBytes = 4 << 20 // decoded bytes scanned per blob
	minBase64Run    = 24
	minHexRun       = 32
	// maxEncodedRun is the most encoded text decoded as one piece; a
	// longer run is decoded in overlapping pieces of this size.
	maxEncodedRun = 256 << 10
	runOverlap    = 4 << 10
	// maxResyncs bounds how often one run's decoding skips a bad byte
	// and starts again.
	maxResyncs = 8
)

// decodeBudget is what is left of the decoded bytes a blob may have
// scanned, and how many runs went undecoded once it was spent.
type decodeBudget struct {
	left, skipped int
}

// encoded is a run of encoded text and what it decodes to.
type encoded struct {
	start, end int
	how        string
	text       []byte
	// unescaped, when set, says that text was decoded from the escapes
	// of that kind in data[start:end]: its matches are placed on the bytes
	// they were decoded from. Unset, they are placed at the run.
	unescaped escapeKind
}

// scanEncoded returns the matches in the encoded runs of data, placed at
// their runs (or, for escaped text, on the bytes they were decoded from),
// and the spans that hold silent matches (see Rule.Silent). A run's match
// of a rule that matched there directly is left out; a direct AWS key id
// that a run's pair completes is replaced by the pair, in direct.
//
// Escaped text is looked at only where some rule's keyword shows in data
// (hits): an escape hides a secret's characters, not the name or prefix
// that makes a rule look, and code is full of escapes that hide nothing.
func (e *Engine) scanEncoded(path string, data []byte, depth int, st *scanState, direct []Match, hits bool) ([]Match, []window) {
	p := placer{data: data, direct: direct, st: st}
	var escaped []escapeRun
	if hits {
		escaped = findEscaped(data, st)
	}
	runs := dropEscapedPieces(data, findEncoded(data, st), escaped)
	if depth == 0 {
		runs = withStructured(runs, structuredRuns(path, data, st))
	}
	for _, enc := range runs {
		if st.budget.left <= 0 {
			st.budget.skipped++
			continue
		}
		st.budget.left -= len(enc.text)
		ms, q := e.scan(path, enc.text, depth+1, st)
		p.add(enc, ms, q)
	}
	// Escaped text is decoded only while the budget lasts.
	for _, r := range escaped {
		if st.budget.left <= 0 {
			st.budget.skipped++
			continue
		}
		enc := r.decode(data, st)
		st.budget.left -= len(enc.text)
		ms, q := e.scan(path, enc.text, depth+1, st)
		p.add(enc, ms, q)
	}
	return p.out, p.quiet
}

// placer places the matches of encoded runs on the data, and drops those
// the direct matches already report.
type placer struct {
	data   []byte
	direct []Match
	st     *scanState
	out    []Match
	quiet  []window
	// Made on first use: the direct matches' spans by rule, the direct
	// AWS matches by key id, and the matches placed, by place (see
	// placedKey): their index in out, or -1 for a pair put in direct.
	byRule map[string]spanSet
	ids    map[string][]int
	placed map[placedKey]int
	// cands holds the secret candidates of the run being placed, made on
	// first use.
	cands map[string]bool
}

// placedKey identifies a match placed: AWS findings by their key id,
// whichever of the two rules, others by rule and secret.
type placedKey struct {
	rule, secret string
	start, end   int
}

// add places the matches ms and silent spans q found in the text of enc.
func (p *placer) add(enc encoded, ms []Match, q []window) {
	if len(ms) == 0 && len(q) == 0 {
		return
	}
	p.cands = nil
	exact := enc.unescaped != notEscaped
	if exact {
		enc.unescaped.placeSpans(p.data, enc.start, enc.end, ms, q, p.st)
		p.quiet = append(p.quiet, q...)
	} else if len(q) > 0 {
		p.quiet = append(p.quiet, window{enc.start, enc.end})
	}
	if len(ms) > 0 && p.byRule == nil {
		p.byRule = spansByRule(p.direct)
		p.st.steps += len(p.direct)
	}
	for _, m := range ms {
		how := enc.how
		if m.Decoded != "" {
			how += "+" + m.Decoded
		}
		m.Decoded = how
		if !exact {
			m.Start, m.End = enc.start, enc.end
		}
		p.place(m, enc)
	}
}

// place adds m, found in the text of enc, unless a direct match reports
// it: one of its rule where it is, or for an AWS key id, the id paired or
// not. A pair may take the place of a direct match of its key id (see
// settle).
func (p *placer) place(m Match, enc encoded) {
	exact := enc.unescaped != notEscaped
	switch m.RuleID {
	case AWSKeyIDRule:
		if p.byRule[AWSKeyIDRule].overlaps(m.Start, m.End) || p.byRule[AWSKeyRule].overlaps(m.Start, m.End) {
			return
		}
	case AWSKeyRule:
		if p.settle(m, enc) || p.byRule[AWSKeyRule].overlaps(m.Start, m.End) {
			return
		}
	default:
		if p.byRule[m.RuleID].overlaps(m.Start, m.End) {
			return
		}
	}
	// Runs overlap: escaped runs by their margins, both kinds of escapes
	// may be decoded in one place, and a run of base64 is decoded alone
	// and as part of the escaped text around it. A match placed exactly
	// where one of its rule and secret (or AWS key id) was placed already
	// is not reported again, but a pair takes the place of its key id
	// alone. Matches placed at their run are left as they were.
	key := placedKey{m.RuleID, m.Secret, m.Start, m.End}
	if m.KeyID != "" {
		key.rule, key.secret = AWSKeyRule, m.KeyID
	}
	if p.placed == nil {
		p.placed = map[placedKey]int{}
	}
	i, seen := p.placed[key]
	if seen && exact {
		if i >= 0 && m.RuleID == AWSKeyRule && p.out[i].RuleID == AWSKeyIDRule {
			p.out[i] = m
		}
		return
	}
	if !seen {
		p.placed[key] = len(p.out)
	}
	p.out = append(p.out, m)
}

// settle reports whether pair m, found in the text of enc, is settled by
// a direct AWS match of its key id where it is: the pair takes the place
// of a key id found alone, and of a pair made with another secret when
// that secret is in the escaped text too, where the pairing weighed it
// along with the secrets that escapes hid from the direct one. Otherwise
// the direct match stands, and m is not reported.
func (p *placer) settle(m Match, enc encoded) bool {
	if p.ids == nil {
		p.ids = map[string][]int{}
		for i, d := range p.direct {
			if d.RuleID == AWSKeyIDRule || d.RuleID == AWSKeyRule {
				p.ids[d.KeyID] = append(p.ids[d.KeyID], i)
			}
		}
		for _, is := range p.ids {
			sort.Slice(is, func(a, b int) bool { return p.direct[is[a]].Start < p.direct[is[b]].Start })
		}
		p.st.steps += len(p.direct)
	}
	// The places of one key id do not overlap: in order of their starts,
	// they are in order of their ends, and the first that ends after m
	// starts is the first m may overlap.
	is := p.ids[m.KeyID]
	k := sort.Search(len(is), func(k int) bool { return p.direct[is[k]].End > m.Start })
	if k == len(is) || p.direct[is[k]].Start >= m.End {
		return false
	}
	d := &p.direct[is[k]]
	lone := d.RuleID == AWSKeyIDRule
	if !lone && (d.Decoded != "" || d.Secret == m.Secret || enc.unescaped == notEscaped || !p.weighed(enc, d.Secret)) {
		return true
	}
	m.Start, m.End = d.Start, d.End
	*d = m
	if p.placed == nil {
		p.placed = map[placedKey]int{}
	}
	p.placed[placedKey{AWSKeyRule, m.KeyID, m.Start, m.End}] = -1
	return true
}

// weighed reports whether secret is one of the secret candidates in the
// text of enc, the run whose matches are being placed.
func (p *placer) weighed(enc encoded, secret string) bool {
	if p.cands == nil {
		p.cands = map[string]bool{}
		for _, c := range awsSecretCandidates(enc.text, 0, p.st) {
			p.cands[c.value] = true
		}
	}
	return p.cands[secret]
}

// spansByRule returns the spans of ms by rule.
func spansByRule(ms []Match) map[string]spanSet {
	ws := map[string][]window{}
	for _, m := range ms {
		ws[m.RuleID] = append(ws[m.RuleID], window{m.Start, m.End})
	}
	out := make(map[string]spanSet, len(ws))
	for id, w := range ws {
		out[id] = newSpanSet(w)
	}
	return out
}

func isBase64Run(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

func allHex[T string | []byte](s T) bool {
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
func findEncoded(data []byte, st *scanState) []encoded {
	st.steps += len(data)
	var out []encoded
	for off := 0; off < len(data); {
		k := bytes.IndexByte(data[off:], '%')
		if k < 0 {
			break
		}
		i := off + k
		enc, ok, whole, bad := percentRun(data, i)
		st.steps += enc.end - enc.start
		switch {
		case ok:
			out = append(out, enc)
			off = enc.end
		case whole:
			off = enc.end // the run around any other '%' of the token
		case bad >= 0:
			// A run around a '%' up to 512 bytes on holds bad as well.
			off = max(i+1, bad+513)
		default:
			off = i + 1
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
		if j-start < minBase64Run || !mayDecode(data[start:j]) {
			continue // most runs are identifiers: no copy, no decode
		}
		lines, end := wrappedRun(data, start, j)
		i = end
		run := joinLines(data, lines, end)
		st.steps += len(run)
		found := false
		for _, piece := range pieces(len(run)) {
			if text, how, ok := decodeRun(run[piece[0]:piece[1]]); ok {
				out = append(out, encoded{start: start, end: end, how: how, text: text})
				found = true
			}
		}
		if found || len(lines) == 1 {
			continue
		}
		// Not one value wrapped over lines: values on lines of their own.
		for k, l := range lines {
			e := l[1]
			if k == len(lines)-1 {
				e = end
			}
			if text, how, ok := decodeRun(string(data[l[0]:e])); ok && e-l[0] <= maxEncodedRun {
				out = append(out, encoded{start: l[0], end: e, how: how, text: text})
			}
		}
	}
	if percent > 0 && percent < len(out) {
		sort.SliceStable(out, func(a, b int) bool { return out[a].start < out[b].start })
	}
	return out
}

// wrappedRun finds the run of base64 or hex characters at start, and the
// runs that continue it on the following lines (one line break, then the
// same run of characters, as base64 and xxd wrap their output). It returns
// each line's run and where the whole ends in data, after up to two '='
// of padding.
func wrappedRun(data []byte, start, k int) ([][2]int, int) {
	n := len(data)
	lines := [][2]int{{start, k}}
	for {
		// Another line continues the run only after a full-width line.
		if k-start < minBase64Run {
			break
		}
		next := k
		if next < n && data[next] == '\r' {
			next++
		}
		if next >= n || data[next] != '\n' {
			break
		}
		next++
		for next < n && (data[next] == ' ' || data[next] == '\t') {
			next++
		}
		m := next
		for m < n && runClass[data[m]] {
			m++
		}
		if m == next || m < n && data[m] != '\n' && data[m] != '\r' && data[m] != '=' && m-next < minBase64Run {
			break // not a continuation: a word, or code
		}
		start, k = next, m
		lines = append(lines, [2]int{start, k})
	}
	end := lines[len(lines)-1][1]
	for j := end; end < n && end-j < 2 && data[end] == '='; {
		end++
	}
	return lines, end
}

// joinLines returns the characters of a wrapped run, without the line
// breaks and indentation between its lines, padding included.
func joinLines(data []byte, lines [][2]int, end int) string {
	if len(lines) == 1 {
		return string(data[lines[0][0]:end])
	}
	var b strings.Builder
	for _, l := range lines {
		b.Write(data[l[0]:l[1]])
	}
	b.Write(data[lines[len(lines)-1][1]:end])
	return b.String()
}

// pieces splits a run of n characters into overlapping pieces of at most
// maxEncodedRun, each starting at a multiple of 4 (so base64 and hex
// decode in step).
func pieces(n int) [][2]int {
	if n <= maxEncodedRun {
		return [][2]int{{0, n}}
	}
	var out [][2]int
	for s := 0; s < n; s += maxEncodedRun - runOverlap {
		e := min(s+maxEncodedRun, n)
		out = append(out, [2]int{s, e})
		if e == n {
			break
		}
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
	if len(run) >= minHexRun && allHex(run) {
		if b, ok := decodeHex(run); ok {
			return b, "hex", true
		}
		return nil, "", false
	}
	if !mayBeBase64Text(run) {
		return nil, "", false
	}
	lower, upper, digit, _ := charClasses(run)
	if !(lower && upper) || !digit && len(run) < 40 {
		return nil, "", false // words, identifiers, paths
	}
	if b, ok := decodeBase64(strings.TrimRight(run, "=")); ok {
		return b, "base64", true
	}
	return nil, "", false
}

// mayDecode is a cheap necessary condition for a run's first line to
// start hex or base64 that decodes to text.
func mayDecode(line []byte) bool {
	return len(line) >= minHexRun && allHex(line) || mayBeBase64Text(line)
}

// mayBeBase64Text is a cheap necessary condition for run to be the
// base64 of text: in one of the four alignments, the first characters
// that encode a byte's top six bits are below 32 (A-Z, a-f), as they are
// for ASCII. Most identifiers and paths fail it without a decode.
func mayBeBase64Text[T string | []byte](run T) bool {
	for off := 0; off < 4; off++ {
		ok := true
		for i := off; i < off+16 && i < len(run); i += 4 {
			if c := run[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'f') {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// decodeHex decodes hex that holds ASCII text; an odd digit at the end is
// left out.
func decodeHex(run string) ([]byte, bool) {
	run = run[:len(run)&^1]
	for i := 0; i < len(run); i += 2 {
		if run[i] > '7' {
			return nil, false // not ASCII text: a hash or binary
		}
	}
	b, err := hex.DecodeString(run)
	if err != nil || !isText(b) {
		return nil, false
	}
	return b, true
}

// decodeBase64 decodes base64 (standard or URL alphabet) that holds text.
// An odd byte does not hide the rest: decoding stops at the first byte
// that is not text and starts again just after the character that held
// it, in whichever alignment decodes to text, and the text pieces are
// joined by line breaks.
func decodeBase64(run string) ([]byte, bool) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(run, "-_") {
		enc = base64.RawURLEncoding
	}
	var out []byte
	pos := 0
	for tries := 0; pos+minBase64Run <= len(run) && tries <= maxResyncs; tries++ {
		off, ok := alignedText(enc, run[pos:])
		if !ok {
			break
		}
		pos += off
		b := decodeLoose(enc, run[pos:])
		good := textPrefix(b)
		if good >= 8 {
			if len(out) > 0 {
				out = append(out, '\n')
			}
			out = append(out, b[:good]...)
		}
		if good == len(b) {
			break
		}
		// Start again after the character that held the first bad byte.
		pos += good/3*4 + 1
	}
	if len(out) < 8 || !isText(out) {
		return nil, false
	}
	return out, true
}

// decodeLoose decodes as much of s as decodes: a last character that
// cannot stand alone is dropped, and decoding stops at a bad one.
func decodeLoose(enc *base64.Encoding, s string) []byte {
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	b := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(b, []byte(s))
	var ce base64.CorruptInputError
	if err != nil && errors.As(err, &ce) {
		n = min(int(ce)/4*3, len(b))
	}
	return b[:n]
}

// alignedText returns the offset (0 to 3) from which s decodes to text,
// judged by its first few dozen characters.
func alignedText(enc *base64.Encoding, s string) (int, bool) {
	const probe = 48
	best, bestLen := 0, 0
	for off := 0; off < 4 && off < len(s); off++ {
		head := s[off:min(len(s), off+probe)]
		head = head[:len(head)&^3]
		if n := textPrefix(decodeLoose(enc, head)); n > bestLen {
			best, bestLen = off, n
		}
	}
	return best, bestLen >= 6 && len(s)-best >= minBase64Run
}

// textPrefix returns how many leading bytes of b are text, ending at a
// whole character.
func textPrefix(b []byte) int {
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			break
		}
		i += size
	}
	return i
}

// percentRun decodes the token around a percent escape at i, when it holds
// at least two escapes and decodes to text. Bounded both ways (a minified
// file can be one endless token), the run is all of the token, or whole
// says it is not. When the run does not decode, bad is the last position
// in it that made it fail (a malformed escape, or one that decodes to
// what text does not hold), or -1.
func percentRun(data []byte, i int) (enc encoded, ok, whole bool, bad int) {
	start := i
	for start > 0 && i-start < 512 && !isPercentStop(data[start-1]) {
		start--
	}
	end := i
	for end < len(data) && end-i < 4096 && !isPercentStop(data[end]) {
		end++
	}
	cutStart := start > 0 && !isPercentStop(data[start-1])
	cutEnd := end < len(data) && !isPercentStop(data[end])
	// A run cut out of a longer token starts and ends where characters
	// do, not inside an escape or a character's escapes.
	if cutStart {
		start = escapesStart(data, start, i)
	}
	if cutEnd {
		end = escapesEnd(data, i, end)
	}
	enc = encoded{start: start, end: end, how: "percent"}
	whole = !cutStart && !cutEnd
	run := data[start:end]
	if bytes.Count(run, []byte{'%'}) < 2 {
		return enc, false, whole, -1
	}
	dec, at := percentDecode(run)
	if at >= 0 {
		return enc, false, whole, start + at
	}
	if !isText(dec) {
		return enc, false, whole, -1
	}
	enc.text = dec
	return enc, true, whole, -1
}

// escapeAt returns the byte the escape at data[i:] stands for, if one is.
func escapeAt(data []byte, i int) (byte, bool) {
	if i+2 >= len(data) || data[i] != '%' || !isHexByte(data[i+1]) || !isHexByte(data[i+2]) {
		return 0, false
	}
	return unhex(data[i+1])<<4 | unhex(data[i+2]), true
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// escapesStart moves start, the cut start of a run, past the rest of an
// escape and past escapes of UTF-8 continuation bytes, short of limit.
func escapesStart(data []byte, start, limit int) int {
	switch {
	case start >= 1 && data[start-1] == '%':
		start += 2
	case start >= 2 && data[start-2] == '%':
		start++
	}
	for start+3 <= limit {
		b, ok := escapeAt(data, start)
		if !ok || b&0xc0 != 0x80 {
			break
		}
		start += 3
	}
	return min(start, limit)
}

// escapesEnd moves end, the cut end of a run, back before a partial
// escape and before the escapes of a character cut short, not below
// limit.
func escapesEnd(data []byte, limit, end int) int {
	switch {
	case end-1 > limit && data[end-1] == '%':
		end--
	case end-2 > limit && data[end-2] == '%':
		end -= 2
	}
	// Up to three continuation bytes, after the byte that leads them.
	cont := 0
	for e := end; e-3 > limit; e -= 3 {
		b, ok := escapeAt(data[:e], e-3)
		if !ok {
			break
		}
		switch {
		case b&0xc0 == 0x80 && cont < 3:
			cont++
			continue
		case b >= 0xc0:
			need := 1
			if b >= 0xe0 {
				need = 2
			}
			if b >= 0xf0 {
				need = 3
			}
			if cont < need {
				return e - 3
			}
		}
		break
	}
	return end
}

// percentDecode decodes the %XX escapes of run. bad is the position in run
// of the last escape that is malformed or decodes to what text does not
// hold (a control character, broken UTF-8, U+FFFD), or -1: url.PathUnescape
// and isText refuse run exactly when there is one.
func percentDecode(run []byte) (dec []byte, bad int) {
	dec = make([]byte, 0, len(run))
	src := make([]int32, 0, len(run)) // where in run each byte of dec is from
	bad = -1
	for j := 0; j < len(run); {
		if run[j] != '%' {
			dec = append(dec, run[j])
			src = append(src, int32(j))
			j++
			continue
		}
		b, ok := escapeAt(run, j)
		if !ok {
			bad = j
			j++
			continue
		}
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' || b == 0x7f {
			bad = j
		}
		dec = append(dec, b)
		src = append(src, int32(j))
		j += 3
	}
	for k := 0; k < len(dec); {
		r, size := utf8.DecodeRune(dec[k:])
		if r == utf8.RuneError {
			bad = max(bad, int(src[k]))
		}
		k += size
	}
	return dec, bad
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
