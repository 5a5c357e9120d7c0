package detectors

import (
	"bytes"
	"sort"
	"unicode/utf16"
	"unicode/utf8"
)

// Secrets hide behind the escapes of the text they sit in as well: JSON
// string escapes in notebooks, API dumps and JSON inside other files or
// strings (`wJalr\/K7…`, `{\"password\": \"…\"}`, `…\nAKIA…`), and XML
// and HTML entities in Maven settings, .NET config and HTML dumps
// (`&#x2F;`, `&quot;`). Such text is decoded, scanned again, and what it
// holds is placed on the very bytes it was decoded from.
//
// Code and prose are full of escapes that hide nothing ("done\n",
// `&amp;`), so an escape counts only when decoding it may change what a
// rule sees:
//   - it decodes to a byte tokens are made of (`\/`, `\u0041`, `&#47;`),
//     in a run of such bytes, once decoded, of at least minEscapedToken,
//     or it is a slash after a colon (`https:\/\/`, where URLs with
//     credentials and webhooks start);
//   - it ends in a letter or digit (`\n`, `\u00e9`) glued to a run of at
//     least minGluedToken token bytes, whose start no rule then sees;
//   - it decodes to a quote beside `:` or `=`: an assignment's name or
//     value, which the generic rule reads only between real quotes.
//
// The lines around each escape that counts, a few either way, make a run.
// Finding runs costs a memchr per kind over text without escapes, and a
// few bytes read per escape over text with them; runs are decoded only
// while the blob's decode budget lasts, and each is counted in
// Coverage.Undecoded once it is spent.
const (
	minEscapedToken = 16
	minGluedToken   = 16
	// escapeMarginLines and escapeMarginBytes bound how far a run reaches
	// either way from an escape that counts: enough for a key id on a
	// line near its escaped secret.
	escapeMarginLines = 12
	escapeMarginBytes = 1 << 10
	// maxEscapeUnit is the longest escape: a surrogate pair
	// (\uD83D\uDE00), or an entity such as &#x0010FFFF;.
	maxEscapeUnit = 12
)

// escapeKind is a kind of escapes: the zero value is none.
type escapeKind uint8

const (
	notEscaped escapeKind = iota
	jsonEscapes
	xmlEntities
)

// lead is the byte every escape of k starts with.
func (k escapeKind) lead() byte {
	if k == jsonEscapes {
		return '\\'
	}
	return '&'
}

// name is what Match.Decoded says of text decoded from escapes of k.
func (k escapeKind) name() string {
	if k == jsonEscapes {
		return "json-escape"
	}
	return "xml-entity"
}

// unit returns the escape at data[i], which holds k's lead byte: what it
// decodes to, and how many bytes it spans. n is 0 when no escape starts
// there: the lead byte then stands for itself.
func (k escapeKind) unit(data []byte, i int) (dec [utf8.UTFMax]byte, dl, n int) {
	if k == jsonEscapes {
		return jsonEscape(data, i)
	}
	return xmlEntity(data, i)
}

// jsonEscape decodes a JSON string escape: \" \\ \/ \b \f \n \r \t and
// \uXXXX, a surrogate pair as one escape. What JSON does not define (a
// lone surrogate, \x41, \') is no escape: its backslash stands for itself
// and the byte after it is not one, so escapes are read from the start
// of any run of text as they are from the start of the data.
func jsonEscape(data []byte, i int) (dec [utf8.UTFMax]byte, dl, n int) {
	if i+1 >= len(data) {
		return dec, 0, 0
	}
	switch c := data[i+1]; c {
	case '"', '\\', '/':
		dec[0] = c
	case 'b':
		dec[0] = '\b'
	case 'f':
		dec[0] = '\f'
	case 'n':
		dec[0] = '\n'
	case 'r':
		dec[0] = '\r'
	case 't':
		dec[0] = '\t'
	case 'u':
		r, ok := hex4(data, i+2)
		if !ok {
			return dec, 0, 0
		}
		n = 6
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || i+12 > len(data) || data[i+6] != '\\' || data[i+7] != 'u' {
				return dec, 0, 0
			}
			r2, ok := hex4(data, i+8)
			if !ok || r2 < 0xdc00 || r2 > 0xdfff {
				return dec, 0, 0
			}
			r, n = utf16.DecodeRune(r, r2), 12
		}
		return dec, utf8.EncodeRune(dec[:], r), n
	default:
		return dec, 0, 0
	}
	return dec, 1, 2
}

// hex4 reads four hex digits at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		if !isHexByte(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}

// namedEntities are the entities XML defines, which HTML shares.
var namedEntities = [...]struct {
	name string
	b    byte
}{{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}}

