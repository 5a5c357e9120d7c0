package verify

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/providertest"
)

// Secrets of the shapes the rules find.
const (
	chGitHubClassic  = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngAbCdEf12"
	chGitHubDead     = "ghp_D34dT0k3nV4lu3F0rT3st1ngAbCdEf1234"
	chGitHubFine     = "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm"
	chGitHubApp      = "ghs_1nst4ll4t10nT0k3nF0rT3st1ngAbCdEf1"
	chGitHubRefresh  = "ghr_R3fr3shT0k3nF0rT3st1ngAbCdEfGh1234"
	chGitLabLive     = "glpat-Xy7vQ2mN8pL4kR9sT3wZ"
	chGitLabRevoked  = "glpat-Rv0k3dT0k3nAbCdEfGhIj"
	chGitLabUnknown  = "glpat-Unkn0wnT0k3nAbCdEfGh"
	chNPMLive        = "npm_Q8rT2vX9mK4pL7nW3sZ6yB1cD5fG0hJ8kM2n"
	chNPMDead        = "npm_D3adT0k3nQ8rT2vX9mK4pL7nW3sZ6yB1cD5f"
	chHFLive         = "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"
	chHFFine         = "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"
	chHFDead         = "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"
	chGitLabRunner   = "glrt-Xy7vQ2mN8pL4kR9sT3wZ"
	chDockerHubToken = "dckr_pat_Ab3dEf6hIj9lMn2pQr5tUv8xYz1"
)

// macaroon builds a PyPI token: a version 2 binary macaroon with these
// caveat identifiers.
func macaroon(caveats ...string) string {
	var b []byte
	field := func(typ uint64, data string) {
		b = binary.AppendUvarint(b, typ)
		b = binary.AppendUvarint(b, uint64(len(data)))
		b = append(b, data...)
	}
	b = append(b, 2)
	field(1, "pypi.org")
	field(2, "0123456789abcdef0123456789abcdef")
	b = append(b, 0)
	for _, c := range caveats {
		field(2, c)
		b = append(b, 0)
	}
	b = append(b, 0)
	field(6, strings.Repeat("s", 32))
	return "pypi-" + base64.RawURLEncoding.EncodeToString(b)
}

var (
	chPyPIAll     = macaroon(`{"version": 1, "permissions": "user"}`)
	chPyPIProject = macaroon(`[1,["keysweep"]]`, `[0,4102444800,1700000000]`)
	chPyPIExpired = macaroon(`[1,["keysweep"]]`, `[0,1700003600,1700000000]`)
	chPyPIDead    = macaroon(`[1,["other"]]`)
)

// chStandIns registers a stand-in of each provider with its live tokens.
func chStandIns(s *providertest.Server, provider string) {
	switch provider {
	case "github":
		s.GitHub(map[string]providertest.GitHubToken{
			chGitHubClassic: {Login: "octocat", Scopes: []string{"repo", "read:org"}},
			chGitHubFine:    {Login: "hubot"},
			chGitHubApp:     {Repositories: []string{"acme/api", "acme/web"}},
		})
	case "gitlab":
		s.GitLab(map[string]providertest.GitLabToken{
			chGitLabLive:    {Name: "ci deploy", UserID: 42, Scopes: []string{"api", "read_repository"}, ExpiresAt: "2026-12-31"},
			chGitLabRevoked: {Dead: "Token was revoked. You have to re-authorize from the user."},
		})
	case "npm":
		s.NPM(map[string]string{chNPMLive: "publisher"})
	case "pypi":
		s.PyPI([]string{chPyPIAll, chPyPIProject, chPyPIExpired})
	case "huggingface":
		s.HuggingFace(map[string]providertest.HuggingFaceToken{
			chHFLive: {Name: "alice", Type: "user", TokenName: "laptop", Role: "write"},
			chHFFine: {Name: "alice", Type: "user", TokenName: "ci", Role: "fineGrained", GlobalPermission: []string{"inference.serverless.write", "discussion.write"}},
		})
	default:
		panic("no stand-in for " + provider)
	}
}

// chResult is what a test compares of a verification.
type chResult struct {
	Status, Provider, Identity string
	Scopes                     []string
}

