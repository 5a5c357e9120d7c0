package verify

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/providertest"
)

// session opens a Session of providers, each pointed at its stand-in on
// s, whose waits (Retry-After) return at once and are recorded in waits
// when it is not nil.
func session(t *testing.T, s *providertest.Server, waits *[]time.Duration, providers ...string) *Session {
	t.Helper()
	endpoints, err := ParseEndpoints(s.Endpoints(providers...))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := Open(Options{
		Providers: providers, Workers: 4, Timeout: 5 * time.Second, Endpoints: endpoints,
		Sleep: func(_ context.Context, d time.Duration) error {
			if waits != nil {
				*waits = append(*waits, d)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// verifyOne verifies one finding of rule with secret (and the rule's
// context, if any) and returns its verification, nil when it was not
// verified.
func verifyOne(t *testing.T, sess *Session, rule, secret string, context map[string]string) *finding.Verification {
	t.Helper()
	fs := []finding.Finding{{RuleID: rule, Secret: secret, Context: context, Path: "x", Line: 1}}
	sess.Process(t.Context(), fs)
	return fs[0].Verification
}

// providerCase is a row of a provider's table.
type providerCase struct {
	name         string
	rule, secret string
	context      map[string]string
	// serve replaces the provider's stand-in (a failing or strange
	// service).
	serve func(s *providertest.Server)
	// limited answers the first requests 429, with the Retry-After
	// runProvider is given.
	limited int
	want    *finding.Verification
	waits   []time.Duration
	// calls are the requests the stand-in got: "METHOD /path".
	calls []string
}

// sentCheck checks that a request carried the secret where the provider
// takes it, and nowhere else.
type sentCheck func(t *testing.T, c providertest.Call, secret string)

// inHeader: the secret only in header name, as format puts it.
func inHeader(name, format string) sentCheck {
	return func(t *testing.T, c providertest.Call, secret string) {
		t.Helper()
		if got, want := c.Header.Get(name), fmt.Sprintf(format, secret); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
		h := c.Header.Clone()
		h.Del(name)
		notElsewhere(t, c, h, secret)
	}
}

// nowhere: the secret is not sent at all (a key that signs).
func nowhere(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	notElsewhere(t, c, c.Header, secret)
}

// inPath: the secret (or its parts) only in the path, as the provider's
// API requires.
func inPath(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	c.Path = ""
	notElsewhere(t, c, c.Header, secret)
	if c.Header.Get("Authorization") != "" {
		t.Error("an Authorization header was sent")
	}
}

// notElsewhere checks that the secret (a webhook's token, for a URL) is
// in none of the request's path, query, body and headers h, plainly,
// percent-encoded or in basic auth.
func notElsewhere(t *testing.T, c providertest.Call, h http.Header, secret string) {
	t.Helper()
	parts := []string{secret}
	if u, err := url.Parse(secret); err == nil && u.Host != "" {
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
		parts = parts[len(parts)-1:] // the webhook's token
	}
	for _, p := range parts {
		forms := []string{p, url.QueryEscape(p), base64.StdEncoding.EncodeToString([]byte("api:" + p))}
		for _, where := range []string{c.Path, c.Query.Encode(), string(c.Body), fmt.Sprint(h)} {
			for _, form := range forms {
				if strings.Contains(where, form) {
					t.Errorf("the secret was sent in %.80q", where)
				}
			}
		}
	}
}

// runProvider runs a provider's table against its stand-in (serve),
// rate limits answered with retryAfter, checking each request with sent.
func runProvider(t *testing.T, provider string, serve func(s *providertest.Server), sent sentCheck, retryAfter string, tests []providerCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := providertest.New(t)
			if tt.serve != nil {
				tt.serve(s)
			} else {
				serve(s)
			}
			if tt.limited > 0 {
				s.RateLimit(provider, tt.limited, retryAfter)
			}
			var waits []time.Duration
			got := verifyOne(t, session(t, s, &waits, provider), tt.rule, tt.secret, tt.context)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verification (-want +got):\n%s", diff)
			}
			if got != nil && (strings.Contains(got.Error, tt.secret) || strings.Contains(got.Identity, tt.secret)) {
				t.Error("the verification holds the secret")
			}
			if diff := cmp.Diff(tt.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			var calls []string
			host := strings.TrimPrefix(s.URL, "http://")
			for _, c := range s.Calls("") {
				calls = append(calls, c.Method+" "+c.Path)
				if c.Provider != provider || c.Host != host {
					t.Errorf("a request to %s at %s", c.Provider, c.Host)
				}
				sent(t, c, tt.secret)
			}
			if diff := cmp.Diff(tt.calls, calls); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// failing answers every request of provider with status and body.
func failing(provider string, status int, body string) func(s *providertest.Server) {
	return func(s *providertest.Server) {
		s.Handle(provider, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		})
	}
}

func verifiedAs(provider, identity string, scopes ...string) *finding.Verification {
	return &finding.Verification{Status: finding.StatusVerified, Provider: provider, Identity: identity, Scopes: scopes}
}

func invalidAs(provider, why string) *finding.Verification {
	return &finding.Verification{Status: finding.StatusInvalid, Provider: provider, Error: why}
}

func unknownAs(provider, why string) *finding.Verification {
	return &finding.Verification{Status: finding.StatusUnknown, Provider: provider, Error: why}
}
