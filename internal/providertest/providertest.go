// Package providertest serves stand-ins for the services whose secrets
// keysweep verifies (GitHub, Slack, Stripe, ...) on 127.0.0.1, each under
// a path of its own: a verifier is pointed at one with
// --verify-endpoint PROVIDER=Base(PROVIDER). Each behaves like its
// service: its auth scheme, its answers and bodies for live, dead and
// limited secrets, 429 with Retry-After. Every request is recorded.
package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Call is a request a stand-in answered.
type Call struct {
	Provider string
	Method   string
	// Path is the path below the provider's base, Query its query.
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	Host   string
}

// Server is a running set of stand-ins.
type Server struct {
	*httptest.Server

	mux   *http.ServeMux
	mu    sync.Mutex
	calls []Call
	// limit holds, by provider, how many requests are still to answer
	// 429 with Retry-After, and the Retry-After value.
	limit map[string]*limit
}

type limit struct {
	n          int
	retryAfter string
}

// New starts an empty Server that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{mux: http.NewServeMux(), limit: map[string]*limit{}}
	s.Server = httptest.NewServer(s.mux)
	t.Cleanup(s.Close)
	return s
}

// Base is the URL to give --verify-endpoint for provider.
func (s *Server) Base(provider string) string { return s.URL + "/" + provider }

// Endpoints maps every provider handled to its base URL, as
// verify.Options.Endpoints takes them once parsed.
func (s *Server) Endpoints(providers ...string) []string {
	var out []string
	for _, p := range providers {
		out = append(out, p+"="+s.Base(p))
	}
	return out
}

// Handle serves provider with h, below Base(provider): h sees the path
// below it.
func (s *Server) Handle(provider string, h http.HandlerFunc) {
	prefix := "/" + provider
	s.mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		path := strings.TrimPrefix(r.URL.Path, prefix)
		s.mu.Lock()
		s.calls = append(s.calls, Call{Provider: provider, Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Host: r.Host})
		l := s.limit[provider]
		limited := l != nil && l.n > 0
		if limited {
			l.n--
		}
		s.mu.Unlock()
		if limited {
			w.Header().Set("Retry-After", l.retryAfter)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message":"rate limited"}`)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = path
		r2.Body = io.NopCloser(strings.NewReader(string(body)))
		h(w, r2)
	})
}

// RateLimit answers provider's next n requests with 429 and Retry-After.
func (s *Server) RateLimit(provider string, n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit[provider] = &limit{n: n, retryAfter: retryAfter}
}

// Calls returns the requests provider answered ("" for all).
func (s *Server) Calls(provider string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if provider == "" || c.Provider == provider {
			out = append(out, c)
		}
	}
	return out
}

// writeJSON answers status with v as JSON, as the services do.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