func chGot(v *finding.Verification) *chResult {
	if v == nil {
		return nil
	}
	return &chResult{Status: v.Status, Provider: v.Provider, Identity: v.Identity, Scopes: v.Scopes}
}

// chRequest is the one request a verifier should send: the secret in
// header only, as value.
type chRequest struct {
	method, path, query, header, value string
}

func basic(token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("__token__:"+token))
}

func TestCodeHostsVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, provider, rule, secret string
		want                         *chResult
		// errContains, for an invalid or unknown result, is part of its
		// error.
		errContains string
		req         *chRequest
	}{
		{
			name: "github classic token", provider: "github", rule: "github-token", secret: chGitHubClassic,
			want: &chResult{Status: "verified", Provider: "github", Identity: "login octocat", Scopes: []string{"repo", "read:org"}},
			req:  &chRequest{method: "GET", path: "/user", header: "Authorization", value: "Bearer " + chGitHubClassic},
		},
		{
			name: "github fine-grained token", provider: "github", rule: "github-fine-grained-token", secret: chGitHubFine,
			want: &chResult{Status: "verified", Provider: "github", Identity: "login hubot"},
			req:  &chRequest{method: "GET", path: "/user", header: "Authorization", value: "Bearer " + chGitHubFine},
		},
		{
			name: "github installation token", provider: "github", rule: "github-token", secret: chGitHubApp,
			want: &chResult{Status: "verified", Provider: "github", Identity: "installation token of acme: 2 repositories (acme/api, ...)"},
			req:  &chRequest{method: "GET", path: "/installation/repositories", query: "per_page=1", header: "Authorization", value: "Bearer " + chGitHubApp},
		},
		{
			name: "github dead token", provider: "github", rule: "github-token", secret: chGitHubDead,
			want: &chResult{Status: "invalid", Provider: "github"}, errContains: "HTTP 401",
			req: &chRequest{method: "GET", path: "/user", header: "Authorization", value: "Bearer " + chGitHubDead},
		},
		{
			name: "github refresh token is not sent", provider: "github", rule: "github-token", secret: chGitHubRefresh,
		},
		{
			name: "gitlab live token", provider: "gitlab", rule: "gitlab-pat", secret: chGitLabLive,
			want: &chResult{Status: "verified", Provider: "gitlab", Identity: `token "ci deploy" of user id 42, expires 2026-12-31`, Scopes: []string{"api", "read_repository"}},
			req:  &chRequest{method: "GET", path: "/api/v4/personal_access_tokens/self", header: "Private-Token", value: chGitLabLive},
		},
		{
			name: "gitlab revoked token", provider: "gitlab", rule: "gitlab-pat", secret: chGitLabRevoked,
			want: &chResult{Status: "invalid", Provider: "gitlab"}, errContains: "Token was revoked",
			req: &chRequest{method: "GET", path: "/api/v4/personal_access_tokens/self", header: "Private-Token", value: chGitLabRevoked},
		},
		{
			name: "gitlab unknown token", provider: "gitlab", rule: "gitlab-pat", secret: chGitLabUnknown,
			want: &chResult{Status: "invalid", Provider: "gitlab"}, errContains: "HTTP 401",
			req: &chRequest{method: "GET", path: "/api/v4/personal_access_tokens/self", header: "Private-Token", value: chGitLabUnknown},
		},
		{
			name: "gitlab runner token is not sent", provider: "gitlab", rule: "gitlab-runner-token", secret: chGitLabRunner,
		},
		{
			name: "npm live token", provider: "npm", rule: "npm-token", secret: chNPMLive,
			want: &chResult{Status: "verified", Provider: "npm", Identity: "user publisher"},
			req:  &chRequest{method: "GET", path: "/-/whoami", header: "Authorization", value: "Bearer " + chNPMLive},
		},
		{
			name: "npm dead token", provider: "npm", rule: "npm-token", secret: chNPMDead,
			want: &chResult{Status: "invalid", Provider: "npm"}, errContains: "HTTP 401",
			req: &chRequest{method: "GET", path: "/-/whoami", header: "Authorization", value: "Bearer " + chNPMDead},
		},
		{
			name: "pypi user-wide token", provider: "pypi", rule: "pypi-token", secret: chPyPIAll,
			want: &chResult{Status: "verified", Provider: "pypi", Identity: "accepted by PyPI's upload endpoint (PyPI names no owner)", Scopes: []string{"all projects of its user"}},
			req:  &chRequest{method: "POST", path: "/legacy/", header: "Authorization", value: basic(chPyPIAll)},
		},
		{
			name: "pypi project token", provider: "pypi", rule: "pypi-token", secret: chPyPIProject,
			want: &chResult{Status: "verified", Provider: "pypi", Identity: "accepted by PyPI's upload endpoint (PyPI names no owner)", Scopes: []string{"project keysweep", "expires 2100-01-01T00:00:00Z"}},
			req:  &chRequest{method: "POST", path: "/legacy/", header: "Authorization", value: basic(chPyPIProject)},
		},
		{
			name: "pypi expired token", provider: "pypi", rule: "pypi-token", secret: chPyPIExpired,
			want: &chResult{Status: "invalid", Provider: "pypi"}, errContains: "expired on 2023-11-14T23:13:20Z",
			req: &chRequest{method: "POST", path: "/legacy/", header: "Authorization", value: basic(chPyPIExpired)},
		},
		{
			name: "pypi dead token", provider: "pypi", rule: "pypi-token", secret: chPyPIDead,
			want: &chResult{Status: "invalid", Provider: "pypi"}, errContains: "HTTP 403",
			req: &chRequest{method: "POST", path: "/legacy/", header: "Authorization", value: basic(chPyPIDead)},
		},
		{
			name: "huggingface write token", provider: "huggingface", rule: "huggingface-token", secret: chHFLive,
			want: &chResult{Status: "verified", Provider: "huggingface", Identity: `user alice, token "laptop"`, Scopes: []string{"write"}},
			req:  &chRequest{method: "GET", path: "/api/whoami-v2", header: "Authorization", value: "Bearer " + chHFLive},
		},
		{
			name: "huggingface fine-grained token", provider: "huggingface", rule: "huggingface-token", secret: chHFFine,
			want: &chResult{Status: "verified", Provider: "huggingface", Identity: `user alice, token "ci"`, Scopes: []string{"fineGrained", "inference.serverless.write", "discussion.write"}},
			req:  &chRequest{method: "GET", path: "/api/whoami-v2", header: "Authorization", value: "Bearer " + chHFFine},
		},
		{
			name: "huggingface dead token", provider: "huggingface", rule: "huggingface-token", secret: chHFDead,
			want: &chResult{Status: "invalid", Provider: "huggingface"}, errContains: "HTTP 401",
			req: &chRequest{method: "GET", path: "/api/whoami-v2", header: "Authorization", value: "Bearer " + chHFDead},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := providertest.New(t)
			chStandIns(s, tt.provider)
			var waits []time.Duration
			sess := session(t, s, &waits, tt.provider)
			v := verifyOne(t, sess, tt.rule, tt.secret, nil)
			if diff := cmp.Diff(tt.want, chGot(v)); diff != "" {
				t.Errorf("verification (-want +got):\n%s", diff)
			}
			if v != nil {
				if tt.errContains != "" && !strings.Contains(v.Error, tt.errContains) {
					t.Errorf("error %q does not say %q", v.Error, tt.errContains)
				}
				if strings.Contains(v.Error+v.Identity+strings.Join(v.Scopes, " "), tt.secret) {
					t.Errorf("the secret is in the result: %+v", v)
				}
			}
			chCheckCalls(t, s, tt.provider, tt.secret, tt.req)
			if len(waits) != 0 {
				t.Errorf("waited %v with no rate limit", waits)
			}
		})
	}
}

