// Package verify checks whether secrets other than AWS keys are live, by
// asking their provider with one or two requests that only read: no
// message posted, no charge, no upload. Each answer is verified (the
// provider accepted the secret, and said whose it is), invalid (the
// provider said it is not valid) or unknown (anything else). AWS keys are
// package aws's.
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/sync/errgroup"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/limit"
)

// Provider is a service whose secrets keysweep can verify.
type Provider struct {
	// Name is a short lower-case word: what --verify and
	// --verify-endpoint take.
	Name string
	// Base is the provider's API, https; Bases are other hosts its
	// verifiers call, by name. An override replaces them all.
	Base  string
	Bases map[string]string
	// Verifiers are the checks of the provider's rules.
	Verifiers []Verifier
	// Unverified are the provider's rules that have no verifier, each
	// with why: no request exists that only reads, or the rule does not
	// find what the request needs.
	Unverified map[string]string
}

// Verifier checks the secrets of some rules.
type Verifier struct {
	Rules []string
	// Calls are what it requests, for a locked-down network to allow:
	// "GET https://api.github.com/user".
	Calls []string
	// Applies, if set, says whether f is one this verifier can check (a
	// private key is a Google service account's only with its email
	// beside it): a finding it does not apply to is not verified.
	Applies func(f finding.Finding) bool
	// Check asks the provider about f's secret through c.
	Check func(ctx context.Context, c *Caller, f finding.Finding) Result
}

func (p *Provider) allBases() map[string]string {
	out := map[string]string{"": p.Base}
	for k, v := range p.Bases {
		out[k] = v
	}
	return out
}

// Result is what a verifier learned.
type Result struct {
	Status string
	// Identity is what the provider said of the secret's owner
	// ("login octocat", "team acme"); Scopes what it may do.
	Identity string
	Scopes   []string
	Error    string
}

// Verified is a live secret, with what the provider said of it. Identity
// and scopes come from the answer, so they are cleaned.
func Verified(identity string, scopes ...string) Result {
	r := Result{Status: finding.StatusVerified, Identity: Clean(identity, 200)}
	for _, s := range scopes {
		if s = Clean(s, 100); s != "" && len(r.Scopes) < 50 {
			r.Scopes = append(r.Scopes, s)
		}
	}
	return r
}

// Invalid is a secret the provider refused, and why.
func Invalid(why string) Result { return Result{Status: finding.StatusInvalid, Error: why} }

// Unknown is no answer about the secret.
func Unknown(format string, args ...any) Result {
	return Result{Status: finding.StatusUnknown, Error: fmt.Sprintf(format, args...)}
}

// Unexpected is the unknown result of an answer a verifier does not
// understand: its status only, never its body.
func Unexpected(resp *Response) Result {
	return Unknown("unexpected answer: HTTP %d", resp.Status)
}

// ByStatus is the usual reading of an answer: 200 live, 401 (and the
// codes in also) invalid, 429 and 5xx unknown after retries.
func ByStatus(resp *Response, identity func(*Response) string, invalid ...int) Result {
	switch {
	case resp.Status == http.StatusOK:
		id := ""
		if identity != nil {
			id = identity(resp)
		}
		return Verified(id)
	case resp.Status == http.StatusUnauthorized || slices.Contains(invalid, resp.Status):
		return Invalid(fmt.Sprintf("HTTP %d: the provider does not accept it", resp.Status))
	case resp.Status == http.StatusTooManyRequests:
		return Unknown("rate limited (HTTP 429) after retries")
	case resp.Status >= 500:
		return Unknown("HTTP %d: the provider failed", resp.Status)
	case resp.Status >= 300 && resp.Status < 400:
		return Unknown("HTTP %d: redirected, not followed", resp.Status)
	}
	return Unexpected(resp)
}

