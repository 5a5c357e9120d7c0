package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
	// run.go's notify is the sweep's step that posts.
	webhook "github.com/keysweep/keysweep/notify"
)

// Notifier posts a message about new findings to a webhook that takes a
// Slack incoming webhook's JSON ({"text": ...}), through package notify's
// Slack. It never sends a secret.
type Notifier struct {
	URL    string
	Client *http.Client
	// Attempts and Backoff bound the retries of a failed post (5xx, 429,
	// network errors); the wait doubles each time, or follows Retry-After,
	// and never exceeds a minute.
	Attempts int
	Backoff  time.Duration
	// MaxLines limits the findings listed; the rest are counted.
	MaxLines int
	// Sleep waits between attempts; nil waits in real time.
	Sleep Sleeper
}

// Message is the text posted for new findings, with links to the commits:
// those of the outcomes that did not fail, as the report has them.
func (n *Notifier) Message(scope string, outcomes []Outcome) (string, int) {
	var lines []string
	count := 0
	for _, o := range outcomes {
		if o.Err != nil {
			continue
		}
		for _, f := range o.New {
			count++
			if len(lines) >= max(n.MaxLines, 1) {
				continue
			}
			lines = append(lines, findingLine(o.Repo, f))
		}
	}
	if count == 0 {
		return "", 0
	}
	noun := "secrets"
	if count == 1 {
		noun = "secret"
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: keysweep: %d new %s in %s\n", count, noun, webhook.SlackText(scope))
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if count > len(lines) {
		fmt.Fprintf(&b, "... and %d more (see the sweep's report)\n", count-len(lines))
	}
	return b.String(), count
}

// findingLine is a finding's line of the message. Every field comes from
// the API, the scanned repository or the AWS answer, and is escaped.
func findingLine(r Repo, f finding.Finding) string {
	commit := f.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	commit = webhook.SlackText(commit)
	if r.HTMLURL != "" && f.Commit != "" {
		commit = webhook.SlackLink(r.HTMLURL+"/commit/"+f.Commit, commit)
	}
	status := "not verified"
	if v := f.Verification; v != nil {
		status = v.Status
		if v.Account != "" {
			status += " (account " + v.Account + ")"
		}
	}
	return fmt.Sprintf("• %s `%s` %s:%d commit %s, %s", webhook.SlackText(r.FullName), webhook.SlackText(f.RuleID), webhook.SlackText(f.Path), f.Line, commit, webhook.SlackText(status))
}

// Post sends text, retrying failures that may pass (package notify's
// Slack.Post: https, or http to a loopback host only).
func (n *Notifier) Post(ctx context.Context, text string) error {
	s := &webhook.Slack{URL: n.URL, Client: n.Client, Attempts: n.Attempts, Backoff: n.Backoff, Sleep: n.Sleep}
	return s.Post(ctx, text)
}
