// Package github sweeps the repositories of a GitHub organization: it lists
// them through the REST API (go-github), keeps a bare mirror of each
// (go-git), and remembers in an embedded database what each sweep scanned
// and found, so that the next one scans only what is new.
package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v84/github"
)

// TokenSource hands out the token of each request: a fixed personal or
// Actions token, or a GitHub App's installation token, renewed before it
// expires.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a token that does not change.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// AppTokens issues installation tokens of a GitHub App for one
// organization: a JWT signed with the App's private key is exchanged for a
// token of the App's installation on the organization, renewed five minutes
// before it expires.
type AppTokens struct {
	appID int64
	key   *rsa.PrivateKey
	org   string
	hosts *Hosts
	hc    *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewAppTokens reads the App's private key (PEM, PKCS#1 or PKCS#8); the
// tokens are asked of the REST API of hosts.
func NewAppTokens(appID int64, keyPEM []byte, org string, hosts *Hosts, hc *http.Client) (*AppTokens, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("GitHub App key: no PEM block (want the .pem file GitHub gave for the App)")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("GitHub App key: not an RSA key")
		}
		key = rk
	} else {
		return nil, fmt.Errorf("GitHub App key: %w", err)
	}
	return &AppTokens{appID: appID, key: key, org: org, hosts: hosts, hc: hc}, nil
}

// Token returns a valid installation token.
func (a *AppTokens) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && time.Until(a.expires) > 5*time.Minute {
		return a.token, nil
	}
	jwt, err := a.jwt(time.Now())
	if err != nil {
		return "", err
	}
	c, err := newClient(a.hosts, a.hc, StaticToken(jwt))
	if err != nil {
		return "", err
	}
	inst, _, err := c.Apps.FindOrganizationInstallation(ctx, a.org)
	if err != nil {
		return "", fmt.Errorf("find the GitHub App's installation on %s: %w", a.org, err)
	}
	tok, _, err := c.Apps.CreateInstallationToken(ctx, inst.GetID(), nil)
	if err != nil {
		return "", fmt.Errorf("create an installation token: %w", err)
	}
	a.token, a.expires = tok.GetToken(), tok.GetExpiresAt().Time
	return a.token, nil
}

// jwt returns the App's JSON Web Token (RS256), valid for nine minutes
// and backdated a minute for clock drift, as GitHub asks.
func (a *AppTokens) jwt(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": strconv.FormatInt(a.appID, 10),
	})
	if err != nil {
		return "", err
	}
	signed := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign the GitHub App JWT: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// Hosts are the servers a sweep may send its token to: the REST API, and
// the git hosts whose clone URLs it fetches. The API client follows no
// redirect to another origin, and a clone URL elsewhere is refused.
type Hosts struct {
	api     string          // --api-url, "" for github.com
	origins map[string]bool // trusted origins, as origin spells them
}

// NewHosts trusts the REST API at apiURL ("" for github.com) and the git
// host it is known to serve: github.com for api.github.com, the API's own
// origin otherwise (a GitHub Enterprise Server answers both at
// https://HOST), and gitHosts on top (HOST[:PORT] for https, or a URL
// with no path). Plain http is refused, since the token would cross the
// network in clear, unless the host is loopback (127.0.0.0/8, ::1,
// localhost) or insecure is set.
func NewHosts(apiURL string, gitHosts []string, insecure bool) (*Hosts, error) {
	h := &Hosts{api: apiURL, origins: map[string]bool{}}
	api := &url.URL{Scheme: "https", Host: "api.github.com"}
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil {
			return nil, fmt.Errorf("--api-url %q: want https://HOST/api/v3/", apiURL)
		}
		if err := plainHTTP("--api-url", u, insecure); err != nil {
			return nil, err
		}
		api = u
	}
	h.origins[origin(api)] = true
	if strings.EqualFold(api.Hostname(), "api.github.com") {
		h.origins[origin(&url.URL{Scheme: api.Scheme, Host: "github.com"})] = true
	}
	for _, g := range gitHosts {
		raw := g
		if !strings.Contains(g, "://") {
			raw = "https://" + g
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil ||
			u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("--git-host %q: want HOST, HOST:PORT or https://HOST[:PORT]", g)
		}
		if err := plainHTTP("--git-host", u, insecure); err != nil {
			return nil, err
		}
		h.origins[origin(u)] = true
	}
	return h, nil
}

