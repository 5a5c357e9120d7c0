package report

import (
	"fmt"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/escape"

	"strings"
	"unicode/utf8"
)

// Escape makes text that comes from scanned content (a path, an author,
// a commit message, a rule description, a ref name) safe to print on a
// terminal or in a line of a message: see escape.Text.
func Escape(s string) string { return escape.Text(s) }

// escapeJSON writes as \u escapes the characters that encoding/json
// leaves as they are but a terminal acts upon: DEL, C1 controls and bidi
// overrides. They can only stand inside strings, where the escape means
// the same character, so the document decodes to the same values.
func escapeJSON(doc []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(doc); {
		if doc[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(doc[i:])
		if escape.Unsafe(r) {
			out = append(append(out, doc[last:i]...), fmt.Sprintf(`\u%04x`, r)...)
			last = i + size
		}
		i += size
	}
	if out == nil {
		return doc
	}
	return append(out, doc[last:]...)
}

// escapeFinding returns f with every text field escaped, for the formats
// people read on a terminal.
func escapeFinding(f finding.Finding) finding.Finding {
	for _, s := range []*string{&f.Repository, &f.RuleID, &f.Description, &f.Secret, &f.Commit, &f.Path,
		&f.Author, &f.Email, &f.Date, &f.Fingerprint, &f.Blob, &f.KeyID, &f.SessionToken, &f.Decoded, &f.URL} {
		*s = Escape(*s)
	}
	if f.AccountID != nil {
		a := Escape(*f.AccountID)
		f.AccountID = &a
	}
	if v := f.Verification; v != nil {
		e := *v
		for _, s := range []*string{&e.Status, &e.Account, &e.ARN, &e.UserID, &e.Error, &e.Provider, &e.Identity} {
			*s = Escape(*s)
		}
		e.Scopes = escapeAll(e.Scopes)
		f.Verification = &e
	}
	if r := f.Remediation; r != nil {
		e := *r
		for _, s := range []*string{&e.Action, &e.Account, &e.User, &e.Note, &e.Error, &e.Policy, &e.Warned, &e.Due} {
			*s = Escape(*s)
		}
		e.Steps, e.Notified = escapeAll(e.Steps), escapeAll(e.Notified)
		f.Remediation = &e
	}
	if sn := f.Snippet; sn != nil {
		c := *sn
		c.Before, c.Match, c.After = Escape(c.Before), Escape(c.Match), Escape(c.After)
		f.Snippet = &c
	}
	f.Subject = Escape(f.Subject)
	if e := f.Exposure; e != nil {
		c := *e
		c.Since, c.Commit = Escape(c.Since), Escape(c.Commit)
		f.Exposure = &c
	}
	if u := f.Usage; u != nil {
		c := *u
		for _, s := range []*string{&c.LastUsed, &c.Service, &c.Region, &c.Note} {
			*s = Escape(*s)
		}
		f.Usage = &c
	}
	if ct := f.CloudTrail; ct != nil {
		c := *ct
		for _, s := range []*string{&c.From, &c.To, &c.First, &c.Last, &c.Error} {
			*s = Escape(*s)
		}
		c.Regions, c.Failed, c.EventRegions, c.SourceIPs = escapeAll(c.Regions), escapeAll(c.Failed), escapeAll(c.EventRegions), escapeAll(c.SourceIPs)
		c.UserAgents, c.UnexpectedRegions = escapeAll(c.UserAgents), escapeAll(c.UnexpectedRegions)
		c.EventNames = nil
		for _, n := range ct.EventNames {
			c.EventNames = append(c.EventNames, finding.Count{Name: Escape(n.Name), Count: n.Count})
		}
		f.CloudTrail = &c
	}
	if br := f.BlastRadius; br != nil {
		c := *br
		c.User, c.Boundary, c.Error = Escape(c.User), Escape(c.Boundary), Escape(c.Error)
		c.Groups, c.Policies, c.Allowed, c.Denied = escapeAll(c.Groups), escapeAll(c.Policies), escapeAll(c.Allowed), escapeAll(c.Denied)
		f.BlastRadius = &c
	}
	return f
}

// escapeAll returns ss escaped, in a new slice.
func escapeAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}

// OneLine makes an error one line of plain text: errors quote paths, refs
// and answers that someone else chose, which must not reach the terminal
// as control sequences.
func OneLine(err error) string {
	return Escape(strings.Join(strings.Fields(err.Error()), " "))
}

// QuotePath writes a path the way git does with core.quotePath=false: as
// it is when it holds no control character, double quote, backslash,
// invalid UTF-8 or character that turns the direction of text; else in
// double quotes, with C escapes (\t, \n, \", \\, ...) and the bytes of
// the others in octal. Letters of any script stay readable, and no path
// reaches a terminal as a control sequence.
func QuotePath(p string) string {
	if !needsQuote(p) {
		return p
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c >= '\a' && c <= '\r':
				b.WriteByte('\\')
				b.WriteByte("abtnvfr"[c-'\a'])
			case c < 0x20 || c == 0x7f:
				fmt.Fprintf(&b, "\\%03o", c)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		if r == utf8.RuneError && size == 1 || escape.Unsafe(r) {
			for _, x := range []byte(p[i : i+size]) {
				fmt.Fprintf(&b, "\\%03o", x)
			}
		} else {
			b.WriteString(p[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// needsQuote reports whether QuotePath quotes p.
func needsQuote(p string) bool {
	return escape.Text(p) != p || strings.ContainsAny(p, `"\`)
}

// location is where a finding is, for people: a path quoted like git
// quotes it, or the message or blob it is in.
func location(f finding.Finding) string {
	if f.Path == "" || f.InMessage() {
		return Escape(f.Location())
	}
	return QuotePath(f.Path)
}
