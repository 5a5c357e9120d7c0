package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Slack posts to a webhook that takes a Slack incoming webhook's JSON
// ({"text": ...}): Slack's own, or a compatible one (Mattermost,
// Rocket.Chat, ...). The URL is a credential: it is never in an error.
type Slack struct {
	// URL is https, or http to a loopback host (CheckWebhookURL).
	URL string
	// Client posts; nil is one with a 30s timeout that follows no
	// redirect.
	Client *http.Client
	// Attempts and Backoff bound the retries of a failed post (5xx, 429,
	// network errors); the wait doubles each time, or follows Retry-After,
	// and never exceeds a minute.
	Attempts int
	Backoff  time.Duration
	// Sleep waits between attempts; nil waits in real time.
	Sleep Sleeper
}

// maxRetryAfter bounds a wait between attempts: the webhook is not trusted
// to hold keysweep for hours with its Retry-After.
const maxRetryAfter = time.Minute

// CheckWebhookURL refuses a webhook URL that is not https, or plain http
// to a loopback host (localhost, 127.0.0.0/8, ::1): what is posted would
// cross the network in clear. The error does not quote the URL, which is
// a credential.
func CheckWebhookURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("webhook URL: want https://HOST/PATH")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return errors.New("webhook URL is plain http to a host that is not loopback: use https")
	}
	return nil
}

// loopback reports whether host names this machine's loopback interface:
// localhost, 127.0.0.0/8 or ::1.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Notify posts n's message.
func (s *Slack) Notify(ctx context.Context, n Notice) error {
	return s.Post(ctx, n.SlackText())
}

// SlackText is n's message in Slack's markup: the subject in bold, values
// from outside escaped (SlackText) and identifiers in code, so that none
// makes a mention, a link or formatting.
func (n Notice) SlackText() string {
	var w slackSink
	w.WriteString(":rotating_light: *" + SlackText(n.Subject()) + "*\n")
	compose(&w, n)
	return scrub(w.String())
}

// slackSink renders a message in Slack's markup.
type slackSink struct{ strings.Builder }

// lit writes text of keysweep's own, newlines included.
func (w *slackSink) lit(s string) { w.WriteString(slackEscaper.Replace(s)) }
func (w *slackSink) val(s string) { w.WriteString(SlackText(clip(s, maxField))) }

// code shows s as inline code, where Slack makes no formatting and no
// link. Slack has no escape for a backtick: a value that holds one is
// shown as text, still escaped.
func (w *slackSink) code(s string) {
	t := SlackText(clip(s, maxField))
	if t == "" || strings.Contains(t, "`") {
		w.WriteString(t)
		return
	}
	w.WriteString("`" + t + "`")
}

func (w *slackSink) link(rawURL, label string) {
	if safeURL(rawURL) {
		w.WriteString(SlackLink(rawURL, SlackText(label)))
	}
}

var _ sink = (*slackSink)(nil)

// slackEscaper escapes the three characters Slack reads as markup.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// SlackText keeps s from being read as Slack markup: &, < and > escaped
// as Slack documents, so that no mention (<!channel>, <@U123>) or link
// can be made of it, and control characters escaped (\n, \x1b), so that
// it cannot start a line of its own. Formatting (*bold*) is left as it is.
func SlackText(s string) string {
	return escape(slackEscaper.Replace(s))
}

// SlackLink is <rawURL|text>, text being escaped already, or text alone
// when rawURL is not a plain http(s) URL to a host without credentials.
// Characters that would end the URL early (|, >) or open markup (<) are
// percent-encoded, & is escaped.
func SlackLink(rawURL, text string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		strings.ContainsRune(rawURL, ' ') || escape(rawURL) != rawURL {
		return text
	}
	safe := strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", "&", "&amp;").Replace(rawURL)
	return "<" + safe + "|" + text + ">"
}

// Post sends text as {"text": text}, retrying failures that may pass:
// network errors, 429 and 5xx.
func (s *Slack) Post(ctx context.Context, text string) error {
	if err := CheckWebhookURL(s.URL); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return err
	}
	client := s.Client
	if client == nil {
		client = &http.Client{
			Timeout: 30 * time.Second,
			// A redirect would take the message, and a retry, elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	wait := s.Backoff
	if wait <= 0 {
		wait = 2 * time.Second
	}
	attempts := max(s.Attempts, 1)
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if err := s.Sleep.Wait(ctx, min(wait, maxRetryAfter)); err != nil {
				return err
			}
			wait = min(2*wait, maxRetryAfter)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
		if err != nil {
			return errors.New("notify: cannot make a request of the webhook URL")
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			// The URL is a credential (a Slack webhook's is): keep it out.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			if ctx.Err() != nil {
				return fmt.Errorf("notify: %w", ctx.Err())
			}
			last = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("webhook answered %s", statusText(resp))
			if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
				wait = d
			}
		default:
			return fmt.Errorf("notify: webhook answered %s", statusText(resp))
		}
	}
	return fmt.Errorf("notify: %d attempts failed, the last: %w", attempts, last)
}

// retryAfter reads a Retry-After of delay-seconds, capped at
// maxRetryAfter. The HTTP-date form is not read (the wait then is the
// backoff): webhooks answer in seconds.
func retryAfter(v string) (time.Duration, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || secs <= 0 {
		return 0, false
	}
	if secs >= int64(maxRetryAfter/time.Second) {
		return maxRetryAfter, true
	}
	return time.Duration(secs) * time.Second, true
}

// statusText is the status line of resp, escaped: the server wrote it.
func statusText(resp *http.Response) string {
	return escape(clip(resp.Status, 100))
}
