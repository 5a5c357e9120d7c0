package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keysweep/keysweep/finding"
)

// GroupBys lists how the text format groups findings: by file (the
// default), by rule, or by the commit that introduced them.
var GroupBys = []string{"file", "rule", "commit"}

// ValidGroupBy reports whether group is a grouping the text format
// knows; "" is the default, by file.
func ValidGroupBy(group string) bool {
	if group == "" {
		return true
	}
	for _, g := range GroupBys {
		if g == group {
			return true
		}
	}
	return false
}

// Widths of what the text format shows, in terminal columns: a finding's
// line, and the commit subject, author and description beside labels.
const (
	lineCols    = 100
	subjectCols = 72
	nameCols    = 60
	descCols    = 100
)

// style holds the terminal colors of the text format, all empty without
// color.
type style struct {
	bold, red, match, dim, reset string
}

func textStyle(color bool) style {
	if !color {
		return style{}
	}
	return style{bold: "\x1b[1m", red: "\x1b[1;31m", match: "\x1b[1;33m", dim: "\x1b[2m", reset: "\x1b[0m"}
}

// group is the findings under one heading of the text format.
type group struct {
	// heading is its lines, escaped, ready to print.
	heading  []string
	findings []finding.Finding
}

// groupFindings puts fs under headings by file, rule or commit, each
// group where its first finding comes and its findings in their order.
func groupFindings(fs []finding.Finding, by string, st style) []group {
	var groups []group
	index := map[string]int{}
	for _, f := range fs {
		key := groupKey(f, by)
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, group{heading: groupHeading(f, by, st)})
		}
		groups[i].findings = append(groups[i].findings, f)
	}
	for i := range groups {
		groups[i].heading[0] += fmt.Sprintf("  %s(%s)%s", st.dim, Count(int64(len(groups[i].findings)), "finding"), st.reset)
	}
	return groups
}

// groupKey is what the findings of f's group share.
func groupKey(f finding.Finding, by string) string {
	switch by {
	case "rule":
		return f.RuleID
	case "commit":
		return f.Repository + "\x00" + f.Commit
	}
	return f.Repository + "\x00" + f.Location()
}

// groupHeading is the heading of f's group: the file, as git quotes it;
// the rule and what it finds; or the commit as git log shows it.
func groupHeading(f finding.Finding, by string, st style) []string {
	repo := ""
	if f.Repository != "" {
		repo = Escape(f.Repository) + ": "
	}
	switch by {
	case "rule":
		heading := st.red + clip(f.RuleID, descCols) + st.reset
		if f.Description != "" {
			heading += "  " + clip(f.Description, descCols)
		}
		return []string{heading}
	case "commit":
		if f.Commit == "" {
			return []string{st.bold + repo + "not in a commit" + st.reset}
		}
		lines := []string{st.bold + repo + "commit " + Escape(shortID(f.Commit)) + st.reset}
		if f.Subject != "" {
			lines[0] += "  " + clip(f.Subject, subjectCols)
		}
		if f.Author != "" || f.Email != "" {
			lines = append(lines, "Author: "+author(f))
		}
		if f.Date != "" {
			lines = append(lines, "Date:   "+clip(f.Date, nameCols))
		}
		return lines
	}
	return []string{st.bold + repo + location(f) + st.reset}
}

// author names the author of f's commit, escaped.
func author(f finding.Finding) string {
	s := clip(f.Author, nameCols)
	if f.Email != "" {
		s += " <" + clip(f.Email, nameCols) + ">"
	}
	return strings.TrimSpace(s)
}