// Field returns the string at the dotted path of a JSON answer ("" when
// there is none), cleaned.
func Field(resp *Response, path string) string {
	var v any
	if json.Unmarshal(resp.Body, &v) != nil {
		return ""
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return Clean(x, 200)
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

// Clean keeps what is safe to show of a text the provider chose: no
// control or format characters, at most n bytes.
func Clean(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue
		}
		if b.Len()+len(string(r)) > n {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// Options say how a Session verifies.
type Options struct {
	// Providers limits verification to these (nil: every provider).
	Providers []string
	// Workers is how many calls are in flight at once.
	Workers int
	// Timeout bounds one call.
	Timeout time.Duration
	// Endpoints replace providers' base URLs (a GitHub Enterprise
	// Server, a GitLab of one's own, a local stand-in).
	Endpoints map[string]*url.URL
	// MaxWait is the longest Retry-After honoured (longer: unknown).
	MaxWait time.Duration
	// Sleep waits out Retry-After; nil waits in real time.
	Sleep func(context.Context, time.Duration) error
	// Limit, if set, bounds the calls in flight across every user of it
	// (AWS verification shares it); without it, Workers per Process.
	Limit limit.Limiter
	// Transport, if set, adapts each provider's transport (tests).
	Transport func(*http.Transport) *http.Transport

	// catalog replaces Catalog (tests of the session itself).
	catalog []*Provider
}

// Session verifies the findings of one run: each distinct secret once,
// Workers at a time. It is safe for concurrent use.
type Session struct {
	workers int
	limit   limit.Limiter
	byRule  map[string]*bound

	mu     sync.Mutex
	cache  map[string]*pending
	status map[string]string // by secret key: the best status, for the summary
}

// bound is a verifier with its provider's caller.
type bound struct {
	provider string
	v        *Verifier
	caller   *Caller
}

type pending struct {
	done chan struct{}
	res  Result
}

// Open prepares the verifiers of opts.Providers.
func Open(opts Options) (*Session, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Second
	}
	catalog := opts.catalog
	if catalog == nil {
		catalog = Catalog()
	}
	known := map[string]*Provider{}
	for _, p := range catalog {
		known[p.Name] = p
	}
	for name := range opts.Endpoints {
		if known[name] == nil {
			return nil, fmt.Errorf("unknown provider %q in an endpoint (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	for _, name := range opts.Providers {
		if known[name] == nil {
			return nil, fmt.Errorf("unknown provider %q (known: aws, %s)", name, strings.Join(Names(), ", "))
		}
	}
	s := &Session{workers: max(1, opts.Workers), limit: opts.Limit, byRule: map[string]*bound{}, cache: map[string]*pending{}, status: map[string]string{}}
	for _, p := range catalog {
		if len(opts.Providers) > 0 && !slices.Contains(opts.Providers, p.Name) {
			continue
		}
		c := newCaller(p, opts.Endpoints[p.Name], &opts)
		for i := range p.Verifiers {
			for _, rule := range p.Verifiers[i].Rules {
				s.byRule[rule] = &bound{provider: p.Name, v: &p.Verifiers[i], caller: c}
			}
		}
	}
	return s, nil
}

// Names lists the providers, sorted.
func Names() []string {
	var out []string
	for _, p := range Catalog() {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// Verifies reports whether the session verifies rule's secrets.
func (s *Session) Verifies(rule string) bool { return s.byRule[rule] != nil }

// Process verifies the findings of fs that have a verifier and no
// verification yet, in place.
func (s *Session) Process(ctx context.Context, fs []finding.Finding) {
	var g errgroup.Group
	g.SetLimit(s.workers)
	results := make([]Result, len(fs))
	for i, f := range fs {
		b := s.byRule[f.RuleID]
		if b == nil || f.Verification != nil || f.Secret == "" || finding.IsRedacted(f.Secret) || b.v.Applies != nil && !b.v.Applies(f) {
			continue
		}
		g.Go(func() error {
			results[i] = s.verify(ctx, b, f)
			return nil
		})
	}
	_ = g.Wait()
	for i, f := range fs {
		b := s.byRule[f.RuleID]
		if results[i].Status == "" {
			continue
		}
		r := results[i]
		fs[i].Verification = &finding.Verification{Status: r.Status, Error: r.Error, Provider: b.provider, Identity: r.Identity, Scopes: r.Scopes}
		s.mu.Lock()
		key := f.RuleID + "\x00" + f.Secret
		if rank(r.Status) > rank(s.status[key]) {
			s.status[key] = r.Status
		}
		s.mu.Unlock()
	}
}

func rank(status string) int {
	return (&finding.Verification{Status: status}).Rank()
}

// verify asks once per distinct secret; later askers share the answer.
func (s *Session) verify(ctx context.Context, b *bound, f finding.Finding) Result {
	key := f.RuleID + "\x00" + f.Secret
	s.mu.Lock()
	p, ok := s.cache[key]
	if !ok {
		p = &pending{done: make(chan struct{})}
		s.cache[key] = p
	}
	s.mu.Unlock()
	if ok {
		select {
		case <-p.done:
			return p.res
		case <-ctx.Done():
			return Unknown("canceled")
		}
	}
	if err := s.limit.Acquire(ctx); err != nil {
		p.res = Unknown("canceled")
		close(p.done)
		return p.res
	}
	p.res = b.v.Check(ctx, b.caller, f)
	s.limit.Release()
	if p.res.Status == "" {
		p.res = Unknown("no answer")
	}
	p.res.Error = scrub(p.res.Error, f.Secret)
	close(p.done)
	return p.res
}

// scrub keeps a secret out of an error, whatever a verifier put there.
func scrub(msg, secret string) string {
	if secret != "" && strings.Contains(msg, secret) {
		return strings.ReplaceAll(msg, secret, finding.Redact(secret))
	}
	return msg
}

// Summary counts the distinct secrets verified so far, by status.
func (s *Session) Summary() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, st := range s.status {
		out[st]++
	}
	return out
}
