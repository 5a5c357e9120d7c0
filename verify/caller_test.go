package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/limit"
)

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, provider, url, err string
	}{
		{"github=https://ghe.example.com/api/v3", "github", "https://ghe.example.com/api/v3", ""},
		{" gitlab = https://gitlab.example.com ", "gitlab", "https://gitlab.example.com", ""},
		{"slack=http://127.0.0.1:8080/slack", "slack", "http://127.0.0.1:8080/slack", ""},
		{"slack=http://[::1]:8080", "slack", "http://[::1]:8080", ""},
		{"slack=http://localhost:8080", "slack", "http://localhost:8080", ""},
		{"slack=http://hooks.example.com", "", "", "plain http only to a loopback address"},
		{"slack=http://10.0.0.8", "", "", "plain http only to a loopback address"},
		{"github=ftp://example.com", "", "", `scheme "ftp"`},
		{"github=https://user:pw@example.com", "", "", "not a base URL"},
		{"github=https://example.com/?token=x", "", "", "not a base URL"},
		{"https://example.com", "", "", "want PROVIDER=URL"},
		{"=https://example.com", "", "", "want PROVIDER=URL"},
	}
	for _, tt := range tests {
		name, u, err := ParseEndpoint(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case name != tt.provider || u.String() != tt.url:
			t.Errorf("%q: %s %s", tt.in, name, u)
		}
	}
	got, err := ParseEndpoints([]string{"github=https://a.example, slack=https://b.example", "", "gitlab=https://c.example"})
	if err != nil || len(got) != 3 || got["slack"].Host != "b.example" {
		t.Errorf("ParseEndpoints: %v %v", got, err)
	}
}

// testProvider is a provider whose one rule is verified by GET /check
// with the secret as a bearer token: 200 live, 401 dead.
func testProvider(base string, calls *atomic.Int32) *Provider {
	return &Provider{Name: "test", Base: base, Verifiers: []Verifier{{
		Rules: []string{"test-token"},
		Calls: []string{"GET " + base + "/check"},
		Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
			if calls != nil {
				calls.Add(1)
			}
			resp, err := c.Do(ctx, Request{Path: "/check", Header: http.Header{"Authorization": {"Bearer " + f.Secret}}})
			if err != nil {
				return Unknown("%v (token %s)", err, f.Secret)
			}
			return ByStatus(resp, func(r *Response) string { return Field(r, "login") })
		},
	}}}
}

