package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSlackText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "deploy/prod.env", "deploy/prod.env"},
		{"channel mention", "<!channel>", "&lt;!channel&gt;"},
		{"user mention", "<@U123>", "&lt;@U123&gt;"},
		{"link", "<http://evil|x>", "&lt;http://evil|x&gt;"},
		{"already escaped", "&lt;!here&gt;", "&amp;lt;!here&amp;gt;"},
		{"formatting is kept", "*bold* _it_ ~s~", "*bold* _it_ ~s~"},
		{"ANSI", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"newline", "a.env\n• acme/api fake:1", `a.env\n• acme/api fake:1`},
		{"bidi", "x\u202eenv.exe", `x\u202eenv.exe`},
	} {
		if got := SlackText(tc.in); got != tc.want {
			t.Errorf("%s: SlackText(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestSlackLink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"https://github.com/acme/api/commit/1", "<https://github.com/acme/api/commit/1|t>"},
		{"https://github.com/acme/x|click>", "<https://github.com/acme/x%7Cclick%3E|t>"},
		{"https://example.com/?a=1&b=2", "<https://example.com/?a=1&amp;b=2|t>"},
		{"javascript:alert(1)//", "t"},
		{"https://user:pw@example.com/", "t"},
		{"https://example.com/a b", "t"},
		{"https://example.com/\n", "t"},
		{"/relative", "t"},
	} {
		if got := SlackLink(tc.url, "t"); got != tc.want {
			t.Errorf("SlackLink(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// TestNoticeSlackText: a hostile value in any field makes no mention, link
// or line of its own; identifiers are shown as code.
func TestNoticeSlackText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		path string
		want string
	}{
		{"plain", "deploy/prod.env", "File: `deploy/prod.env`, line 2\n"},
		{"mention", "<!channel>", "File: `&lt;!channel&gt;`, line 2\n"},
		{"link", "<http://evil|x>", "File: `&lt;http://evil|x&gt;`, line 2\n"},
		{"bold is code", "*bold*", "File: `*bold*`, line 2\n"},
		{"a backtick: text, not code", "a`<!here>`b", "File: a`&lt;!here&gt;`b, line 2\n"},
		{"ANSI", "\x1b[2Jx", "File: `\\x1b[2Jx`, line 2\n"},
		{"newline", "x\nKey: `AKIAFAKE`", "File: x\\nKey: `AKIAFAKE`, line 2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := fullNotice()
			n.Path = tc.path
			n.User = "<!everyone>"
			n.Steps = []string{"<@U123> &"}
			got := n.SlackText()
			if !strings.Contains(got, tc.want) {
				t.Errorf("lacks %q:\n%s", tc.want, got)
			}
			for _, bad := range []string{"<!", "<@", "<http://evil", "\x1b"} {
				if strings.Contains(got, bad) {
					t.Errorf("holds %q:\n%s", bad, got)
				}
			}
			for _, want := range []string{
				":rotating_light: *keysweep: leaked AWS key AKIAIOSFODNN7EXAMPLE of user &lt;!everyone&gt; in account 111122223333:",
				"User: `&lt;!everyone&gt;`\n",
				"1. &lt;@U123&gt; &amp;\n",
				"Link: <https://github.com/acme/infra/blob/" + commitID + "/deploy/prod.env#L2|",
				"<https://console.aws.amazon.com/iam/home#/users/details/%3C%21everyone%3E?section=security_credentials|IAM console>",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("lacks %q:\n%s", want, got)
				}
			}
		})
	}
}

func TestCheckWebhookURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T0/B0/XXX", true},
		{"https://chat.example.com:8443/hooks/x", true},
		{"http://127.0.0.1:8080/hook", true},
		{"http://127.1.2.3/hook", true},
		{"http://[::1]:9000/hook", true},
		{"http://localhost/hook", true},
		{"http://hooks.slack.com/services/T0/B0/XXX", false},
		{"http://10.0.0.1/hook", false},
		{"http://localhost.evil.example/hook", false},
		{"ftp://example.com/hook", false},
		{"hooks.slack.com/services/x", false},
		{"https:///nohost", false},
		{"", false},
	} {
		err := CheckWebhookURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckWebhookURL(%q) = %v", tc.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "XXX") {
			t.Errorf("the error quotes the URL: %v", err)
		}
	}
}

// hook is a webhook on 127.0.0.1 that answers the queued responses (then
// 200) and records each post's text.
type hook struct {
	*httptest.Server
	mu      sync.Mutex
	answers []answer
	texts   []string
}