// chCheckCalls checks that the stand-in saw req and nothing else, with
// the secret in req's header only.
func chCheckCalls(t *testing.T, s *providertest.Server, provider, secret string, req *chRequest) {
	t.Helper()
	calls := s.Calls("")
	if req == nil {
		if len(calls) != 0 {
			t.Errorf("%d requests, want none: %+v", len(calls), calls)
		}
		return
	}
	if len(calls) != 1 {
		t.Fatalf("%d requests, want 1: %+v", len(calls), calls)
	}
	c := calls[0]
	if c.Provider != provider || c.Method != req.method || c.Path != req.path || c.Query.Encode() != req.query {
		t.Errorf("request %s %s %s ?%s, want %s %s %s ?%s", c.Provider, c.Method, c.Path, c.Query.Encode(), provider, req.method, req.path, req.query)
	}
	if !strings.HasPrefix(c.Host, "127.0.0.1:") {
		t.Errorf("request to %s, not to the stand-in", c.Host)
	}
	if got := c.Header.Values(req.header); len(got) != 1 || got[0] != req.value {
		t.Errorf("header %s = %q, want %q", req.header, got, req.value)
	}
	encoded := []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte("__token__:" + secret))}
	for name, values := range c.Header {
		if http.CanonicalHeaderKey(name) == http.CanonicalHeaderKey(req.header) {
			continue
		}
		for _, v := range values {
			for _, e := range encoded {
				if strings.Contains(v, e) {
					t.Errorf("the secret is in header %s too", name)
				}
			}
		}
	}
	for _, e := range encoded {
		if strings.Contains(c.Path, e) || strings.Contains(c.Query.Encode(), e) || strings.Contains(string(c.Body), e) {
			t.Errorf("the secret is in the path, query or body: %s ?%s %q", c.Path, c.Query.Encode(), c.Body)
		}
	}
}

