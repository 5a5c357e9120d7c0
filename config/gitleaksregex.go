package config

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nameSecretGroup returns expr with its capturing group n (1-based, in
// the order of the opening parentheses, as Go numbers them) named
// "secret", and every other group of that name renamed. It checks that
// the result is the same expression but for the names.
func nameSecretGroup(expr string, n int) (string, error) {
	groups := captureGroups(expr)
	if n < 1 || n > len(groups) {
		return "", fmt.Errorf("no group %d", n)
	}
	var b strings.Builder
	last := 0
	for i, g := range groups {
		name := ""
		switch {
		case i+1 == n:
			name = "secret"
		case g.nameStart >= 0 && expr[g.nameStart:g.nameEnd] == "secret":
			name = "secret_" + strconv.Itoa(i+1)
		default:
			continue
		}
		if g.nameStart < 0 {
			b.WriteString(expr[last : g.open+1])
			b.WriteString("?P<" + name + ">")
			last = g.open + 1
		} else {
			b.WriteString(expr[last:g.nameStart])
			b.WriteString(name)
			last = g.nameEnd
		}
	}
	b.WriteString(expr[last:])
	out := b.String()
	if err := sameButNames(expr, out); err != nil {
		return "", err
	}
	re, err := regexp.Compile(out)
	if err != nil || re.SubexpIndex("secret") != n {
		return "", errors.New("could not name the group")
	}
	return out, nil
}

// captureGroup is where a capturing group opens, and its name if any.
type captureGroup struct {
	open               int
	nameStart, nameEnd int // -1 when unnamed
}

// captureGroups finds the capturing groups of a Go regular expression,
// skipping escapes, \Q...\E and character classes.
func captureGroups(expr string) []captureGroup {
	var out []captureGroup
	inClass := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '\\':
			if strings.HasPrefix(expr[i:], `\Q`) {
				end := strings.Index(expr[i+2:], `\E`)
				if end < 0 {
					return out
				}
				i += 2 + end + 1
				continue
			}
			i++
		case inClass:
			if strings.HasPrefix(expr[i:], "[:") {
				if end := strings.Index(expr[i+2:], ":]"); end >= 0 {
					i += 2 + end + 1
				}
			} else if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			j := i + 1
			if j < len(expr) && expr[j] == '^' {
				j++
			}
			if j < len(expr) && expr[j] == ']' {
				j++ // a ] first in a class is itself
			}
			i = j - 1
		case c == '(':
			rest := expr[i:]
			switch {
			case strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?<"):
				start := i + strings.IndexByte(rest, '<') + 1
				end := strings.IndexByte(expr[start:], '>')
				if end < 0 {
					return out
				}
				out = append(out, captureGroup{i, start, start + end})
			case strings.HasPrefix(rest, "(?"):
				// flags or a non-capturing group
			default:
				out = append(out, captureGroup{i, -1, -1})
			}
		}
	}
	return out
}

// sameButNames checks that a and b parse to the same expression once
// their groups' names are taken away.
func sameButNames(a, b string) error {
	ra, err := syntax.Parse(a, syntax.Perl)
	if err != nil {
		return err
	}
	rb, err := syntax.Parse(b, syntax.Perl)
	if err != nil {
		return err
	}
	clearNames(ra)
	clearNames(rb)
	if !ra.Equal(rb) {
		return errors.New("could not name the group")
	}
	return nil
}

func clearNames(re *syntax.Regexp) {
	re.Name = ""
	for _, s := range re.Sub {
		clearNames(s)
	}
}

