// Package detectors finds secrets in bytes. It is pure: no files, git,
// network or logging, and an Engine is safe for concurrent use.
//
// A scan makes one pass over the data with a keyword prefilter, then runs
// each rule only on small windows around its keywords' hits. AWS key ids
// are then paired with a secret access key found in the same data.
//
// Every step of a scan is linear in the size of the data, or bounded per
// blob with what it leaves out counted in Coverage: a blob built to be
// slow to scan costs no more than its size says.
package detectors

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
)

// Match is one secret found in scanned data.
type Match struct {
	RuleID      string
	Description string
	// Secret is the raw sensitive value. It must be redacted before output.
	Secret string
	// Start and End delimit where the finding is reported in the data: for an
	// AWS pair, the key id.
	Start, End int
	// KeyID is the AWS access key id, for AWS findings.
	KeyID string
	// SessionToken is the session token paired with a temporary (ASIA) key.
	SessionToken string
	// Decoded says how the secret was decoded when it was found inside
	// encoded text ("base64", "hex", "percent", "json-escape",
	// "xml-entity", chained with "+"); Start and End then delimit the
	// encoded text, or, when the outer decoding is of escapes, what was
	// found as the data writes it, escapes and all.
	Decoded string
	// Context is what the rule read beside the secret that a verifier
	// needs (an Azure storage account's name); not secret.
	Context map[string]string
}

// Rule describes one kind of secret.
type Rule struct {
	ID          string
	Description string
	// Keywords gate the rule: it runs only near one of them (ASCII case is
	// ignored). Each is at least three bytes long.
	Keywords []string
	// Regex finds the secret in a window around a keyword hit; its group
	// named "secret" (or the whole match) is the secret.
	Regex *regexp.Regexp
	// Before and After bound the window around a hit, in bytes. Unless
	// Multiline is set the window is also clamped to the hit's line.
	Before, After int
	Multiline     bool
	// Assignment marks the generic rule: a value assigned to a name that
	// contains a keyword, found by a small parser instead of a regex.
	Assignment bool
	// Valid drops candidates that match the pattern but are not secrets.
	Valid func(c Candidate) bool
	// Context, if set, reads what a verifier needs beside the secret
	// from a bounded stretch of c.Data around it.
	Context func(c Candidate) map[string]string
	// Needs, when set, must occur in a window for the regex to run there:
	// a cheap test that spares the regex most windows.
	Needs string
	// MinEntropy, when set, is the least Shannon entropy (bits per byte)
	// of the secret.
	MinEntropy float64
	// Allow drops secrets that match one of its regexes or contain one of
	// its stopwords.
	Allow Allowlist
	// Silent runs the rule without reporting what it finds: its matches
	// still pair and still keep the generic rule off their spans. A rule
	// the user turned off runs so, that what it knows does not turn up
	// under another rule instead: a disabled GitHub token as a generic
	// secret, a disabled AWS key id's secret as one.
	Silent bool
	// Pairs, when set, names the rule whose matches this one reports once
	// each is paired with its secret: aws-access-key reports
	// aws-access-key-id matches with their secret access key. Such a rule
	// has no keywords or regex; its Allow applies to the pair's secret
	// and key id, its MinEntropy to the secrets that may pair.
	Pairs string

	// prefixed says that every match of Regex, past a leading boundary
	// `(?:^|[^…])`, starts where one of Keywords starts and ends within
	// that keyword hit's window: the engine tries the regex, anchored, at
	// each hit, rather than searching the windows around the hits.
	prefixed bool
	// token, for a prefixed token, matches it at a hit without a regex.
	token *tokenShape
}

// Allowlist names secrets that are known not to be leaks.
type Allowlist struct {
	Regexes []*regexp.Regexp
	// Stopwords are matched, ignoring case, as substrings of the secret.
	Stopwords []string
}

// Allows reports whether the allowlist covers secret.
func (a *Allowlist) Allows(secret string) bool {
	for _, re := range a.Regexes {
		if re.MatchString(secret) {
			return true
		}
	}
	if len(a.Stopwords) > 0 {
		l := strings.ToLower(secret)
		for _, w := range a.Stopwords {
			if strings.Contains(l, strings.ToLower(w)) {
				return true
			}
		}
	}
	return false
}

// Candidate is what a rule's pattern found, handed to Rule.Valid.
type Candidate struct {
	Secret string
	// Name is the assigned-to name, for assignment rules.
	Name string
	// Path is the file the data came from ("" when unknown).
	Path       string
	Data       []byte
	Start, End int
}