// xmlEntity decodes a character reference (&#47; &#x2F;) or one of the
// entities XML defines (&amp; &lt; &gt; &quot; &apos;). HTML's other
// named entities are left as they are: none stands for a byte of a token.
func xmlEntity(data []byte, i int) (dec [utf8.UTFMax]byte, dl, n int) {
	j := i + 1
	if j >= len(data) || data[j] != '#' {
		for _, e := range namedEntities {
			if hasPrefixAt(data, j, e.name) {
				dec[0] = e.b
				return dec, 1, 1 + len(e.name)
			}
		}
		return dec, 0, 0
	}
	j++
	base := 10
	if j < len(data) && (data[j] == 'x' || data[j] == 'X') {
		base = 16
		j++
	}
	digits, r := j, 0
	for j < len(data) && j-i < maxEscapeUnit-1 {
		d, ok := digitValue(data[j], base)
		if !ok {
			break
		}
		r = r*base + d
		j++
	}
	if j == digits || j >= len(data) || data[j] != ';' || r == 0 || r > utf8.MaxRune || utf16.IsSurrogate(rune(r)) {
		return dec, 0, 0
	}
	return dec, utf8.EncodeRune(dec[:], rune(r)), j + 1 - i
}

// digitValue is the value of c as a digit in base 10 or 16.
func digitValue(c byte, base int) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case base == 16 && isHexByte(c):
		return int(unhex(c)), true
	}
	return 0, false
}

// escTokenByte marks the bytes tokens and secrets are made of; escGlued
// adds the ':' of the tokens that hold one (a Telegram bot's).
var escTokenByte, escGlued = func() (tok, glued [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		tok[c] = b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' ||
			b == '+' || b == '/' || b == '=' || b == '_' || b == '.' || b == '~' || b == '-'
		glued[c] = tok[c] || b == ':'
	}
	return tok, glued
}()

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// escapeRun is a stretch of data whose escapes of one kind are worth
// decoding.
type escapeRun struct {
	start, end int
	kind       escapeKind
}

// findEscaped returns the runs of data whose escapes may hide something,
// JSON's first, then XML's, each in order.
func findEscaped(data []byte, st *scanState) []escapeRun {
	var out []escapeRun
	for _, k := range []escapeKind{jsonEscapes, xmlEntities} {
		out = k.runs(data, out, st)
	}
	return out
}

// runs appends to out the runs of data around the escapes of k that
// count (see the top of this file). Escapes are read from the start of
// the data, each once: a byte is read a bounded number of times.
func (k escapeKind) runs(data []byte, out []escapeRun, st *scanState) []escapeRun {
	lead := k.lead()
	b := runBuilder{data: data, kind: k, out: out}
	// prevEnd is where the last escape ends; when it decoded to a token
	// byte, tokEnd is there too and tokLen is the length of the run of
	// token bytes, decoded, that it ended.
	prevEnd, tokEnd, tokLen := 0, -1, 0
	for pos := 0; pos < len(data); {
		j := bytes.IndexByte(data[pos:], lead)
		if j < 0 {
			break
		}
		i := pos + j
		dec, dl, n := k.unit(data, i)
		if n == 0 {
			pos = i + 1
			continue
		}
		end := i + n
		token := dl == 1 && escTokenByte[dec[0]]
		counts, left := false, 0
		switch {
		case token:
			// The token bytes before the escape, those decoded from
			// earlier escapes included, and after it up to the next one.
			s := i
			for s > prevEnd && i-s < minEscapedToken && escTokenByte[data[s-1]] {
				s--
			}
			left = i - s
			if s == prevEnd && prevEnd == tokEnd {
				left += tokLen
			}
			f := end
			for f < len(data) && f-end < minEscapedToken && escTokenByte[data[f]] {
				f++
			}
			st.steps += i - s + f - end
			counts = left+1+f-end >= minEscapedToken || dec[0] == '/' && i > 0 && data[i-1] == ':'
		case dl == 1 && (dec[0] == '"' || dec[0] == '\''):
			counts = assignmentQuote(data, i, end)
		}
		if !counts && isAlnum(data[end-1]) {
			f := end
			for f < len(data) && f-end < minGluedToken && escGlued[data[f]] {
				f++
			}
			st.steps += f - end
			counts = f-end >= minGluedToken
		}
		st.steps += n
		if token {
			tokEnd, tokLen = end, min(left+1, minEscapedToken)
		} else {
			tokEnd = -1
		}
		if counts {
			b.add(i, end, st)
		}
		prevEnd, pos = end, end
	}
	return b.close(st)
}