// mustContain returns strings of 3 bytes or more of which every match of
// re holds one, lower-cased as keysweep's keywords are compared (ASCII
// case ignored), or nil when it cannot tell. Of several such sets, the
// one whose shortest string is longest.
func mustContain(re *syntax.Regexp) []string {
	if e := exact(re); e != nil {
		return atLeast3(e)
	}
	switch re.Op {
	case syntax.OpLiteral:
		// Under (?i), a letter with a non-ASCII case breaks the
		// literal: keysweep's keywords ignore ASCII case only.
		best := ""
		for _, part := range strings.FieldsFunc(string(re.Rune), func(r rune) bool { return r >= utf8.RuneSelf }) {
			if len(part) > len(best) {
				best = part
			}
		}
		return atLeast3([]string{asciiLower(best)})
	case syntax.OpCapture, syntax.OpPlus:
		return mustContain(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return mustContain(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		consider := func(c []string) {
			if c != nil && (best == nil || shortest(c) > shortest(best) || shortest(c) == shortest(best) && len(c) < len(best)) {
				best = c
			}
		}
		for _, r := range literalRuns(re) {
			consider(atLeast3(r))
		}
		for _, s := range re.Sub {
			consider(mustContain(s))
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			c := mustContain(s)
			if c == nil {
				return nil
			}
			for _, k := range c {
				if !slices.Contains(all, k) {
					all = append(all, k)
				}
			}
		}
		return all
	}
	return nil
}

// everyMatchHolds reports whether every match of re holds one of kws
// (lower-cased), compared with ASCII case ignored.
func everyMatchHolds(re *syntax.Regexp, kws []string) bool {
	held := func(set []string) bool {
		return set != nil && !slices.ContainsFunc(set, func(m string) bool {
			return !slices.ContainsFunc(kws, func(k string) bool { return strings.Contains(m, asciiLower(k)) })
		})
	}
	if held(exact(re)) {
		return true
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return everyMatchHolds(re.Sub[0], kws)
	case syntax.OpRepeat:
		return re.Min >= 1 && everyMatchHolds(re.Sub[0], kws)
	case syntax.OpConcat:
		return slices.ContainsFunc(literalRuns(re), held) ||
			slices.ContainsFunc(re.Sub, func(s *syntax.Regexp) bool { return everyMatchHolds(s, kws) })
	case syntax.OpAlternate:
		return !slices.ContainsFunc(re.Sub, func(s *syntax.Regexp) bool { return !everyMatchHolds(s, kws) })
	}
	return false
}

// maxExact bounds the strings exact and literalRuns enumerate.
const maxExact = 64

// exact returns every string re matches, lower-cased (ASCII), when they
// are few, else nil.
func exact(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 && slices.ContainsFunc(re.Rune, func(r rune) bool { return r >= utf8.RuneSelf }) {
			return nil
		}
		return []string{asciiLower(string(re.Rune))}
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 8 {
				return nil
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if s := asciiLower(string(r)); !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
			if len(out) > 8 {
				return nil
			}
		}
		return out
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		if e := exact(re.Sub[0]); e != nil && !slices.Contains(e, "") {
			return append(e, "")
		} else if e != nil {
			return e
		}
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			if out = cross(out, exact(s)); out == nil {
				return nil
			}
		}
		return out
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			e := exact(s)
			if e == nil || len(out)+len(e) > maxExact {
				return nil
			}
			for _, x := range e {
				if !slices.Contains(out, x) {
					out = append(out, x)
				}
			}
		}
		return out
	}
	return nil
}

// cross returns every a followed by every b, nil when either is nil or
// there would be too many.
func cross(a, b []string) []string {
	if a == nil || b == nil || len(a)*len(b) > maxExact {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if s := x + y; !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// literalRuns returns, for a concatenation, the sets of strings that
// consecutive parts of few matches spell: every match holds one string
// of each set. A part repeated at least once adds its first copy, then
// ends the run.
func literalRuns(re *syntax.Regexp) [][]string {
	var out [][]string
	var cur []string
	flush := func() {
		if cur != nil {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, s := range re.Sub {
		if e := exact(s); e != nil {
			if c := cross(orEmpty(cur), e); c != nil {
				cur = c
			} else {
				flush()
				cur = e
			}
			continue
		}
		sub := s
		if sub.Op == syntax.OpCapture {
			sub = sub.Sub[0]
		}
		if sub.Op == syntax.OpPlus || sub.Op == syntax.OpRepeat && sub.Min >= 1 {
			if e := exact(sub.Sub[0]); e != nil {
				if c := cross(orEmpty(cur), e); c != nil {
					cur = c
				}
			}
		}
		flush()
	}
	flush()
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{""}
	}
	return s
}

// atLeast3 returns set when each of its strings is 3 bytes or more.
func atLeast3(set []string) []string {
	if len(set) == 0 || slices.ContainsFunc(set, func(s string) bool { return len(s) < 3 }) {
		return nil
	}
	return set
}

func shortest(ss []string) int {
	n := -1
	for _, s := range ss {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// matchesNewline reports whether re can match a line break: such a
// gitleaks regex matched across lines, so keysweep's window around a
// keyword must not stop at the line's end.
func matchesNewline(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar:
		return true
	case syntax.OpLiteral:
		if slices.Contains(re.Rune, '\n') || slices.Contains(re.Rune, '\r') {
			return true
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] || re.Rune[i] <= '\r' && '\r' <= re.Rune[i+1] {
				return true
			}
		}
	}
	return slices.ContainsFunc(re.Sub, matchesNewline)
}

// groupAlwaysSet reports whether every match of re sets group n to a
// non-empty string: the group is on every path through re, and cannot
// match the empty string.
func groupAlwaysSet(re *syntax.Regexp, n int) bool {
	switch re.Op {
	case syntax.OpCapture:
		if re.Cap == n {
			return minLen(re.Sub[0]) > 0
		}
		return groupAlwaysSet(re.Sub[0], n)
	case syntax.OpConcat:
		return slices.ContainsFunc(re.Sub, func(s *syntax.Regexp) bool { return groupAlwaysSet(s, n) })
	case syntax.OpPlus:
		return groupAlwaysSet(re.Sub[0], n)
	case syntax.OpRepeat:
		return re.Min >= 1 && groupAlwaysSet(re.Sub[0], n)
	}
	return false
}

// minLen returns the fewest characters a match of re holds.
func minLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return re.Min * minLen(re.Sub[0])
		}
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += minLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if m := minLen(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}
