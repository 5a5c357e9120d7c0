// Package notify tells people about leaked keys: a Slack-compatible
// webhook (Slack) and email (Mail). What it sends is built from a Notice,
// which has no field for a secret; every other field may come from
// content an attacker controls (a path, a repository's name, an author,
// IAM tags), so each is escaped for the medium and bounded in size.
package notify

import (
	textescape "github.com/keysweep/keysweep/internal/escape"

	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Notice is what the owner of a leaked key is told. It holds no secret.
type Notice struct {
	// KeyID is the access key id (AKIA...), never its secret.
	KeyID   string
	Account string
	User    string
	// Partition is aws, aws-cn or aws-us-gov ("" is aws).
	Partition string
	// Repository is owner/name, or "" for a local scan.
	Repository string
	Commit     string
	Path       string
	Line       int
	// Link is a web page of the commit or line; "" or anything but a
	// plain http(s) URL is left out.
	Link string
	// ExposedSince and LastUsed are RFC 3339, or "" (LastUsed: never
	// used, or unknown).
	ExposedSince string
	LastUsed     string
	// UsedAfterExposure is yes, no, unknown or "".
	UsedAfterExposure string
	// Action is what keysweep did or will do: warned, reminded,
	// quarantined, deactivated, ...
	Action string
	// Steps are what the owner should do, in order.
	Steps []string
	// Due is when keysweep contains the key if it is still active; zero
	// when it acted now.
	Due time.Time
	// To are the email recipients, bare addresses.
	To []string
}

// Bounds on what a Notice puts in a message: a hostile path or tag cannot
// make a message that a webhook or a mail server refuses.
const (
	maxField = 512
	maxSteps = 20
)

// ConsoleURL is the IAM console page of user's security credentials (where
// keys are rotated) in partition: aws (or ""), aws-us-gov or aws-cn. With
// no user it is the list of users; an unknown partition gives "".
func ConsoleURL(partition, user string) string {
	var host string
	switch partition {
	case "", "aws":
		host = "console.aws.amazon.com"
	case "aws-us-gov":
		host = "console.amazonaws-us-gov.com"
	case "aws-cn":
		host = "console.amazonaws.cn"
	default:
		return ""
	}
	if user == "" {
		return "https://" + host + "/iam/home#/users"
	}
	return "https://" + host + "/iam/home#/users/details/" + url.PathEscape(user) + "?section=security_credentials"
}

// Subject is the one-line summary of the notice: no control character,
// at most 200 characters.
func (n Notice) Subject() string {
	var b strings.Builder
	b.WriteString("keysweep: leaked AWS key " + clean(n.KeyID))
	if n.User != "" {
		b.WriteString(" of user " + clean(n.User))
	}
	if n.Account != "" {
		b.WriteString(" in account " + clean(n.Account))
	}
	switch {
	case !n.Due.IsZero():
		b.WriteString(": rotate it before " + when(n.Due))
	case n.Action != "":
		b.WriteString(": " + clean(n.Action))
	}
	s := scrub(clip(b.String(), 200))
	// Text of ours is never to be read as an RFC 2047 encoded word.
	return strings.ReplaceAll(s, "=?", "= ?")
}

// Text is the message in plain text: the subject line, a blank line and
// the body.
func (n Notice) Text() string {
	return n.Subject() + "\n\n" + n.body()
}

// body is the message without its subject, in plain text.
func (n Notice) body() string {
	var p plain
	compose(&p, n)
	return scrub(p.String())
}

// sink renders the parts of a message for one medium.
type sink interface {
	// lit writes text of keysweep's own.
	lit(s string)
	// val writes a value from outside, escaped.
	val(s string)
	// code writes an identifier from outside (a key id, a path), escaped.
	code(s string)
	// link writes a web link, or nothing when rawURL is not a plain
	// http(s) URL.
	link(rawURL, label string)
}

// compose writes the body of n's message to w, once for every medium.
func compose(w sink, n Notice) {
	w.lit("keysweep found an AWS access key where others can read it. Anyone who also has its secret can act as its user.\n\n")
	w.lit("Key: ")
	w.code(n.KeyID)
	w.lit("\n")
	if n.User != "" {
		w.lit("User: ")
		w.code(n.User)
		w.lit("\n")
	}
	if n.Account != "" || n.Partition != "" {
		w.lit("Account: ")
		w.code(n.Account)
		if n.Partition != "" {
			w.lit(" (partition ")
			w.val(n.Partition)
			w.lit(")")
		}
		w.lit("\n")
	}
	if n.Repository != "" {
		w.lit("Repository: ")
		w.code(n.Repository)
		w.lit("\n")
	}
	if n.Commit != "" {
		w.lit("Commit: ")
		w.code(n.Commit)
		w.lit("\n")
	}
	if n.Path != "" {
		w.lit("File: ")
		w.code(n.Path)
		if n.Line > 0 {
			w.lit(fmt.Sprintf(", line %d", n.Line))
		}
		w.lit("\n")
	}
	if safeURL(n.Link) {
		w.lit("Link: ")
		w.link(n.Link, n.Link)
		w.lit("\n")
	}
	if n.ExposedSince != "" {
		w.lit("Exposed since: ")
		w.val(stamp(n.ExposedSince))
		w.lit("\n")
	}
	w.lit("Last used: ")
	if n.LastUsed == "" {
		w.lit("never, or unknown")
	} else {
		w.val(stamp(n.LastUsed))
	}
	w.lit("\n")
	switch n.UsedAfterExposure {
	case "":
	case "yes":
		w.lit("Used after the leak: yes. Someone else may have used it: review what it did in CloudTrail.\n")
	default:
		w.lit("Used after the leak: ")
		w.val(n.UsedAfterExposure)
		w.lit("\n")
	}
	w.lit("\n")
	if n.Action != "" {
		w.lit("What keysweep did: ")
		w.val(n.Action)
		w.lit("\n")
	}
	if !n.Due.IsZero() {
		w.lit("If the key is still active at " + when(n.Due) + ", keysweep will contain it.\n")
	}
	steps := n.Steps
	if len(steps) > maxSteps {
		steps = steps[:maxSteps]
	}
	if len(steps) > 0 {
		w.lit("\nWhat to do:\n")
		for i, s := range steps {
			w.lit(fmt.Sprintf("%d. ", i+1))
			w.val(s)
			w.lit("\n")
		}
		if len(n.Steps) > len(steps) {
			w.lit(fmt.Sprintf("(and %d more steps)\n", len(n.Steps)-len(steps)))
		}
	}
	if u := ConsoleURL(n.Partition, n.User); u != "" {
		w.lit("\nRotate the key (create a new one, move what uses it, then delete this one) in the IAM console: ")
		w.link(u, "IAM console")
		w.lit("\n")
	}
	w.lit("\nThis message holds no secret: keysweep never sends one.\n")
}

// plain renders a message as plain text.
type plain struct{ strings.Builder }

func (p *plain) lit(s string)  { p.WriteString(s) }
func (p *plain) val(s string)  { p.WriteString(clean(s)) }
func (p *plain) code(s string) { p.WriteString(clean(s)) }
func (p *plain) link(rawURL, _ string) {
	if safeURL(rawURL) {
		p.WriteString(rawURL)
	}
}

var _ sink = (*plain)(nil)

// when is t as people read it, in UTC.
func when(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// stamp is an RFC 3339 time as when writes it, or s as it is when it is
// not one.
func stamp(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return when(t)
}

// clean is s bounded in size, with control characters escaped.
func clean(s string) string {
	return escape(clip(s, maxField))
}

// clip cuts s to at most n bytes, on a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// safeURL reports whether rawURL is a plain http(s) URL to a host, with
// no credentials, space or control character: one that can be shown as a
// link.
func safeURL(rawURL string) bool {
	if rawURL == "" || len(rawURL) > 2*maxField || strings.ContainsAny(rawURL, " \"<>\\^`{|}") || escape(rawURL) != rawURL {
		return false
	}
	u, err := url.Parse(rawURL)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// escape makes text from outside safe to show as a line of a message
// (escape.Text): a newline would forge a line, an ANSI escape would drive
// a terminal, a bidi override would show text in another order than it is.
func escape(s string) string { return textescape.Text(s) }

// scrub replaces what has the shape of an AWS secret access key (40
// base64 characters, with upper and lower case letters and a digit, on
// their own or as a path segment) by [redacted]. A Notice has no secret;
// this is the last guard against one passed in a field by mistake. Commit
// ids (lower-case hex) and key ids (20 characters) are left alone.
func scrub(s string) string {
	isB64 := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '+'
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			i++
			continue
		}
		end := i
		for end < len(s) && isB64(s[end]) {
			end++
		}
		// A candidate starts at the run's start or after a slash, and
		// ends at the run's end or before one.
		for j := i; j+40 <= end; j++ {
			if (j == i || s[j-1] == '/') && (j+40 == end || s[j+40] == '/') && secretShaped(s[j:j+40]) {
				b.WriteString(s[last:j])
				b.WriteString("[redacted]")
				last = j + 40
				j += 39
			}
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func secretShaped(run string) bool {
	var upper, lower, digit bool
	for i := 0; i < len(run); i++ {
		c := run[i]
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
		digit = digit || c >= '0' && c <= '9'
	}
	return upper && lower && digit
}

// Sleeper waits d, or until ctx is done. Tests give one that records the
// wait and returns at once.
type Sleeper func(ctx context.Context, d time.Duration) error

// Wait waits with s, or in real time when s is nil.
func (s Sleeper) Wait(ctx context.Context, d time.Duration) error {
	if s != nil {
		return s(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