// plainHTTP refuses an http URL to a host that is not loopback, unless
// the operator accepts it.
func plainHTTP(flag string, u *url.URL, insecure bool) error {
	if u.Scheme != "http" || insecure || loopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%s %s is plain http to a host that is not loopback: the token would cross the network in clear; use https, or --insecure-api to accept that", flag, u.Redacted())
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

// MayReceiveToken reports whether a request to u may carry the token:
// only if u's origin (scheme, host and port, the default port spelled
// out) is one of hosts'. A host name is compared as it is written, so
// neither a subdomain nor another name of the same machine passes.
func (h *Hosts) MayReceiveToken(u *url.URL) bool {
	if h == nil || u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return false
	}
	return h.origins[origin(u)]
}

// CheckCloneURL says why a repository's clone URL is not fetched: it is
// not https (file://, a local path, ssh://, git://; http only where the
// hosts allow it), it holds credentials of its own, or it is not on a
// git host of the API, and so must not get the token.
func (h *Hosts) CheckCloneURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		if err == nil {
			raw = u.Redacted()
		}
		return fmt.Errorf("refuse clone URL %q: want https", raw)
	}
	if u.User != nil {
		return fmt.Errorf("refuse clone URL %q: it holds a user name or password", u.Redacted())
	}
	if !h.MayReceiveToken(u) {
		return fmt.Errorf("refuse clone URL %q: %s is not a git host of the API (trusted: %s; --git-host adds one)", raw, u.Scheme+"://"+u.Host, strings.Join(h.trusted(), ", "))
	}
	return nil
}

// trusted lists the trusted origins, for messages.
func (h *Hosts) trusted() []string {
	if h == nil || len(h.origins) == 0 {
		return []string{"none"}
	}
	var out []string
	for o := range h.origins {
		scheme, _, _ := strings.Cut(o, ":")
		out = append(out, strings.TrimSuffix(o, ":"+defaultPort(scheme)))
	}
	sort.Strings(out)
	return out
}

// origin is u's scheme, host and port, always spelled the same way:
// https://github.com and https://GitHub.com:443 are one origin.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// sameOrigin follows a redirect only on the origin of the first request.
// The token is added by the transport, which sees each hop as a new
// request: a redirect to another server would get it too.
func sameOrigin(req *http.Request, via []*http.Request) error {
	from := via[0].URL
	if origin(req.URL) != origin(from) {
		return fmt.Errorf("not following a redirect to %s: another origin than the API's (%s)", req.URL.Scheme+"://"+req.URL.Host, from.Scheme+"://"+from.Host)
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// authTransport puts the current token on each API request to a trusted
// host.
type authTransport struct {
	base   http.RoundTripper
	tokens TokenSource
	hosts  *Hosts
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.tokens == nil || !t.hosts.MayReceiveToken(req.URL) {
		return t.base.RoundTrip(req)
	}
	tok, err := t.tokens.Token(req.Context())
	if err != nil {
		return nil, err
	}
	if tok == "" {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(r)
}

// newClient returns a go-github client for the REST API of hosts.
func newClient(hosts *Hosts, hc *http.Client, tokens TokenSource) (*gh.Client, error) {
	if hosts == nil {
		return nil, errors.New("no GitHub API given")
	}
	base := http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		base = hc.Transport
	}
	client := &http.Client{
		Transport:     &authTransport{base: base, tokens: tokens, hosts: hosts},
		CheckRedirect: sameOrigin,
		Timeout:       60 * time.Second,
	}
	c := gh.NewClient(client)
	if hosts.api != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(hosts.api, hosts.api); err != nil {
			return nil, fmt.Errorf("--api-url %q: %w", hosts.api, err)
		}
	}
	// Client.retry waits as each answer asks; go-github's own refusal to
	// send before a remembered reset would only repeat that wait, on a
	// clock no test controls.
	c.DisableRateLimitCheck = true
	return c, nil
}