// Engine runs a set of rules over data.
type Engine struct {
	rules     []Rule
	pf        *prefilter
	kwRules   [][]int // keyword index -> rule indexes
	secretIdx []int   // rule index -> regex group of the secret
	// pairRule is the index of the rule that reports AWS pairs, or -1:
	// pairs are then reported as AWSKeyRule all the same.
	pairRule int
	// anchors holds, for each prefixed rule, its regex as tried at a hit.
	anchors []*anchoredRegex
	// stops holds each rule's stopwords, compiled.
	stops []*stopwords
}

// New returns an Engine for rules.
func New(rules []Rule) *Engine {
	e := &Engine{rules: rules, pairRule: -1, anchors: make([]*anchoredRegex, len(rules)), stops: make([]*stopwords, len(rules))}
	var keywords []string
	compiled := map[string]*stopwords{}
	for i, r := range rules {
		if r.Pairs == AWSKeyIDRule {
			e.pairRule = i
		}
		if r.prefixed && r.token == nil {
			e.anchors[i] = anchor(r.Regex)
		}
		e.stops[i] = compileStopwords(r.Allow.Stopwords, compiled)
		for _, k := range r.Keywords {
			keywords = append(keywords, k)
			e.kwRules = append(e.kwRules, []int{i})
		}
		idx := 0
		if r.Regex != nil {
			if n := r.Regex.SubexpIndex("secret"); n > 0 {
				idx = n
			}
		}
		e.secretIdx = append(e.secretIdx, idx)
	}
	e.pf = newPrefilter(keywords)
	return e
}

// Default returns an Engine with the built-in catalog.
func Default() *Engine { return New(Catalog()) }

type window struct{ start, end int }

// Scan returns the secrets in data, ordered by position. path is used only
// by rules that treat some files differently (lock files, for example).
//
// Encoded text (base64, hex, percent-encoding) and escaped text (JSON
// string escapes, XML entities) are decoded and scanned again, to a
// bounded depth and size; see decode.go and escape.go.
func (e *Engine) Scan(path string, data []byte) []Match {
	ms, _ := e.ScanCoverage(path, data)
	return ms
}

// Coverage says what a scan left out.
type Coverage struct {
	// Undecoded counts encoded runs not decoded because the data's decode
	// budget was spent: what they hold was not looked at.
	Undecoded int
	// Truncated counts matches decided with less than all the data could
	// offer, because a per-blob bound on the work was reached: AWS key ids
	// that, among more secret candidates than each may weigh (see
	// maxPairChoices), were left with a secret another id also has.
	Truncated int
}

// ScanCoverage is Scan, and also says what the scan could not look at.
func (e *Engine) ScanCoverage(path string, data []byte) ([]Match, Coverage) {
	ms, cov, _ := e.scanSteps(path, data)
	return ms, cov
}

// scanState is what one scan keeps as it goes.
type scanState struct {
	budget    decodeBudget
	truncated int
	// steps counts the bytes and comparisons the scan's loops go
	// through, so that tests can hold it to linear growth.
	steps int
}

// scanSteps is ScanCoverage, and also says how many steps it took.
func (e *Engine) scanSteps(path string, data []byte) ([]Match, Coverage, int) {
	st := scanState{budget: decodeBudget{left: maxDecodedBytes}}
	ms, _ := e.scan(path, data, 0, &st)
	return ms, Coverage{Undecoded: st.budget.skipped, Truncated: st.truncated}, st.steps
}

// scan returns the matches to report in data, and the spans of silent
// ones (see Rule.Silent), which other findings must keep off as well.
func (e *Engine) scan(path string, data []byte, depth int, st *scanState) ([]Match, []window) {
	matches, quiet, hits := e.scanPlain(path, data, st)
	if depth < maxDecodeDepth {
		decoded, decodedQuiet := e.scanEncoded(path, data, depth, st, matches, hits)
		if len(decoded) > 0 || len(decodedQuiet) > 0 {
			// What the encoded text holds says more than the generic
			// rule's view of it as one random value.
			spans := append([]window(nil), decodedQuiet...)
			for _, m := range decoded {
				spans = append(spans, window{m.Start, m.End})
			}
			matches = append(dropGenericOverlaps(matches, spans, st), decoded...)
			quiet = append(quiet, decodedQuiet...)
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].Start < matches[j].Start })
	return matches, quiet
}

