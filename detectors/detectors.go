// Package detectors finds secrets in bytes. It is pure: no files, git,
// network or logging, and an Engine is safe for concurrent use.
//
// A scan makes one pass over the data with a keyword prefilter, then runs
// each rule only on small windows around its keywords' hits. AWS key ids
// are then paired with a secret access key found anywhere in the same data.
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
	// encoded text ("base64", "hex", "percent", chained with "+"); Start
	// and End then delimit the encoded text.
	Decoded string
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
	// Needs, when set, must occur in a window for the regex to run there:
	// a cheap test that spares the regex most windows.
	Needs string
	// MinEntropy, when set, is the least Shannon entropy (bits per byte)
	// of the secret.
	MinEntropy float64
	// Allow drops secrets that match one of its regexes or contain one of
	// its stopwords.
	Allow Allowlist
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
}

// New returns an Engine for rules.
func New(rules []Rule) *Engine {
	e := &Engine{rules: rules}
	var keywords []string
	for i, r := range rules {
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
// Encoded text (base64, hex, percent-encoding) is decoded and scanned
// again, to a bounded depth and size; see decode.go.
func (e *Engine) Scan(path string, data []byte) []Match {
	ms, _ := e.ScanCoverage(path, data)
	return ms
}

// Coverage says what a scan left out.
type Coverage struct {
	// Undecoded counts encoded runs not decoded because the data's decode
	// budget was spent: what they hold was not looked at.
	Undecoded int
}

// ScanCoverage is Scan, and also says what the scan could not look at.
func (e *Engine) ScanCoverage(path string, data []byte) ([]Match, Coverage) {
	b := decodeBudget{left: maxDecodedBytes}
	ms := e.scan(path, data, 0, &b)
	return ms, Coverage{Undecoded: b.skipped}
}

func (e *Engine) scan(path string, data []byte, depth int, budget *decodeBudget) []Match {
	matches := e.scanPlain(path, data)
	if depth < maxDecodeDepth {
		if decoded := e.scanEncoded(path, data, depth, budget, matches); len(decoded) > 0 {
			// What the encoded text holds says more than the generic
			// rule's view of it as one random value.
			var spans []window
			for _, m := range decoded {
				spans = append(spans, window{m.Start, m.End})
			}
			matches = append(dropGenericOverlaps(matches, spans), decoded...)
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].Start < matches[j].Start })
	return matches
}

func (e *Engine) scanPlain(path string, data []byte) []Match {
	hits := e.pf.find(data, nil)
	if len(hits) == 0 {
		return nil
	}
	windows := make([][]window, len(e.rules))
	var matches []Match
	seen := make(map[[3]int]bool)
	add := func(ri int, c Candidate) {
		r := &e.rules[ri]
		key := [3]int{ri, c.Start, c.End}
		if seen[key] {
			return
		}
		seen[key] = true
		if r.Valid != nil && !r.Valid(c) || r.MinEntropy > 0 && shannon(c.Secret) < r.MinEntropy || r.Allow.Allows(c.Secret) {
			return
		}
		matches = append(matches, Match{RuleID: r.ID, Description: r.Description, Secret: c.Secret, Start: c.Start, End: c.End})
	}
	for _, h := range hits {
		for _, ri := range e.kwRules[h.keyword] {
			r := &e.rules[ri]
			if r.Assignment {
				if c, ok := parseAssignment(data, h.pos); ok {
					c.Path = path
					add(ri, c)
				}
				continue
			}
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
	for ri, ws := range windows {
		r := &e.rules[ri]
		for _, w := range ws {
			if r.Needs != "" && !bytes.Contains(data[w.start:w.end], []byte(r.Needs)) {
				continue
			}
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
	matches, claimed := pairAWS(data, matches)
	return dropGenericOverlaps(matches, claimed)
}

// GenericRule is the id of the rule for values assigned to secret-like names.
const GenericRule = "generic-secret"

// dropGenericOverlaps removes generic matches that overlap a match of a
// specific rule, or a span claimed by one (an AWS secret paired with its
// id): the specific rule says more about the same secret.
func dropGenericOverlaps(matches []Match, claimed []window) []Match {
	for _, m := range matches {
		if m.RuleID != GenericRule {
			claimed = append(claimed, window{m.Start, m.End})
		}
	}
	out := matches[:0]
	for _, m := range matches {
		keep := true
		if m.RuleID == GenericRule {
			for _, w := range claimed {
				if m.Start < w.end && w.start < m.End {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
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