// chLive is a live secret of each provider, for the cases every
// provider shares.
var chLive = []struct{ provider, rule, secret string }{
	{"github", "github-token", chGitHubClassic},
	{"gitlab", "gitlab-pat", chGitLabLive},
	{"npm", "npm-token", chNPMLive},
	{"pypi", "pypi-token", chPyPIAll},
	{"huggingface", "huggingface-token", chHFLive},
}

func TestCodeHostsRateLimited(t *testing.T) {
	t.Parallel()
	for _, tt := range chLive {
		t.Run(tt.provider, func(t *testing.T) {
			t.Parallel()
			s := providertest.New(t)
			chStandIns(s, tt.provider)
			s.RateLimit(tt.provider, 2, "7")
			var waits []time.Duration
			v := verifyOne(t, session(t, s, &waits, tt.provider), tt.rule, tt.secret, nil)
			if v == nil || v.Status != finding.StatusVerified {
				t.Fatalf("verification %+v, want verified after the limit", v)
			}
			if diff := cmp.Diff([]time.Duration{7 * time.Second, 7 * time.Second}, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if n := len(s.Calls(tt.provider)); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
		})
	}
}

func TestCodeHostsUnknown(t *testing.T) {
	t.Parallel()
	answers := []struct {
		name    string
		handler func(provider string) http.HandlerFunc
		err     string
	}{
		{"server error", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"message":"500 Internal Server Error"}`)
			}
		}, "HTTP 500"},
		{"not the service's shape", func(provider string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				if provider == "pypi" {
					// A 400 that is not the form check's.
					w.WriteHeader(http.StatusBadRequest)
				}
				_, _ = io.WriteString(w, "<html><body>captive portal, "+strings.Repeat("\x1b[31m", 3)+"</body></html>")
			}
		}, "unexpected answer"},
		{"rate limited for good", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}
		}, "rate limited"},
		{"redirected", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", "https://login.example.com/")
				w.WriteHeader(http.StatusFound)
			}
		}, "redirected"},
	}
	for _, a := range answers {
		for _, tt := range chLive {
			t.Run(a.name+"/"+tt.provider, func(t *testing.T) {
				t.Parallel()
				s := providertest.New(t)
				s.Handle(tt.provider, a.handler(tt.provider))
				v := verifyOne(t, session(t, s, nil, tt.provider), tt.rule, tt.secret, nil)
				if v == nil || v.Status != finding.StatusUnknown || !strings.Contains(v.Error, a.err) {
					t.Errorf("verification %+v, want unknown saying %q", v, a.err)
				}
			})
		}
	}
}

// TestCodeHostsProviderRefusals covers answers some providers give that
// say nothing about the secret, or say it another way.
func TestCodeHostsProviderRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, provider, rule, secret string
		handler                      http.HandlerFunc
		want                         string
		err                          string
	}{
		{
			name: "github primary rate limit as 403", provider: "github", rule: "github-token", secret: chGitHubClassic,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Ratelimit-Remaining", "0")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `{"message":"API rate limit exceeded"}`)
			},
			want: "unknown", err: "rate limited",
		},
		{
			name: "github other 403", provider: "github", rule: "github-token", secret: chGitHubClassic,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `{"message":"Sorry. Your account was suspended."}`)
			},
			want: "unknown", err: "HTTP 403",
		},
		{
			name: "github 200 without a login", provider: "github", rule: "github-token", secret: chGitHubClassic,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"id":1}`) },
			want:    "unknown", err: "unexpected answer",
		},
		{
			name: "github installation answer without a count", provider: "github", rule: "github-token", secret: chGitHubApp,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"repositories":[]}`) },
			want:    "unknown", err: "unexpected answer",
		},
		{
			name: "gitlab 200 that is not a token", provider: "gitlab", rule: "gitlab-pat", secret: chGitLabLive,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"name":"x"}`) },
			want:    "unknown", err: "unexpected answer",
		},
		{
			name: "gitlab token listed as revoked", provider: "gitlab", rule: "gitlab-pat", secret: chGitLabLive,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, `{"name":"x","user_id":3,"revoked":true,"active":false}`)
			},
			want: "invalid", err: "revoked",
		},
		{
			name: "npm 200 without a user", provider: "npm", rule: "npm-token", secret: chNPMLive,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{}`) },
			want:    "unknown", err: "unexpected answer",
		},
		{
			name: "pypi in read-only mode", provider: "pypi", rule: "pypi-token", secret: chPyPIAll,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, "<html><h1>403 Read-only mode: Uploads are temporarily disabled.</h1></html>")
			},
			want: "unknown", err: "HTTP 403",
		},
		{
			name: "pypi 200 is never taken for a live token", provider: "pypi", rule: "pypi-token", secret: chPyPIAll,
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) },
			want:    "unknown", err: "unexpected answer",
		},
		{
			name: "huggingface 200 without a name", provider: "huggingface", rule: "huggingface-token", secret: chHFLive,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"type":"user"}`) },
			want:    "unknown", err: "unexpected answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := providertest.New(t)
			s.Handle(tt.provider, tt.handler)
			v := verifyOne(t, session(t, s, nil, tt.provider), tt.rule, tt.secret, nil)
			if v == nil || v.Status != tt.want || !strings.Contains(v.Error, tt.err) {
				t.Errorf("verification %+v, want %s saying %q", v, tt.want, tt.err)
			}
		})
	}
}

