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
	"net/http"
	"strconv"
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
	appID  int64
	key    *rsa.PrivateKey
	org    string
	apiURL string
	hc     *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewAppTokens reads the App's private key (PEM, PKCS#1 or PKCS#8).
func NewAppTokens(appID int64, keyPEM []byte, org, apiURL string, hc *http.Client) (*AppTokens, error) {
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
	return &AppTokens{appID: appID, key: key, org: org, apiURL: apiURL, hc: hc}, nil
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
	c, err := newClient(a.apiURL, a.hc, StaticToken(jwt))
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

// authTransport puts the current token on each API request.
type authTransport struct {
	base   http.RoundTripper
	tokens TokenSource
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.tokens == nil {
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

// newClient returns a go-github client for apiURL ("" for github.com; a
// GitHub Enterprise Server's https://HOST/api/v3/ otherwise).
func newClient(apiURL string, hc *http.Client, tokens TokenSource) (*gh.Client, error) {
	base := http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		base = hc.Transport
	}
	client := &http.Client{Transport: &authTransport{base: base, tokens: tokens}, Timeout: 60 * time.Second}
	c := gh.NewClient(client)
	if apiURL == "" {
		return c, nil
	}
	c, err := c.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("--api-url %q: %w", apiURL, err)
	}
	return c, nil
}
