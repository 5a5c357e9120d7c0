package detectors

import (
	"bytes"
	"container/heap"
	"sort"
	"strings"
)

// Rule ids of the AWS findings.
const (
	AWSKeyIDRule = "aws-access-key-id"
	AWSKeyRule   = "aws-access-key"
)

// awsPairDescription describes an AWS pair.
const awsPairDescription = "AWS access key id with its secret access key"

// maxPairChoices bounds the secret candidates each line of key ids weighs
// beyond one per id on it: the best ones by the pairing's ranking. An id
// whose choices were all taken by better-placed ids gets its best one all
// the same, and is counted in Coverage.Truncated when more candidates
// were left unweighed.
const maxPairChoices = 16

func isBase64Byte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// validAWSKeyID drops placeholder ids (AWS's documented …EXAMPLE, runs like
// AKIAXXXXXXXXXXXXXXXX, AKIAFAKEKEY…; see isPlaceholder) and ids embedded
// in a long base64 run, where four letters spelling AKIA are chance. The
// rule's regex already holds the 16 characters after the prefix to the
// base32 alphabet (A-Z, 2-7): AKIA0000000000000000 is no match.
func validAWSKeyID(c Candidate) bool {
	if len(c.Secret) < 4 || isPlaceholder(c.Secret[4:]) {
		return false
	}
	// Only whether the run reaches 64 bytes matters: reading further
	// would read a run of ids joined by '+' once for each of them.
	s, e := c.Start, c.End
	for s > 0 && e-s < 64 && isBase64Byte(c.Data[s-1]) {
		s--
	}
	for e < len(c.Data) && e-s < 64 && (isBase64Byte(c.Data[e]) || c.Data[e] == '=') {
		e++
	}
	return e-s < 64
}

// secretCandidate is a 40-character string that may be a secret access key.
type secretCandidate struct {
	value      string
	start, end int
	line       int
	context    bool // "secret" appears on its line
}

// awsSecretCandidates returns the 40-character base64 runs in data that
// could be secret access keys: not hex (git ids, SHA-1 sums), not a
// placeholder, with the mix of characters a random key has, and at least
// minEntropy bits a character. Each line is searched for "secret" once,
// however many candidates it holds.
func awsSecretCandidates(data []byte, minEntropy float64, st *scanState) []secretCandidate {
	st.steps += len(data)
	var out []secretCandidate
	line, lineStart := 1, 0
	ctxLine, ctx := 0, false // the line whose context is known, and it
	for i := 0; i < len(data); {
		c := data[i]
		if c == '\n' {
			line++
			lineStart = i + 1
		}
		if !isBase64Byte(c) {
			i++
			continue
		}
		j := i
		for j < len(data) && isBase64Byte(data[j]) {
			j++
		}
		// A trailing '=' is base64 padding: then the run is encoded data, not a key.
		if j-i == 40 && (j == len(data) || data[j] != '=') {
			v := string(data[i:j])
			if plausibleAWSSecret(v) && (minEntropy == 0 || shannon(v) >= minEntropy) {
				if ctxLine != line {
					le := bytes.IndexByte(data[j:], '\n')
					if le < 0 {
						le = len(data)
					} else {
						le += j
					}
					st.steps += le - lineStart
					ctxLine, ctx = line, indexFold(data[lineStart:le], "secret") >= 0
				}
				out = append(out, secretCandidate{value: v, start: i, end: j, line: line, context: ctx})
			}
		}
		i = j
	}
	return out
}

// plausibleAWSSecret reports whether v, 40 base64 characters, may be a
// secret access key: not hex, with lower case, upper case and digits, at
// least 4 bits a character, and not a placeholder (AWS's documented
// …EXAMPLEKEY among them).
func plausibleAWSSecret(v string) bool {
	if isHex(v) {
		return false
	}
	lower, upper, digit, _ := charClasses(v)
	return lower && upper && digit && shannon(v) >= 4.0 && !isPlaceholder(v)
}

