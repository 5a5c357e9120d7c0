package detectors

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Most rules' regexes start with a boundary, `(?:^|[^A-Za-z0-9_])`, that
// keeps a token from matching inside a longer word. Searched for through
// a window, such a regex is tried at every byte of it: in text dense with
// keywords, every rule's windows cover most of the text, and that search
// is most of a scan's time. A prefixed rule's matches start where its
// keywords do, so it is tried once at each hit instead, anchored there,
// with the boundary's one byte checked here: the same matches, for the
// price of the few bytes each attempt reads.

// anchoredRegex is a prefixed rule's regex as tried at a keyword hit.
type anchoredRegex struct {
	re    *regexp.Regexp // ^(?:the regex past its boundary)
	group int            // of the secret in re, or 0
	// lead, when set, holds the bytes that may precede a match: those of
	// the boundary's class (a byte of a multi-byte character stands for
	// the character, which is not ASCII).
	lead *[256]bool
}

// anchor returns re as tried at a keyword hit, or nil when it is not of
// a shape that allows it: a regex with an `^` past its leading boundary.
func anchor(re *regexp.Regexp) *anchoredRegex {
	if re == nil {
		return nil
	}
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	a := &anchoredRegex{}
	body := parsed
	if parsed.Op == syntax.OpConcat && len(parsed.Sub) > 1 {
		if first := parsed.Sub[0]; first.Op == syntax.OpAlternate && len(first.Sub) == 2 &&
			first.Sub[0].Op == syntax.OpBeginText && first.Sub[1].Op == syntax.OpCharClass {
			a.lead = classBytes(first.Sub[1])
			body = &syntax.Regexp{Op: syntax.OpConcat, Flags: parsed.Flags, Sub: parsed.Sub[1:]}
		}
	}
	if beginsText(body) {
		return nil
	}
	anchored, err := regexp.Compile(`^(?:` + body.String() + `)`)
	if err != nil {
		return nil
	}
	a.re = anchored
	if n := anchored.SubexpIndex("secret"); n > 0 {
		a.group = n
	}
	return a
}

// beginsText reports whether re holds an ^.
func beginsText(re *syntax.Regexp) bool {
	if re.Op == syntax.OpBeginText || re.Op == syntax.OpBeginLine {
		return true
	}
	for _, sub := range re.Sub {
		if beginsText(sub) {
			return true
		}
	}
	return false
}

// classBytes returns the bytes in a character class: ASCII bytes by
// themselves, the others as the character a regex reads at them.
func classBytes(cc *syntax.Regexp) *[256]bool {
	in := func(r rune) bool {
		for i := 0; i+1 < len(cc.Rune); i += 2 {
			if cc.Rune[i] <= r && r <= cc.Rune[i+1] {
				return true
			}
		}
		return false
	}
	var t [256]bool
	for b := 0; b < 256; b++ {
		if b < utf8.RuneSelf {
			t[b] = in(rune(b))
		} else {
			t[b] = in(utf8.RuneError)
		}
	}
	return &t
}

// leads reports whether a match may start at pos in data: at the start of
// its window (of the data, or of a line for a rule that stays on one), or
// after a byte of the lead class.
func (a *anchoredRegex) leads(data []byte, pos int, multiline bool) bool {
	if a.lead == nil || pos == 0 || !multiline && data[pos-1] == '\n' {
		return true
	}
	return a.lead[data[pos-1]]
}

// stopwords are an allowlist's stopwords, compiled to one automaton when
// there are many: each secret is then read once, not once a stopword.
type stopwords struct {
	any    bool // an empty stopword: every secret
	lower  []string
	pf     *prefilter // of lower, when built
	source []string
}

// compileStopwords compiles words, sharing the automaton of a list seen
// before (the global allowlist is every rule's).
func compileStopwords(words []string, seen map[string]*stopwords) *stopwords {
	if len(words) == 0 {
		return nil
	}
	key := strings.Join(words, "\x00")
	if s, ok := seen[key]; ok {
		return s
	}
	s := &stopwords{source: words}
	total := 0
	for _, w := range words {
		if w == "" {
			s.any = true
		}
		l := strings.ToLower(w)
		s.lower = append(s.lower, l)
		total += len(l)
	}
	// The automaton's states are counted in 16 bits; a list too long for
	// it is matched a word at a time.
	if !s.any && len(words) > 4 && total < 60000 {
		s.pf = newPrefilter(s.lower)
	}
	seen[key] = s
	return s
}

// match reports whether secret contains one of the stopwords, case
// ignored as strings.ToLower ignores it.
func (s *stopwords) match(secret string) bool {
	if s == nil {
		return false
	}
	if s.any {
		return true
	}
	l := strings.ToLower(secret)
	if s.pf != nil {
		return s.pf.any([]byte(l))
	}
	for _, w := range s.lower {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// allows reports whether rule ri's allowlist covers secret: what
// Allowlist.Allows says, with the stopwords compiled.
func (e *Engine) allows(ri int, secret string) bool {
	for _, re := range e.rules[ri].Allow.Regexes {
		if re.MatchString(secret) {
			return true
		}
	}
	return e.stops[ri].match(secret)
}

// hasPrefixAt reports whether data holds p at pos.
func hasPrefixAt(data []byte, pos int, p string) bool {
	return len(data)-pos >= len(p) && string(data[pos:pos+len(p)]) == p
}