// TestPyPIUploadsNothing checks the probe against a stand-in that stores
// what passes its checks: no token, live or dead, uploads anything.
func TestPyPIUploadsNothing(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := s.PyPI([]string{chPyPIAll, chPyPIProject})
	sess := session(t, s, nil, "pypi")
	fs := []finding.Finding{
		{RuleID: "pypi-token", Secret: chPyPIAll, Path: "a", Line: 1},
		{RuleID: "pypi-token", Secret: chPyPIProject, Path: "b", Line: 1},
		{RuleID: "pypi-token", Secret: chPyPIDead, Path: "c", Line: 1},
	}
	sess.Process(t.Context(), fs)
	if n := p.Uploads(); n != 0 {
		t.Errorf("the stand-in stored %d uploads", n)
	}
	for _, c := range s.Calls("pypi") {
		form, err := url.ParseQuery(string(c.Body))
		if err != nil {
			t.Fatal(err)
		}
		want := url.Values{":action": {"file_upload"}, "protocol_version": {"1"}}
		if diff := cmp.Diff(want, form); diff != "" {
			t.Errorf("probe form (-want +got):\n%s", diff)
		}
	}
}

// TestCodeHostsUnverified checks the rules left without a verifier: they
// are listed with a reason and never sent.
func TestCodeHostsUnverified(t *testing.T) {
	t.Parallel()
	verified := map[string]bool{}
	unverified := map[string]bool{}
	for _, p := range []*Provider{github(), gitlab(), npm(), pypi(), dockerhub(), huggingface()} {
		for _, v := range p.Verifiers {
			if len(v.Calls) == 0 || v.Check == nil {
				t.Errorf("%s: a verifier of %v has no calls or no check", p.Name, v.Rules)
			}
			for _, c := range v.Calls {
				if !strings.HasPrefix(c, "GET "+p.Base+"/") && !strings.HasPrefix(c, "POST "+p.Base+"/") {
					t.Errorf("%s: call %q is not to %s", p.Name, c, p.Base)
				}
			}
			for _, r := range v.Rules {
				verified[r] = true
			}
		}
		for r, why := range p.Unverified {
			if why == "" {
				t.Errorf("%s: %s has no reason", p.Name, r)
			}
			unverified[r] = true
		}
	}
	want := []string{"gitlab-deploy-token", "gitlab-runner-token", "gitlab-pipeline-trigger-token", "gitlab-oauth-secret", "dockerhub-pat"}
	for _, r := range want {
		if !unverified[r] || verified[r] {
			t.Errorf("%s: unverified %v, verified %v", r, unverified[r], verified[r])
		}
	}
	s := providertest.New(t)
	s.Handle("dockerhub", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	sess := session(t, s, nil, "dockerhub", "gitlab")
	for _, f := range []struct{ rule, secret string }{{"dockerhub-pat", chDockerHubToken}, {"gitlab-runner-token", chGitLabRunner}} {
		if sess.Verifies(f.rule) {
			t.Errorf("the session verifies %s", f.rule)
		}
		if v := verifyOne(t, sess, f.rule, f.secret, nil); v != nil {
			t.Errorf("%s verified: %+v", f.rule, v)
		}
	}
	if n := len(s.Calls("")); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestPyPICaveats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		token  string
		ok     bool
		scopes []string
	}{
		{"user-wide, legacy", chPyPIAll, true, []string{"all projects of its user"}},
		{"project and expiry", chPyPIProject, true, []string{"project keysweep", "expires 2100-01-01T00:00:00Z"}},
		{"legacy project and expiry", macaroon(`{"version":1,"permissions":{"projects":["a","b"]}}`, `{"exp":4102444800,"nbf":1}`), true, []string{"project a", "project b", "expires 2100-01-01T00:00:00Z"}},
		{"project ids, a user and an unknown tag", macaroon(`[2,["7f3c"]]`, `[3,"u1"]`, `[9,"x"]`), true, []string{"project id 7f3c"}},
		{"the earliest expiry", macaroon(`[0,4102444800,1]`, `[0,4070908800,1]`), true, []string{"all projects of its user", "expires 2099-01-01T00:00:00Z"}},
		{"not base64", "pypi-AgEIcHlwaS5vcmc!!!", false, []string{"all projects of its user"}},
		{"cut short", chPyPIProject[:40], false, nil},
		{"no signature", "pypi-" + base64.RawURLEncoding.EncodeToString([]byte{2, 2, 1, 'x', 0, 0}), false, []string{"all projects of its user"}},
		{"a length past the end", "pypi-" + base64.RawURLEncoding.EncodeToString([]byte{2, 2, 200, 'x'}), false, []string{"all projects of its user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok := pypiReadCaveats(tt.token)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			if tt.ok {
				if diff := cmp.Diff(tt.scopes, pypiScopes(c)); diff != "" {
					t.Errorf("scopes (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func FuzzPyPICaveats(f *testing.F) {
	for _, s := range []string{chPyPIAll, chPyPIProject, chPyPIExpired, "pypi-AgEIcHlwaS5vcmc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, _ := pypiReadCaveats(token)
		if len(c.projects) > 20 {
			t.Errorf("%d projects kept", len(c.projects))
		}
		for _, s := range pypiScopes(c) {
			if len(s) > 120 {
				t.Errorf("scope of %d bytes", len(s))
			}
		}
	})
}