// indexFold returns the index of the first occurrence of word (lower-case
// ASCII) in b, ASCII case ignored, or -1.
func indexFold(b []byte, word string) int {
	if word == "" {
		return 0
	}
	for i := 0; i+len(word) <= len(b); i++ {
		if foldTable[b[i]] != word[0] {
			continue
		}
		j := 1
		for j < len(word) && foldTable[b[i+j]] == word[j] {
			j++
		}
		if j == len(word) {
			return i
		}
	}
	return -1
}

// sessionTokenPrefixes start the base64 of STS session tokens.
var sessionTokenPrefixes = []string{"IQoJb3JpZ2lu", "FwoGZXIvYXdz", "FQoGZXIvYXdz"}

// sessionNames, before a long base64 value on its line, say it is a
// session token.
var sessionNames = []string{"session", "security_token", "securitytoken"}

// awsSessionTokens returns long base64 values that are session tokens: they
// start like one, or are assigned to a session/security token name. Lines
// are counted, and searched for the names, once through the data.
func awsSessionTokens(data []byte, st *scanState) []secretCandidate {
	st.steps += len(data)
	const overlap = len("security_token") - 1
	var out []secretCandidate
	line, lineStart, counted := 1, 0, 0
	named, searched := false, 0 // a name occurs in data[lineStart:searched]
	for i := 0; i < len(data); {
		if !isBase64Byte(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && isBase64Byte(data[j]) {
			j++
		}
		for j < len(data) && data[j] == '=' {
			j++ // padding
		}
		if j-i >= 100 {
			seg := data[counted:i]
			if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
				line += n
				lineStart = counted + bytes.LastIndexByte(seg, '\n') + 1
			}
			counted = i
			v := string(data[i:j])
			ok := false
			for _, p := range sessionTokenPrefixes {
				ok = ok || strings.HasPrefix(v, p)
			}
			if !ok {
				if searched < lineStart {
					named, searched = false, lineStart
				}
				if !named {
					from := max(lineStart, searched-overlap)
					st.steps += i - from
					for _, name := range sessionNames {
						named = named || indexFold(data[from:i], name) >= 0
					}
				}
				searched = i
				ok = named
			}
			if ok {
				out = append(out, secretCandidate{value: v, start: i, end: j, line: line})
			}
		}
		i = j
	}
	return out
}

// linesAt returns the 1-based line of each position in data, counting
// through the data once.
func linesAt(data []byte, pos []int, st *scanState) []int {
	order := make([]int, len(pos))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pos[order[a]] < pos[order[b]] })
	lines := make([]int, len(pos))
	line, at := 1, 0
	for _, i := range order {
		st.steps += pos[i] - at
		line += bytes.Count(data[at:pos[i]], []byte{'\n'})
		at = pos[i]
		lines[i] = line
	}
	return lines
}

