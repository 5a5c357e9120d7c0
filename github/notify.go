package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
)

// Notifier posts a message about new findings to a webhook that takes a
// Slack incoming webhook's JSON ({"text": ...}). It never sends a secret.
type Notifier struct {
	URL    string
	Client *http.Client
	// Attempts and Backoff bound the retries of a failed post (5xx, 429,
	// network errors); the wait doubles each time, or follows Retry-After.
	Attempts int
	Backoff  time.Duration
	// MaxLines limits the findings listed; the rest are counted.
	MaxLines int
	// Sleep waits between attempts; nil waits in real time.
	Sleep Sleeper
}

// maxRetryAfter bounds the wait a webhook's Retry-After asks for: the
// server is not trusted to hold the sweep for hours.
const maxRetryAfter = time.Minute

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
	fmt.Fprintf(&b, ":rotating_light: keysweep: %d new %s in %s\n", count, noun, slackText(scope))
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
	commit = slackText(commit)
	if r.HTMLURL != "" && f.Commit != "" {
		commit = slackLink(r.HTMLURL+"/commit/"+f.Commit, commit)
	}
	status := "not verified"
	if v := f.Verification; v != nil {
		status = v.Status
		if v.Account != "" {
			status += " (account " + v.Account + ")"
		}
	}
	return fmt.Sprintf("• %s `%s` %s:%d commit %s, %s", slackText(r.FullName), slackText(f.RuleID), slackText(f.Path), f.Line, commit, slackText(status))
}

// slackText keeps s from being read as Slack markup: &, < and > escaped
// as Slack documents, so that no mention (<!channel>, <@U123>) or link can
// be made of it, and control characters as report.Escape does, so that it
// cannot start a line of its own.
func slackText(s string) string {
	return report.Escape(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s))
}

// slackLink is <rawURL|text>, text being escaped already, or text alone
// when rawURL is not a plain http(s) URL. Characters that would end the
// URL early (|, >) or open markup (<) are percent-encoded, & is escaped.
func slackLink(rawURL, text string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		strings.ContainsRune(rawURL, ' ') || report.Escape(rawURL) != rawURL {
		return text
	}
	safe := strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", "&", "&amp;").Replace(rawURL)
	return "<" + safe + "|" + text + ">"
}

// Post sends text, retrying failures that may pass.
func (n *Notifier) Post(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return err
	}
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	wait := n.Backoff
	if wait <= 0 {
		wait = 2 * time.Second
	}
	attempts := max(n.Attempts, 1)
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if err := n.Sleep.sleep(ctx, wait); err != nil {
				return err
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			// The URL is a credential (a Slack webhook's is): keep it out.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			last = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("webhook answered %s", resp.Status)
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = min(time.Duration(s)*time.Second, maxRetryAfter)
			}
		default:
			return fmt.Errorf("notify: webhook answered %s", resp.Status)
		}
	}
	return fmt.Errorf("notify: %d attempts failed, the last: %w", attempts, last)
}