// writeText writes findings for people, grouped under headings (see
// Options.GroupBy). Every value from content is escaped and clipped: a
// hostile line cannot reach the terminal as control sequences or stretch
// a finding over the screen.
func writeText(w io.Writer, fs []finding.Finding, opts Options) error {
	st := textStyle(opts.Color)
	var b strings.Builder
	carded := map[string]bool{}
	for i, g := range groupFindings(fs, opts.GroupBy, st) {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, line := range g.heading {
			b.WriteString(line + "\n")
		}
		for j, f := range g.findings {
			if j > 0 {
				b.WriteString("\n")
			}
			writeFinding(&b, f, opts.GroupBy, st, carded)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFinding writes one finding of a group: what its heading does not
// say (by rule, its location leads; by commit, the commit is not
// repeated). carded holds the keys whose incident card was written: one
// card per key.
func writeFinding(b *strings.Builder, f finding.Finding, by string, st style, carded map[string]bool) {
	where := location(f)
	line := ""
	if sn := f.Snippet; sn != nil && (sn.Before != "" || sn.After != "" || sn.Match != f.Secret) {
		line = snippetLine(sn, st)
	}
	advice := Advice(f)
	f = escapeFinding(f)
	at := fmt.Sprintf("%s:%d:%d%s", where, f.Line, f.Column, locationNotes(f))
	if by == "rule" {
		fmt.Fprintf(b, "  %s%s%s\n", st.bold, at, st.reset)
	} else {
		title := st.red + clip(f.RuleID, descCols) + st.reset
		if f.Description != "" {
			title += "  " + clip(f.Description, descCols)
		}
		fmt.Fprintf(b, "  %s\n", title)
	}
	field := func(label, value string) {
		fmt.Fprintf(b, "    %-13s%s\n", label+":", value)
	}
	if f.Repository != "" {
		field("Repository", f.Repository)
	}
	if line != "" {
		field("Line", line)
	}
	field("Secret", st.bold+f.Secret+st.reset)
	if f.KeyID != "" {
		account := "none encoded (key issued before 2019)"
		if f.AccountID != nil && *f.AccountID != "" {
			account = *f.AccountID
		}
		field("Key id", f.KeyID+"  account "+account)
		if f.Canary {
			field("Canary", "yes, a canary token: using it sets off an alarm, never send it to AWS")
		}
	}
	if e := f.Exposure; e != nil {
		field("Exposed", describeExposure(e))
	}
	if v := f.Verification; v != nil {
		field("Verified", describeVerification(v))
	}
	if r := f.Remediation; r != nil {
		field("Remediation", describeRemediation(r))
	}
	if card := cardKey(f); hasIncident(f) && !carded[card] {
		carded[card] = true
		var c strings.Builder
		writeIncident(&c, f)
		for _, l := range strings.SplitAfter(c.String(), "\n") {
			if l != "" {
				b.WriteString("  " + l)
			}
		}
	}
	if by != "rule" {
		field("Location", at)
	}
	if f.Commit != "" && by != "commit" {
		commit := st.bold + shortID(f.Commit) + st.reset
		if f.Subject != "" {
			commit += "  " + clip(f.Subject, subjectCols)
		}
		field("Commit", commit)
		if a := author(f); a != "" || f.Date != "" {
			if a != "" && f.Date != "" {
				a += ", "
			}
			field("Author", st.dim+a+clip(f.Date, nameCols)+st.reset)
		}
	}
	if f.Commit == "" && f.Author != "" {
		// An issue, a comment, a log: who wrote it, and when.
		field("Author", st.dim+clip(f.Author, nameCols)+", "+clip(f.Date, nameCols)+st.reset)
	}
	if u := f.URL; strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		field("Link", u)
	}
	field("Fingerprint", f.Fingerprint)
	field("To do", advice)
}

// cardKey is the key an incident card is about: the fingerprint of an AWS
// finding is the key id's, and stays when the key id is redacted.
func cardKey(f finding.Finding) string {
	if _, hash, ok := strings.Cut(f.Fingerprint, ":"); ok {
		return hash
	}
	return f.KeyID
}

// locationNotes says what is unusual about where f is. f is escaped.
func locationNotes(f finding.Finding) string {
	var s string
	if f.Decoded != "" {
		s += "  (decoded from " + f.Decoded + ")"
	}
	if f.TestPath {
		s += "  (test path)"
	}
	if f.ShallowBoundary {
		s += "  (at a shallow clone's boundary: may be older)"
	}
	switch f.Reach {
	case finding.ReachReflog:
		s += "  (only a reflog reaches it: git reflog expire, then git gc, removes it)"
	case finding.ReachUnreachable:
		s += "  (nothing reaches it: git gc --prune=now removes it)"
	}
	return s
}

// snippetLine shows a finding's line on one line of at most about
// lineCols columns: escaped, tabs as spaces, clipped around the match
// (with … where text was cut), the match highlighted. "" when there is
// none. It reads no more of the parts than it shows, however long they
// are.
func snippetLine(sn *finding.Snippet, st style) string {
	if sn == nil || sn.Before == "" && sn.Match == "" && sn.After == "" {
		return ""
	}
	match, mw, cut := headCols(sn.Match, lineCols*2/3)
	if cut {
		match += "…"
		mw++
	}
	room := lineCols - mw
	// Each side gets half the room; one that needs less leaves the rest
	// to the other.
	before, bw, beforeCut := tailCols(sn.Before, room/2)
	after, aw, afterCut := headCols(sn.After, room-bw)
	if beforeCut && !afterCut {
		before, _, _ = tailCols(sn.Before, room-aw)
	}
	if afterCut {
		after += "…"
	}
	return before + st.match + match + st.reset + after
}

// headCols returns the start of s that fits in cols columns (escaped,
// tabs as spaces), its width, and whether s was cut; when it was, the
// result leaves one column for an ellipsis.
func headCols(s string, cols int) (string, int, bool) {
	var b strings.Builder
	w := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		shown := showRune(s[i:i+size], r)
		sw := textWidth(shown, r)
		if w+sw > cols-1 && (w+sw > cols || i+size < len(s)) {
			return b.String(), w, true
		}
		b.WriteString(shown)
		w += sw
		i += size
	}
	return b.String(), w, false
}

// tailCols returns the end of s that fits in cols columns, led by an
// ellipsis when s was cut, and its width.
func tailCols(s string, cols int) (string, int, bool) {
	var parts []string
	w := 0
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		shown := showRune(s[i-size:i], r)
		sw := textWidth(shown, r)
		if w+sw > cols-1 && (w+sw > cols || i-size > 0) {
			break
		}
		parts = append(parts, shown)
		w += sw
		i -= size
	}
	var b strings.Builder
	if i > 0 {
		b.WriteString("…")
		w++
	}
	for j := len(parts) - 1; j >= 0; j-- {
		b.WriteString(parts[j])
	}
	return b.String(), w, i > 0
}

// showRune is how one character of content is shown: a tab as a space,
// anything a terminal acts upon escaped.
func showRune(raw string, r rune) string {
	if r == '\t' {
		return " "
	}
	return Escape(raw)
}

// textWidth is the columns shown takes: an escape is ASCII, one byte a
// column; else r's width.
func textWidth(shown string, r rune) int {
	if len(shown) > 1 && shown[0] == '\\' {
		return len(shown)
	}
	return runeWidth(r)
}

// runeWidth approximates the columns a terminal gives r: none for a
// combining mark or a zero-width character, two for East Asian wide and
// fullwidth characters and emoji, one otherwise.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f, r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// clip escapes s and cuts it to cols columns, with an ellipsis where it
// was cut.
func clip(s string, cols int) string {
	head, _, cut := headCols(s, cols)
	if cut {
		head += "…"
	}
	return head
}