// pairAWS turns each key id that has a secret access key in the same data
// into one aws-access-key finding, in place. Pairs are ranked by context
// (the candidate's line says "secret", same line) and nearness in lines,
// and taken best first, each candidate once (see pairSecrets). A key id
// left without a secret stays an aws-access-key-id finding. Only secrets
// of at least minEntropy bits a character pair.
//
// It returns the spans of the paired secrets and session tokens.
func pairAWS(data []byte, matches []Match, minEntropy float64, st *scanState) []window {
	var ids, starts []int
	for i, m := range matches {
		if m.RuleID == AWSKeyIDRule {
			ids = append(ids, i)
			starts = append(starts, m.Start)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cands := awsSecretCandidates(data, minEntropy, st)
	idLines := linesAt(data, starts, st)
	secretOf := pairSecrets(idLines, cands, st)
	var tokens []secretCandidate
	tokensFound := false
	var claimed []window
	for k, i := range ids {
		m := &matches[i]
		m.KeyID = m.Secret
		if strings.HasPrefix(m.KeyID, "ASIA") {
			if !tokensFound {
				tokens, tokensFound = awsSessionTokens(data, st), true
			}
			if t := nearestToken(tokens, idLines[k]); t >= 0 {
				m.SessionToken = tokens[t].value
				claimed = append(claimed, window{tokens[t].start, tokens[t].end})
			}
		}
		if secretOf[k] < 0 {
			continue
		}
		m.RuleID = AWSKeyRule
		m.Description = awsPairDescription
		c := cands[secretOf[k]]
		m.Secret = c.value
		claimed = append(claimed, window{c.start, c.end})
	}
	return claimed
}

// nearestToken returns the index of the token nearest to line in lines,
// the first of those as near, or -1 when there are none. tokens are in
// order of position.
func nearestToken(tokens []secretCandidate, line int) int {
	below := sort.Search(len(tokens), func(i int) bool { return tokens[i].line >= line })
	if below == 0 {
		if below == len(tokens) {
			return -1
		}
		return below
	}
	aboveLine := tokens[below-1].line
	above := sort.Search(below, func(i int) bool { return tokens[i].line >= aboveLine })
	if below == len(tokens) || line-aboveLine <= tokens[below].line-line {
		return above
	}
	return below
}

// A pair of a key id and a candidate scores 50 for sharing a line, 30
// when the candidate's line says "secret", less one a line apart.
const (
	sameLineScore = 50
	contextScore  = 30
)

// choice is a candidate as one line of key ids ranks it.
type choice struct{ cand, score int }

// pairSecrets returns, for each key id (by its line), the index of its
// secret among cands, or -1 when there are no candidates.
//
// The ranking is that of scoring every (key id, candidate) pair and
// taking the pairs best first (ties to the lower key id, then the lower
// candidate), each candidate once; a key id whose candidates are all
// taken gets its best one all the same. It is computed without scoring
// every pair: key ids on one line rank candidates alike, so each line of
// ids ranks its best candidates once (one per id, plus maxPairChoices),
// and a heap of lines of ids hands them out in the same order. cands are
// in order of position.
func pairSecrets(idLines []int, cands []secretCandidate, st *scanState) []int {
	secretOf := make([]int, len(idLines))
	for k := range secretOf {
		secretOf[k] = -1
	}
	if len(cands) == 0 {
		return secretOf
	}
	ranker := newCandRanker(cands)
	order := make([]int, len(idLines))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return idLines[order[a]] < idLines[order[b]] })
	var groups idHeap
	for a := 0; a < len(order); {
		b := a
		for b < len(order) && idLines[order[b]] == idLines[order[a]] {
			b++
		}
		g := &idGroup{ids: order[a:b]} // ascending: the sort is stable
		g.prefs, g.truncated = ranker.rank(idLines[order[a]], len(g.ids)+maxPairChoices)
		st.steps += len(g.prefs)
		groups = append(groups, g)
		a = b
	}
	h := append(idHeap(nil), groups...)
	heap.Init(&h)
	used := make([]bool, len(cands))
	for len(h) > 0 {
		g := h[0]
		moved := false
		for g.head < len(g.prefs) && used[g.prefs[g.head].cand] {
			g.head++
			moved = true
			st.steps++
		}
		switch {
		case g.head == len(g.prefs):
			heap.Pop(&h) // what is left of its ids gets its best below
		case moved:
			heap.Fix(&h, 0)
		default:
			c := g.prefs[g.head].cand
			secretOf[g.ids[g.next]], used[c] = c, true
			g.next++
			g.head++
			if g.next == len(g.ids) {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		}
	}
	// An id whose choices were all taken by better-placed ids still gets
	// its best one: the same secret with two ids is rarer than a miss.
	for _, g := range groups {
		for _, k := range g.ids[g.next:] {
			secretOf[k] = g.prefs[0].cand
			if g.truncated {
				st.truncated++
			}
		}
	}
	return secretOf
}

// idGroup is the key ids on one line, with the candidates they rank best,
// best first.
type idGroup struct {
	ids       []int // ascending
	next      int   // the first id without a secret
	prefs     []choice
	head      int // the first choice not known to be taken
	truncated bool
}

// idHeap orders lines of key ids by the pair each would take next: best
// score, then lowest key id, then lowest candidate.
type idHeap []*idGroup

func (h idHeap) Len() int { return len(h) }
func (h idHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.head == len(a.prefs) || b.head == len(b.prefs) {
		return a.head == len(a.prefs) && b.head != len(b.prefs)
	}
	ca, cb := a.prefs[a.head], b.prefs[b.head]
	if ca.score != cb.score {
		return ca.score > cb.score
	}
	if a.ids[a.next] != b.ids[b.next] {
		return a.ids[a.next] < b.ids[b.next]
	}
	return ca.cand < cb.cand
}
func (h idHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)   { *h = append(*h, x.(*idGroup)) }
func (h *idHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	*h = old[:len(old)-1]
	return g
}

// candRanker ranks candidates for a line of key ids. Candidates on one
// line score alike, so it works with lines of candidates, those that say
// "secret" apart from the others.
type candRanker struct {
	cands []secretCandidate
	lines []candLine // in order
	// byClass holds the indexes in lines of the lines without and with
	// context.
	byClass [2][]int
}

// candLine is the candidates cands[first:end] on one line.
type candLine struct {
	line, first, end int
	context          bool
}

func newCandRanker(cands []secretCandidate) *candRanker {
	r := &candRanker{cands: cands}
	for i, c := range cands {
		if n := len(r.lines); n > 0 && r.lines[n-1].line == c.line {
			r.lines[n-1].end = i + 1
			continue
		}
		class := 0
		if c.context {
			class = 1
		}
		r.byClass[class] = append(r.byClass[class], len(r.lines))
		r.lines = append(r.lines, candLine{line: c.line, first: i, end: i + 1, context: c.context})
	}
	return r
}

func (r *candRanker) score(cl candLine, idLine int) int {
	d := cl.line - idLine
	if d < 0 {
		d = -d
	}
	score := -d
	if d == 0 {
		score += sameLineScore
	}
	if cl.context {
		score += contextScore
	}
	return score
}

// rank returns up to n candidates for key ids on line idLine, best first
// (ties to the lower candidate), and whether there were more. The best
// are on the id's own line, then on lines going up and down from it,
// with and without context: four sorted streams of lines, merged.
func (r *candRanker) rank(idLine, n int) ([]choice, bool) {
	var out []choice
	take := func(cl candLine) bool {
		s := r.score(cl, idLine)
		for c := cl.first; c < cl.end; c++ {
			if len(out) == n {
				return false
			}
			out = append(out, choice{c, s})
		}
		return true
	}
	type stream struct {
		lines []int // indexes in r.lines
		i     int
		step  int
	}
	var streams [4]stream
	for class, ls := range r.byClass {
		at := sort.Search(len(ls), func(i int) bool { return r.lines[ls[i]].line >= idLine })
		down := at
		if at < len(ls) && r.lines[ls[at]].line == idLine {
			if !take(r.lines[ls[at]]) {
				return out, true
			}
			down++
		}
		streams[2*class] = stream{ls, at - 1, -1}
		streams[2*class+1] = stream{ls, down, 1}
	}
	for {
		best := -1
		var bestLine candLine
		for si := range streams {
			s := &streams[si]
			if s.i < 0 || s.i >= len(s.lines) {
				continue
			}
			cl := r.lines[s.lines[s.i]]
			if best < 0 {
				best, bestLine = si, cl
				continue
			}
			if a, b := r.score(cl, idLine), r.score(bestLine, idLine); a > b || a == b && cl.line < bestLine.line {
				best, bestLine = si, cl
			}
		}
		if best < 0 {
			return out, false
		}
		if !take(bestLine) {
			return out, true
		}
		streams[best].i += streams[best].step
		if len(out) == n {
			// Full: say whether any candidate was left out.
			for _, s := range streams {
				if s.i >= 0 && s.i < len(s.lines) {
					return out, true
				}
			}
			return out, false
		}
	}
}