// assignmentQuote reports whether the quote escaped at data[i:end] opens
// or closes a name or value of an assignment: `:` or `=` is beside it,
// blanks aside.
func assignmentQuote(data []byte, i, end int) bool {
	j := end
	for j < len(data) && j-end < 4 && (data[j] == ' ' || data[j] == '\t') {
		j++
	}
	if j < len(data) && (data[j] == ':' || data[j] == '=') {
		return true
	}
	j = i
	for j > 0 && i-j < 4 && (data[j-1] == ' ' || data[j-1] == '\t') {
		j--
	}
	return j > 0 && (data[j-1] == ':' || data[j-1] == '=')
}

// runBuilder gathers the escapes that count into runs: each with the
// lines around it, escapes a few lines apart in one run of at most about
// maxEncodedRun bytes. Runs may overlap by their margins.
type runBuilder struct {
	data []byte
	kind escapeKind
	out  []escapeRun
	open bool
	// start is where the open run starts, last where its last escape
	// that counts ends.
	start, last int
}

// add adds the escape that counts at data[i:end].
func (b *runBuilder) add(i, end int, st *scanState) {
	if b.open {
		if i-b.last <= escapeMarginBytes && i+escapeMarginBytes-b.start <= maxEncodedRun {
			st.steps += i - b.last
			if bytes.Count(b.data[b.last:i], []byte{'\n'}) < escapeMarginLines {
				b.last = end
				return
			}
		}
		b.close(st)
	}
	b.open, b.start, b.last = true, b.backMargin(i, st), end
}

// close ends the open run, if any, and returns the runs.
func (b *runBuilder) close(st *scanState) []escapeRun {
	if b.open {
		b.out = append(b.out, escapeRun{b.start, b.forwardMargin(b.last, st), b.kind})
		b.open = false
	}
	return b.out
}

// backMargin returns where a run around an escape at i starts: at the
// start of the line escapeMarginLines above, or escapeMarginBytes back
// where no escape is cut.
func (b *runBuilder) backMargin(i int, st *scanState) int {
	lo := max(0, i-escapeMarginBytes)
	s := i
	for range escapeMarginLines + 1 {
		k := bytes.LastIndexByte(b.data[lo:s], '\n')
		if k < 0 {
			st.steps += i - lo
			return b.kind.align(b.data, lo, i, st)
		}
		s = lo + k
	}
	st.steps += i - s
	return s + 1
}

// forwardMargin returns where a run whose last escape that counts ends at
// e ends: at the end of the line escapeMarginLines below, or
// escapeMarginBytes on (decoding finishes an escape cut there).
func (b *runBuilder) forwardMargin(e int, st *scanState) int {
	hi := min(len(b.data), e+escapeMarginBytes)
	s := e
	for range escapeMarginLines + 1 {
		k := bytes.IndexByte(b.data[s:hi], '\n')
		if k < 0 {
			s = hi
			break
		}
		s += k + 1
	}
	st.steps += s - e
	return s
}

// align returns the first position from t on, and at most limit (where
// an escape starts), that is not inside an escape of k: no lead byte is
// in the maxEscapeUnit-1 bytes before it. A line start needs no
// aligning: no escape holds a line break but as its last byte.
func (k escapeKind) align(data []byte, t, limit int, st *scanState) int {
	lead := k.lead()
	for t < limit {
		w := max(0, t-(maxEscapeUnit-1))
		st.steps += t - w
		q := bytes.LastIndexByte(data[w:t], lead)
		if q < 0 {
			return t
		}
		t = w + q + maxEscapeUnit
	}
	return limit
}

// decode decodes r's escapes: the text, placed at r, with where its
// escapes of r.kind came from (see placeSpans). An escape that starts in
// r and ends past it is decoded whole, and the run ends after it.
func (r escapeRun) decode(data []byte, st *scanState) encoded {
	lead := r.kind.lead()
	out := make([]byte, 0, r.end-r.start+utf8.UTFMax)
	pos := r.start
	for pos < r.end {
		j := bytes.IndexByte(data[pos:r.end], lead)
		if j < 0 {
			out = append(out, data[pos:r.end]...)
			pos = r.end
			break
		}
		i := pos + j
		out = append(out, data[pos:i]...)
		dec, dl, n := r.kind.unit(data, i)
		if n == 0 {
			out = append(out, lead)
			pos = i + 1
			continue
		}
		out = append(out, dec[:dl]...)
		pos = i + n
	}
	st.steps += pos - r.start
	return encoded{start: r.start, end: pos, how: r.kind.name(), text: out, unescaped: r.kind}
}