type answer struct {
	status     int
	retryAfter string
}

func newHook(t *testing.T, answers ...answer) *hook {
	h := &hook{answers: answers}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg map[string]string
		if err := json.Unmarshal(body, &msg); err != nil || len(msg) != 1 || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("body %q, content type %q", body, r.Header.Get("Content-Type"))
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.texts = append(h.texts, msg["text"])
		if len(h.answers) == 0 {
			_, _ = io.WriteString(w, "ok")
			return
		}
		a := h.answers[0]
		h.answers = h.answers[1:]
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		http.Error(w, "no", a.status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) posts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.texts...)
}

func TestSlackPostRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answers []answer
		posts   int
		waits   []time.Duration
		err     string
	}{{
		name:  "first time",
		posts: 1,
	}, {
		name:    "5xx, then backoff doubling",
		answers: []answer{{status: 503}, {status: 502}},
		posts:   3,
		waits:   []time.Duration{time.Second, 2 * time.Second},
	}, {
		name:    "429 with Retry-After",
		answers: []answer{{status: 429, retryAfter: "7"}},
		posts:   2,
		waits:   []time.Duration{7 * time.Second},
	}, {
		name:    "Retry-After capped",
		answers: []answer{{status: 429, retryAfter: "86400"}, {status: 429, retryAfter: "99999999999999999"}},
		posts:   3,
		waits:   []time.Duration{time.Minute, time.Minute},
	}, {
		name:    "Retry-After not a number",
		answers: []answer{{status: 503, retryAfter: "-5"}, {status: 503, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"}},
		posts:   3,
		waits:   []time.Duration{time.Second, 2 * time.Second},
	}, {
		name:    "gives up",
		answers: []answer{{status: 500}, {status: 500}, {status: 500}, {status: 500}},
		posts:   4,
		waits:   []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		err:     "notify: 4 attempts failed, the last: webhook answered 500 Internal Server Error",
	}, {
		name:    "4xx is not retried",
		answers: []answer{{status: 404}},
		posts:   1,
		err:     "notify: webhook answered 404 Not Found",
	}, {
		name:    "a redirect is not followed",
		answers: []answer{{status: 307}},
		posts:   1,
		err:     "notify: webhook answered 307 Temporary Redirect",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHook(t, tc.answers...)
			var waits []time.Duration
			s := &Slack{URL: h.URL + "/services/T0/B0/XXXSECRETPATH", Attempts: 4, Backoff: time.Second,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			err := s.Post(context.Background(), "hello <!channel>")
			if got := errString(err); got != tc.err {
				t.Errorf("error %q, want %q", got, tc.err)
			}
			if diff := cmp.Diff(tc.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			posts := h.posts()
			if len(posts) != tc.posts || posts[0] != "hello <!channel>" {
				t.Errorf("posts %q, want %d", posts, tc.posts)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSlackPostNetworkErrors(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	url := h.URL + "/services/T0/B0/XXXSECRETPATH"
	h.Close() // nothing listens any more
	var waits int
	s := &Slack{URL: url, Attempts: 3, Backoff: time.Second,
		Sleep: func(context.Context, time.Duration) error { waits++; return nil }}
	err := s.Post(context.Background(), "x")
	if err == nil || waits != 2 || !strings.Contains(err.Error(), "3 attempts failed") {
		t.Fatalf("err %v after %d waits", err, waits)
	}
	if strings.Contains(err.Error(), "XXXSECRETPATH") {
		t.Errorf("the error quotes the URL: %v", err)
	}

	// A cancelled wait ends the retries.
	stop := errors.New("stop")
	s.Sleep = func(context.Context, time.Duration) error { return stop }
	if err := s.Post(context.Background(), "x"); !errors.Is(err, stop) {
		t.Errorf("err %v, want the sleeper's", err)
	}
}

func TestSlackRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	s := &Slack{URL: "http://hooks.example.com/services/XXXSECRETPATH", Sleep: func(context.Context, time.Duration) error {
		t.Error("waited")
		return nil
	}}
	err := s.Notify(context.Background(), fullNotice())
	if err == nil || !strings.Contains(err.Error(), "plain http") || strings.Contains(err.Error(), "XXX") {
		t.Errorf("err %v", err)
	}
}

func TestSlackNotify(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	n := fullNotice()
	if err := (&Slack{URL: h.URL}).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{n.SlackText()}, h.posts()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