func testSession(t *testing.T, p *Provider, override string, waits *[]time.Duration) *Session {
	t.Helper()
	opts := Options{Workers: 2, Timeout: 2 * time.Second, catalog: []*Provider{p}, Sleep: func(_ context.Context, d time.Duration) error {
		if waits != nil {
			*waits = append(*waits, d)
		}
		return nil
	}}
	if override != "" {
		u, err := url.Parse(override)
		if err != nil {
			t.Fatal(err)
		}
		opts.Endpoints = map[string]*url.URL{p.Name: u}
	}
	sess, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestCallerRefusesPrivateAddresses: without an override, a provider's
// host that resolves to a loopback, private or link-local address is not
// connected to, so that DNS (or a rebinding) cannot send a secret inside
// the network. The same server given as an override is asked.
func TestCallerRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"login":"octocat"}`))
	}))
	t.Cleanup(srv.Close)

	v := verifyOne(t, testSession(t, testProvider(srv.URL, nil), "", nil), "test-token", "tok_live_1", nil)
	if v == nil || v.Status != finding.StatusUnknown || !strings.Contains(v.Error, "not a public address") {
		t.Errorf("verification %+v, want unknown: not a public address", v)
	}
	if strings.Contains(v.Error, "tok_live_1") {
		t.Error("the error holds the secret")
	}
	if hits.Load() != 0 {
		t.Errorf("the private address was asked %d times", hits.Load())
	}
	v = verifyOne(t, testSession(t, testProvider("https://api.example.invalid", nil), srv.URL, nil), "test-token", "tok_live_1", nil)
	if v == nil || v.Status != finding.StatusVerified || v.Identity != "octocat" || v.Provider != "test" {
		t.Errorf("through the override: %+v", v)
	}
}

// TestCallerNeverFollowsRedirects: a provider (or whoever answers for it)
// that redirects is not followed, so the secret never reaches the other
// host; the answer is unknown.
func TestCallerNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { stolen.Add(1) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/check", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	v := verifyOne(t, testSession(t, testProvider("https://api.example.invalid", nil), srv.URL, nil), "test-token", "tok_live_1", nil)
	if v == nil || v.Status != finding.StatusUnknown || !strings.Contains(v.Error, "redirected") {
		t.Errorf("verification %+v", v)
	}
	if stolen.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

// TestCallerRetryAfter: 429 and 503 are asked again after the wait
// Retry-After names, at most three times; a wait longer than MaxWait is
// not sat through (unknown).
func TestCallerRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answers    []int
		retryAfter string
		want       string
		waits      []time.Duration
		calls      int32
	}{
		{"429 twice, then live", []int{429, 429, 200}, "2", finding.StatusVerified, []time.Duration{2 * time.Second, 2 * time.Second}, 3},
		{"503 once, then dead", []int{503, 401}, "1", finding.StatusInvalid, []time.Duration{time.Second}, 2},
		{"429 three times", []int{429, 429, 429, 200}, "1", finding.StatusUnknown, []time.Duration{time.Second, time.Second}, 3},
		{"a wait too long to sit through", []int{429, 200}, "3600", finding.StatusUnknown, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				i := n.Add(1) - 1
				if code := tt.answers[i]; code != 200 {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(code)
					return
				}
				_, _ = w.Write([]byte(`{"login":"octocat"}`))
			}))
			t.Cleanup(srv.Close)
			var waits []time.Duration
			v := verifyOne(t, testSession(t, testProvider("https://api.example.invalid", nil), srv.URL, &waits), "test-token", "tok", nil)
			if v == nil || v.Status != tt.want {
				t.Errorf("verification %+v, want %s", v, tt.want)
			}
			if n.Load() != tt.calls || len(waits) != len(tt.waits) {
				t.Fatalf("%d calls, waits %v; want %d, %v", n.Load(), waits, tt.calls, tt.waits)
			}
			for i := range waits {
				if waits[i] != tt.waits[i] {
					t.Errorf("waits %v, want %v", waits, tt.waits)
				}
			}
		})
	}
}

// TestSessionOneCallPerSecret: each distinct secret is asked once,
// however many findings hold it; findings already verified, without a
// secret, or redacted are not asked.
func TestSessionOneCallPerSecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer tok_live_1" {
			_, _ = w.Write([]byte(`{"login":"octocat"}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	var calls atomic.Int32
	sess := testSession(t, testProvider("https://api.example.invalid", &calls), srv.URL, nil)
	var fs []finding.Finding
	for range 20 {
		fs = append(fs, finding.Finding{RuleID: "test-token", Secret: "tok_live_1"}, finding.Finding{RuleID: "test-token", Secret: "tok_dead_2"})
	}
	done := &finding.Verification{Status: finding.StatusInvalid}
	fs = append(fs, finding.Finding{RuleID: "test-token", Secret: "tok_3", Verification: done},
		finding.Finding{RuleID: "test-token", Secret: finding.Redact("tok_live_1_long_enough_to_keep")},
		finding.Finding{RuleID: "other-rule", Secret: "tok_live_1"})
	sess.Process(t.Context(), fs)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls for 2 distinct secrets", n)
	}
	for i, f := range fs[:40] {
		want := finding.StatusVerified
		if i%2 == 1 {
			want = finding.StatusInvalid
		}
		if f.Verification == nil || f.Verification.Status != want {
			t.Fatalf("finding %d: %+v, want %s", i, f.Verification, want)
		}
	}
	if fs[40].Verification != done || fs[41].Verification != nil || fs[42].Verification != nil {
		t.Errorf("findings not to verify: %+v %+v %+v", fs[40].Verification, fs[41].Verification, fs[42].Verification)
	}
	if got := sess.Summary(); got[finding.StatusVerified] != 1 || got[finding.StatusInvalid] != 1 {
		t.Errorf("summary %v", got)
	}
}

func TestOpenRefusesUnknownProviders(t *testing.T) {
	t.Parallel()
	if _, err := Open(Options{Providers: []string{"myspace"}}); err == nil || !strings.Contains(err.Error(), `unknown provider "myspace"`) {
		t.Errorf("providers: %v", err)
	}
	u, _ := url.Parse("https://x.example")
	if _, err := Open(Options{Endpoints: map[string]*url.URL{"myspace": u}}); err == nil || !strings.Contains(err.Error(), `unknown provider "myspace"`) {
		t.Errorf("endpoints: %v", err)
	}
}

// TestSessionsShareOneLimit: sessions given one Limiter (AWS and the
// other providers, several repositories of a sweep at once) never have
// more calls in flight together than it allows.
func TestSessionsShareOneLimit(t *testing.T) {
	t.Parallel()
	var in, most atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := in.Add(1)
		defer in.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		_, _ = w.Write([]byte(`{"login":"octocat"}`))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	shared := limit.New(2)
	open := func() *Session {
		sess, err := Open(Options{Workers: 8, Timeout: 5 * time.Second, Limit: shared, catalog: []*Provider{testProvider("https://api.example.invalid", nil)},
			Endpoints: map[string]*url.URL{"test": u}})
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	a, b := open(), open()
	var wg sync.WaitGroup
	for i, sess := range []*Session{a, b, a, b} {
		wg.Go(func() {
			var fs []finding.Finding
			for j := range 5 {
				fs = append(fs, finding.Finding{RuleID: "test-token", Secret: "tok_" + string(rune('a'+i)) + string(rune('a'+j))})
			}
			sess.Process(t.Context(), fs)
		})
	}
	// A call is let finish only once two are in flight (or all that
	// remain): without the limit, more would be by then.
	go func() {
		for left := 20; left > 0; {
			if in.Load() >= int32(min(2, left)) {
				release <- struct{}{}
				left--
				continue
			}
			runtime.Gosched()
		}
	}()
	wg.Wait()
	if most.Load() > 2 {
		t.Errorf("%d calls in flight at once, the limit is 2", most.Load())
	}
	if most.Load() < 2 {
		t.Errorf("only %d call in flight at once: the limit was not used", most.Load())
	}
}
