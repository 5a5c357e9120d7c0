package report

import (
	"github.com/keysweep/keysweep/finding"

	"fmt"
	"io"
	"strings"
)

// Refusal is the message that stops a push: what was found, where, how to
// fix it and how to let it through. git relays a server hook's output to
// the pusher line by line, so it is plain text, with no color.
type Refusal struct {
	// Title says what was refused, such as "push refused".
	Title string
	// Refs are the refs the push updates.
	Refs []string
	// MaxShown limits how many findings are listed; the rest are counted.
	MaxShown int
	// Unbuilt counts findings beyond those given, not built for output
	// (building costs a fingerprint each): they are counted, not listed.
	Unbuilt int
	// Bypass returns the lines that explain how to let the push through
	// when a finding is a false positive, given the fingerprints shown.
	Bypass func(fingerprints []string) []string
}

// WriteRefusal writes the message for findings (built for output, so
// already redacted) to w. What comes from the pushed content is escaped:
// git relays the message to the pusher's terminal, and whoever wrote the
// commits need not be the one who pushes them.
func WriteRefusal(w io.Writer, fs []finding.Finding, r Refusal) error {
	var b strings.Builder
	total := len(fs) + r.Unbuilt
	noun := "secrets"
	if total == 1 {
		noun = "secret"
	}
	fmt.Fprintf(&b, "\n%s: it adds %d %s", Escape(r.Title), total, noun)
	if len(r.Refs) > 0 {
		refs := make([]string, len(r.Refs))
		for i, ref := range r.Refs {
			refs[i] = Escape(ref)
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(refs, ", "))
	}
	b.WriteString("\n")
	shown := fs
	if r.MaxShown > 0 && len(shown) > r.MaxShown {
		shown = shown[:r.MaxShown]
	}
	var prints []string
	seen := make(map[string]bool)
	for _, f := range shown {
		where := location(f)
		f := escapeFinding(f)
		fmt.Fprintf(&b, "\n  %s  %s\n", f.RuleID, f.Description)
		if f.Commit != "" {
			fmt.Fprintf(&b, "    commit       %s", shortID(f.Commit))
			if f.Author != "" {
				fmt.Fprintf(&b, " by %s", f.Author)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "    location     %s:%d", where, f.Line)
		if f.Decoded != "" {
			fmt.Fprintf(&b, " (decoded from %s)", f.Decoded)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "    secret       %s", f.Secret)
		if f.KeyID != "" {
			fmt.Fprintf(&b, " (key id %s)", f.KeyID)
		}
		b.WriteString("\n")
		if v := f.Verification; v != nil {
			fmt.Fprintf(&b, "    verified     %s\n", describeVerification(v))
		}
		fmt.Fprintf(&b, "    fingerprint  %s\n", f.Fingerprint)
		if !seen[f.Fingerprint] {
			seen[f.Fingerprint] = true
			prints = append(prints, f.Fingerprint)
		}
	}
	if n := total - len(shown); n > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more not shown\n", n)
	}
	b.WriteString(`
How to fix it:
  1. Remove each secret from the commit that added it. For the last
     commit: edit the file, "git add" it, "git commit --amend". For an
     earlier one: "git rebase -i <commit>~1", mark it "edit", fix, continue.
  2. Push again.
  A secret that has been pushed anywhere, or shared, is leaked: revoke it
  and issue a new one, even after it is removed from the history.
`)
	if r.Bypass != nil {
		if lines := r.Bypass(prints); len(lines) > 0 {
			b.WriteString("\nIf a finding is a false positive or a harmless test value:\n")
			for _, line := range lines {
				b.WriteString("  " + Escape(line) + "\n")
			}
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