// found is what scanPlain knows of a match besides the match itself.
type found struct {
	rule int
	// allowlisted is set for an AWS key id its rule's allowlist covers.
	allowlisted bool
}

// scanPlain also says whether any rule's keyword occurs in data.
func (e *Engine) scanPlain(path string, data []byte, st *scanState) ([]Match, []window, bool) {
	st.steps += len(data)
	hits := e.pf.find(data, nil)
	if len(hits) == 0 {
		return nil, nil, false
	}
	windows := make([][]window, len(e.rules))
	var matches []Match
	var info []found
	seen := make(map[[3]int]bool)
	add := func(ri int, c Candidate) {
		st.steps++
		r := &e.rules[ri]
		key := [3]int{ri, c.Start, c.End}
		if seen[key] {
			return
		}
		seen[key] = true
		if r.Valid != nil && !r.Valid(c) || r.MinEntropy > 0 && shannon(c.Secret) < r.MinEntropy {
			return
		}
		allowlisted := e.allows(ri, c.Secret)
		if allowlisted && r.ID != AWSKeyIDRule {
			return
		}
		// An allowlisted key id still pairs (and is not reported), so
		// that its secret is not reported in its place.
		m := Match{RuleID: r.ID, Description: r.Description, Secret: c.Secret, Start: c.Start, End: c.End}
		if r.Context != nil {
			m.Context = r.Context(c)
		}
		matches = append(matches, m)
		info = append(info, found{rule: ri, allowlisted: allowlisted})
	}
	// Where each prefixed rule's last match ends, and the run of body
	// bytes each token rule read last; made on first use.
	var last []int
	var runs []tokenRun
	for _, h := range hits {
		st.steps++
		for _, ri := range e.kwRules[h.keyword] {
			r := &e.rules[ri]
			switch {
			case r.Assignment:
				if c, ok := parseAssignment(data, h.pos); ok {
					c.Path = path
					add(ri, c)
				}
			case r.token != nil || e.anchors[ri] != nil:
				if last == nil {
					last, runs = make([]int, len(e.rules)), make([]tokenRun, len(e.rules))
				}
				// Matches do not overlap, as regexp.FindAll's do not.
				if h.pos < last[ri] {
					continue
				}
				if c, next, ok := e.matchAt(ri, data, h.pos, &runs[ri], st); ok {
					last[ri] = next
					c.Path = path
					add(ri, c)
				}
			default:
				w := e.window(r, data, h.pos)
				ws := windows[ri]
				if n := len(ws); n > 0 && w.start <= ws[n-1].end {
					if w.end > ws[n-1].end {
						ws[n-1].end = w.end
					}
					continue
				}
				windows[ri] = append(ws, w)
			}
		}
	}
	for i := range runs {
		st.steps += runs[i].read
	}
	for ri, ws := range windows {
		r := &e.rules[ri]
		for _, w := range ws {
			if r.Needs != "" && !bytes.Contains(data[w.start:w.end], []byte(r.Needs)) {
				continue
			}
			st.steps += w.end - w.start
			for _, loc := range r.Regex.FindAllSubmatchIndex(data[w.start:w.end], -1) {
				g := e.secretIdx[ri]
				s, t := loc[2*g], loc[2*g+1]
				if s < 0 {
					continue
				}
				add(ri, Candidate{Secret: string(data[w.start+s : w.start+t]), Path: path, Data: data, Start: w.start + s, End: w.start + t})
			}
		}
	}
	pairs := pairAWS(data, matches, e.pairMinEntropy(), st)
	var quiet []window
	out := matches[:0]
	for i, m := range matches {
		// A pair is reported as the pair rule says, a key id left
		// without a secret as the key id rule says; neither when the
		// key id is allowlisted.
		silent := info[i].allowlisted || e.rules[info[i].rule].Silent
		if m.RuleID == AWSKeyRule {
			silent = info[i].allowlisted || !e.reportPair(&m)
		}
		if silent {
			quiet = append(quiet, window{m.Start, m.End})
			continue
		}
		out = append(out, m)
	}
	return dropGenericOverlaps(out, append(pairs, quiet...), st), quiet, true
}