// placeSpans moves the matches and windows found in the text decoded
// from data[start:end] by escapes of k onto the bytes they were decoded
// from: a start to where the byte at it came from starts, an end to where
// the byte before it came from ends. The data is read once, in order,
// however many spans there are.
func (k escapeKind) placeSpans(data []byte, start, end int, ms []Match, ws []window, st *scanState) {
	type query struct {
		key   int // the byte of the text whose source is asked
		at    *int
		isEnd bool
	}
	qs := make([]query, 0, 2*(len(ms)+len(ws)))
	ask := func(s, e *int) {
		qs = append(qs, query{*s, s, false}, query{*e - 1, e, true})
	}
	for i := range ms {
		ask(&ms[i].Start, &ms[i].End)
	}
	for i := range ws {
		ask(&ws[i].start, &ws[i].end)
	}
	sort.Slice(qs, func(a, b int) bool { return qs[a].key < qs[b].key })
	m := sourceWalker{data: data, kind: k, lead: k.lead(), src: start, end: end}
	for _, q := range qs {
		if q.key < 0 {
			*q.at = start
			continue
		}
		s, e := m.source(q.key)
		if q.isEnd {
			*q.at = e
		} else {
			*q.at = s
		}
	}
	st.steps += m.src - start + len(qs)
}

// sourceWalker walks the escapes of k in data[src:end] and the text they
// decode to, in step: a segment (a stretch without escapes, or one
// escape) of n bytes at src decodes to dl bytes at dec.
type sourceWalker struct {
	data     []byte
	kind     escapeKind
	lead     byte
	src, end int
	dec      int
	n, dl    int
	literal  bool
}

// source returns the bytes of data that byte p of the text was decoded
// from. Calls ask for p in increasing order; p past the text gives the
// end.
func (w *sourceWalker) source(p int) (int, int) {
	for {
		if w.n == 0 && !w.load() {
			return w.end, w.end
		}
		if p < w.dec+w.dl {
			break
		}
		w.src, w.dec, w.n = w.src+w.n, w.dec+w.dl, 0
	}
	if w.literal {
		s := w.src + p - w.dec
		return s, s + 1
	}
	return w.src, w.src + w.n
}

// load reads the segment at src.
func (w *sourceWalker) load() bool {
	if w.src >= w.end {
		return false
	}
	if w.data[w.src] == w.lead {
		if _, dl, n := w.kind.unit(w.data, w.src); n > 0 {
			w.n, w.dl, w.literal = n, dl, false
			return true
		}
		w.n, w.dl, w.literal = 1, 1, true
		return true
	}
	j := bytes.IndexByte(w.data[w.src:w.end], w.lead)
	if j < 0 {
		j = w.end - w.src
	}
	w.n, w.dl, w.literal = j, j, true
	return true
}

// dropEscapedPieces drops the runs of findEncoded that an escape of a
// token byte cuts (base64 whose slashes JSON escapes, `…\/…`), when an
// escaped run holds them: decoded alone, each piece holds part of what
// the escaped run's decoding holds whole.
func dropEscapedPieces(data []byte, runs []encoded, escaped []escapeRun) []encoded {
	if len(runs) == 0 || len(escaped) == 0 {
		return runs
	}
	out := runs[:0]
	for _, r := range runs {
		if k := cutByEscape(data, r.start, r.end); k == notEscaped || !covered(escaped, k, r.start, r.end) {
			out = append(out, r)
		}
	}
	return out
}

// cutByEscape returns the kind of an escape of a token byte that starts
// where data[start:end] ends, or that ends inside it or where it starts.
func cutByEscape(data []byte, start, end int) escapeKind {
	tokenAt := func(k escapeKind, i int) int {
		if i < 0 || data[i] != k.lead() {
			return -1
		}
		dec, dl, n := k.unit(data, i)
		if n == 0 || dl != 1 || !escTokenByte[dec[0]] {
			return -1
		}
		return i + n
	}
	for _, k := range []escapeKind{jsonEscapes, xmlEntities} {
		if end < len(data) && tokenAt(k, end) >= 0 {
			return k
		}
		for i := start - 1; i >= 0 && i >= start-(maxEscapeUnit-1); i-- {
			if e := tokenAt(k, i); e >= start && e <= end {
				return k
			}
		}
	}
	return notEscaped
}

// covered reports whether an escaped run of kind k holds data[start:end].
// The runs of a kind are in order of their starts.
func covered(escaped []escapeRun, k escapeKind, start, end int) bool {
	lo := sort.Search(len(escaped), func(i int) bool { return escaped[i].kind >= k })
	hi := lo + sort.Search(len(escaped)-lo, func(i int) bool { return escaped[lo+i].kind > k })
	// The runs of k starting at or before start; runs overlap by no more
	// than their margins, so the last two are enough to look at.
	i := lo + sort.Search(hi-lo, func(i int) bool { return escaped[lo+i].start > start })
	for j := i - 1; j >= lo && j >= i-2; j-- {
		if escaped[j].end >= end {
			return true
		}
	}
	return false
}