// matchAt matches prefixed rule ri at a keyword hit at pos: as its regex
// does through the hit's window, for a match that starts there. It
// returns the candidate and where the match ends.
func (e *Engine) matchAt(ri int, data []byte, pos int, run *tokenRun, st *scanState) (Candidate, int, bool) {
	r := &e.rules[ri]
	if t := r.token; t != nil {
		end, next, ok := t.match(data, pos, run)
		if !ok {
			return Candidate{}, 0, false
		}
		return Candidate{Secret: string(data[pos:end]), Data: data, Start: pos, End: end}, next, true
	}
	a := e.anchors[ri]
	if !a.leads(data, pos, r.Multiline) {
		return Candidate{}, 0, false
	}
	// An attempt reads at most the hit's window, and in practice stops
	// where the next hit's match could start (prefixed rules' bodies hold
	// no byte their boundary allows): a failed one counts as the hit's
	// step, a match as its length.
	w := e.window(r, data, pos)
	loc := a.re.FindSubmatchIndex(data[pos:w.end])
	if loc == nil {
		return Candidate{}, 0, false
	}
	st.steps += loc[1]
	s, t := loc[2*a.group], loc[2*a.group+1]
	if s < 0 {
		return Candidate{}, 0, false
	}
	return Candidate{Secret: string(data[pos+s : pos+t]), Data: data, Start: pos + s, End: pos + t}, pos + loc[1], true
}

// pairMinEntropy is the least entropy of a secret access key that may
// pair with a key id.
func (e *Engine) pairMinEntropy() float64 {
	if e.pairRule < 0 {
		return 0
	}
	return e.rules[e.pairRule].MinEntropy
}

// reportPair says whether an AWS pair is reported, and gives it the pair
// rule's description.
func (e *Engine) reportPair(m *Match) bool {
	if e.pairRule < 0 {
		return true
	}
	r := &e.rules[e.pairRule]
	m.Description = r.Description
	return !r.Silent && !e.allows(e.pairRule, m.Secret) && !e.allows(e.pairRule, m.KeyID)
}

// GenericRule is the id of the rule for values assigned to secret-like names.
const GenericRule = "generic-secret"

// dropGenericOverlaps removes generic matches that overlap a match of a
// specific rule, or a span claimed by one (an AWS secret paired with its
// id): the specific rule says more about the same secret.
func dropGenericOverlaps(matches []Match, claimed []window, st *scanState) []Match {
	generic := false
	for _, m := range matches {
		if m.RuleID == GenericRule {
			generic = true
		} else {
			claimed = append(claimed, window{m.Start, m.End})
		}
	}
	if !generic || len(claimed) == 0 {
		return matches
	}
	set := newSpanSet(claimed)
	st.steps += len(claimed) + len(matches)
	out := matches[:0]
	for _, m := range matches {
		if m.RuleID != GenericRule || !set.overlaps(m.Start, m.End) {
			out = append(out, m)
		}
	}
	return out
}

// spanSet answers whether a span overlaps any of a set of spans, in
// logarithmic time: the spans sorted by start, with the furthest end
// reached by each prefix.
type spanSet struct {
	starts, maxEnd []int
}

func newSpanSet(ws []window) spanSet {
	sorted := append([]window(nil), ws...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].start < sorted[j].start })
	s := spanSet{starts: make([]int, len(sorted)), maxEnd: make([]int, len(sorted))}
	for i, w := range sorted {
		s.starts[i] = w.start
		s.maxEnd[i] = w.end
		if i > 0 && s.maxEnd[i-1] > w.end {
			s.maxEnd[i] = s.maxEnd[i-1]
		}
	}
	return s
}

// overlaps reports whether [start, end) overlaps a span of s: one that
// starts before end and ends after start.
func (s spanSet) overlaps(start, end int) bool {
	i := sort.SearchInts(s.starts, end) // spans [0, i) start before end
	return i > 0 && s.maxEnd[i-1] > start
}

// window returns the bytes around a keyword hit that rule r examines.
func (e *Engine) window(r *Rule, data []byte, pos int) window {
	start, end := pos-r.Before, pos+r.After
	if start < 0 {
		start = 0
	}
	if end > len(data) {
		end = len(data)
	}
	if r.Multiline {
		return window{start, end}
	}
	for i := pos - 1; i >= start; i-- {
		if data[i] == '\n' {
			start = i + 1
			break
		}
	}
	for i := pos; i < end; i++ {
		if data[i] == '\n' || data[i] == '\r' {
			end = i
			break
		}
	}
	return window{start, end}
}
