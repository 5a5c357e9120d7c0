package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/internal/providertest"
)

const (
	cloudStripeLive       = "sk_live_51HqLyjWDarjtT1zdp7dcXyZ9aBcDeFgHiJkLmN"
	cloudStripeRestricted = "rk_live_51HqLyjWDarjtT1zdQwErTyUiOpAsDfGhJkL"
	cloudStripeDead       = "sk_live_51HqLyjWDarjtT1zdZzZzZzZzZzZzZzZzZzZz"
	cloudGoogleLive       = "AIzaSyD3x4mPl3K3yTh4tL00ksR34lAndR4nd0m"
	cloudGoogleOff        = "AIzaSyB9qWeRtYuIoPaSdFgHjKlZxCvBnMqWeRt"
	cloudGoogleReferrer   = "AIzaSyC7lKjHgFdSaPoIuYtReWqMnBvCxZlKjHg"
	cloudGoogleDead       = "AIzaSyA0000000000000000000000000000000000"
	cloudDOLive           = "dop_v1_4f9c2b7e1a3d5c8f0e2b4a6c8d0f1e3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e"
	cloudDOOAuth          = "doo_v1_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
	cloudDOScoped         = "dop_v1_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"
	cloudDORefresh        = "dor_v1_0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	cloudDODead           = "dop_v1_0000000000000000000000000000000000000000000000000000000000000000"
	cloudHerokuLive       = "HRKU-AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQrrSStt0123456789ab"
	cloudHerokuDead       = "HRKU-ZZyyXXwwVVuuTTssRRqqPPooNNmmLLkkJJiiHHgg9876543210zy"
	cloudNRLive           = "NRAK-7JQ2K9XZPA4B8C1D3E5F7G9H0JK"
	cloudNRDead           = "NRAK-0000000000000000000000000000"
	cloudNRInsert         = "NRII-aB3dE5fG7hJ9kL1mN3pQ5rS7tU9v"
	cloudSentryUser       = "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"
	cloudSentryDead       = "sntryu_0000000000000000000000000000000000000000000000000000000000000000"
	cloudAzureAccount     = "acmebackups"
	cloudSAEmail          = "deployer@acme-prod-123456.iam.gserviceaccount.com"
	cloudSAKeyID          = "0123456789abcdef0123456789abcdef01234567"
)

var (
	cloudAzureKey   = base64.StdEncoding.EncodeToString([]byte("a Shared Key of sixty-four bytes: only its HMAC is ever sent!!!!"))
	cloudAzureWrong = base64.StdEncoding.EncodeToString([]byte("another key of sixty-four bytes, which Azure does not know!!!!!!"))
	cloudSentryOrg  = cloudSentryOrgToken("https://sentry.io")
	// cloudRSA are two service account keys, made once: the first is
	// the account's, the second no one's.
	cloudRSA = sync.OnceValue(func() [2]*rsa.PrivateKey {
		var out [2]*rsa.PrivateKey
		for i := range out {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			out[i] = k
		}
		return out
	})
)

// cloudSentryOrgToken is an organization token naming the Sentry at u.
func cloudSentryOrgToken(u string) string {
	payload := fmt.Sprintf(`{"iat":1718000000.5,"url":%q,"region_url":"https://us.sentry.io","org":"acme"}`, u)
	return "sntrys_" + base64.StdEncoding.EncodeToString([]byte(payload)) + "_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"
}

// cloudPKCS8 is key's PEM block as a JSON key file holds it: line breaks
// escaped as \n.
func cloudPKCS8(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n", `\n`)
}

// providerCase is one finding verified against a provider's stand-in.
var cloudTwoWaits = []time.Duration{3 * time.Second, 3 * time.Second}

func TestStripeKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Stripe(map[string]providertest.StripeAccount{
			cloudStripeLive:       {ID: "acct_1HqLyjWDarjtT1zd", Name: "Acme Rockets", Email: "billing@acme.test"},
			cloudStripeRestricted: {ID: "acct_1HqLyjWDarjtT1zd", Restricted: true},
		})
	}
	get := []string{"GET /v1/account"}
	rule := "stripe-live-key"
	runProvider(t, "stripe", serve, inHeader("Authorization", "Bearer %s"), "3", []providerCase{
		{name: "live", rule: rule, secret: cloudStripeLive, calls: get,
			want: verifiedAs("stripe", "account acct_1HqLyjWDarjtT1zd, Acme Rockets, billing@acme.test")},
		{name: "restricted without the permission", rule: rule, secret: cloudStripeRestricted, calls: get,
			want: verifiedAs("stripe", "restricted key of account acct_1HqLyjWDarjtT1zd (cannot read the account)")},
		{name: "dead", rule: rule, secret: cloudStripeDead, calls: get,
			want: invalidAs("stripe", "HTTP 401: the provider does not accept it")},
		{name: "rate limited twice", rule: rule, secret: cloudStripeLive, limited: 2, waits: cloudTwoWaits,
			calls: []string{"GET /v1/account", "GET /v1/account", "GET /v1/account"},
			want:  verifiedAs("stripe", "account acct_1HqLyjWDarjtT1zd, Acme Rockets, billing@acme.test")},
		{name: "failing", rule: rule, secret: cloudStripeLive, calls: get, serve: failing("stripe", 500, `{"error":{}}`),
			want: unknownAs("stripe", "HTTP 500: the provider failed")},
		{name: "not an account", rule: rule, secret: cloudStripeLive, calls: get, serve: failing("stripe", 200, `{"object":"balance"}`),
			want: unknownAs("stripe", "unexpected answer: HTTP 200")},
		{name: "a 403 that is not a permission error", rule: rule, secret: cloudStripeLive, calls: get, serve: failing("stripe", 403, `<html>blocked</html>`),
			want: unknownAs("stripe", "unexpected answer: HTTP 403")},
	})
}

func TestGoogleAPIKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Google(map[string]providertest.GoogleKey{
			cloudGoogleLive:     {Project: "123456789012"},
			cloudGoogleOff:      {Project: "987654321098", Reason: "SERVICE_DISABLED"},
			cloudGoogleReferrer: {Project: "555555555555", Reason: "API_KEY_HTTP_REFERRER_BLOCKED"},
		})
	}
	get := []string{"GET /v1beta/models"}
	rule := "google-api-key"
	runProvider(t, "google", serve, inHeader("X-Goog-Api-Key", "%s"), "3", []providerCase{
		{name: "live", rule: rule, secret: cloudGoogleLive, calls: get,
			want: verifiedAs("google", "Generative Language API enabled")},
		{name: "API off in its project", rule: rule, secret: cloudGoogleOff, calls: get,
			want: verifiedAs("google", "project 987654321098: key the Generative Language API is off in its project")},
		{name: "restricted to websites", rule: rule, secret: cloudGoogleReferrer, calls: get,
			want: verifiedAs("google", "project 555555555555: key restricted to some websites")},
		{name: "dead", rule: rule, secret: cloudGoogleDead, calls: get,
			want: invalidAs("google", "HTTP 400 API_KEY_INVALID: Google does not accept the key (unknown or expired)")},
		{name: "rate limited twice", rule: rule, secret: cloudGoogleLive, limited: 2, waits: cloudTwoWaits,
			calls: []string{"GET /v1beta/models", "GET /v1beta/models", "GET /v1beta/models"},
			want:  verifiedAs("google", "Generative Language API enabled")},
		{name: "failing", rule: rule, secret: cloudGoogleLive, calls: get, serve: failing("google", 500, `{}`),
			want: unknownAs("google", "HTTP 500: the provider failed")},
		{name: "a 403 of another reason", rule: rule, secret: cloudGoogleLive, calls: get,
			serve: failing("google", 403, `{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com"}]}}`),
			want:  unknownAs("google", "HTTP 403 CONSUMER_SUSPENDED: no answer about the key")},
		{name: "a 400 without a reason", rule: rule, secret: cloudGoogleLive, calls: get,
			serve: failing("google", 400, `{"error":{"code":400,"message":"User location is not supported","status":"FAILED_PRECONDITION"}}`),
			want:  unknownAs("google", "unexpected answer: HTTP 400")},
		{name: "not a model list", rule: rule, secret: cloudGoogleLive, calls: get, serve: failing("google", 200, `<html></html>`),
			want: unknownAs("google", "unexpected answer: HTTP 200")},
	})
}

func TestGCPServiceAccount(t *testing.T) {
	t.Parallel()
	keys := cloudRSA()
	serve := func(s *providertest.Server) {
		s.GCP(map[string]providertest.ServiceAccount{cloudSAEmail: {Key: &keys[0].PublicKey, KeyID: cloudSAKeyID}})
	}
	live := cloudPKCS8(t, keys[0])
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys[0])}))
	other := cloudPKCS8(t, keys[1])
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sa := map[string]string{"client_email": cloudSAEmail, "private_key_id": cloudSAKeyID}
	post := []string{"POST /token"}
	rule := "private-key"
	runProvider(t, "gcp", serve, cloudGCPSent, "3", []providerCase{
		{name: "live, PKCS #8 escaped as in JSON", rule: rule, secret: live, context: sa, calls: post,
			want: verifiedAs("gcp", "service account "+cloudSAEmail)},
		{name: "live, PKCS #1", rule: rule, secret: pkcs1, context: map[string]string{"client_email": cloudSAEmail}, calls: post,
			want: verifiedAs("gcp", "service account "+cloudSAEmail)},
		{name: "a key the account does not have", rule: rule, secret: other, context: map[string]string{"client_email": cloudSAEmail}, calls: post,
			want: invalidAs("gcp", "HTTP 400 invalid_grant: Invalid JWT Signature.")},
		{name: "an account that is gone", rule: rule, secret: live, calls: post,
			context: map[string]string{"client_email": "gone-account@acme-prod-123456.iam.gserviceaccount.com"},
			want:    invalidAs("gcp", "HTTP 400 invalid_grant: Invalid grant: account not found")},
		{name: "not a service account's key", rule: rule, secret: live},
		{name: "not RSA", rule: rule, secret: cloudPKCS8(t, ec), context: sa,
			want: unknownAs("gcp", "the private key is not RSA: not a service account's")},
		{name: "rate limited twice", rule: rule, secret: live, context: sa, limited: 2, waits: cloudTwoWaits,
			calls: []string{"POST /token", "POST /token", "POST /token"},
			want:  verifiedAs("gcp", "service account "+cloudSAEmail)},
		{name: "failing", rule: rule, secret: live, context: sa, calls: post, serve: failing("gcp", 500, `{}`),
			want: unknownAs("gcp", "HTTP 500: the provider failed")},
		{name: "a clock off", rule: rule, secret: live, context: sa, calls: post,
			serve: failing("gcp", 400, `{"error":"invalid_grant","error_description":"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."}`),
			want:  unknownAs("gcp", "HTTP 400 invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")},
		{name: "no token issued", rule: rule, secret: live, context: sa, calls: post, serve: failing("gcp", 200, `{"token_type":"Bearer"}`),
			want: unknownAs("gcp", "unexpected answer: HTTP 200")},
	})
}

// cloudGCPSent: the key never leaves, an assertion goes in a form.
func cloudGCPSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if ct := c.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, line := range strings.Split(strings.ReplaceAll(secret, `\n`, "\n"), "\n") {
		if len(line) > 16 && strings.Contains(string(c.Body)+fmt.Sprint(c.Header)+c.Path, line) {
			t.Errorf("the private key was sent")
		}
	}
	nowhere(t, c, secret)
}

func TestAzureStorageKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Azure(map[string]string{cloudAzureAccount: cloudAzureKey})
	}
	acct := map[string]string{"account": cloudAzureAccount}
	list := []string{"GET /" + cloudAzureAccount + "/"}
	rule := "azure-storage-account-key"
	runProvider(t, "azure", serve, cloudAzureSent, "3", []providerCase{
		{name: "live", rule: rule, secret: cloudAzureKey, context: acct, calls: list,
			want: verifiedAs("azure", "storage account "+cloudAzureAccount)},
		{name: "another cloud's suffix", rule: rule, secret: cloudAzureKey, calls: list,
			context: map[string]string{"account": cloudAzureAccount, "endpoint_suffix": "core.chinacloudapi.cn"},
			want:    verifiedAs("azure", "storage account "+cloudAzureAccount)},
		{name: "dead", rule: rule, secret: cloudAzureWrong, context: acct, calls: list,
			want: invalidAs("azure", "HTTP 403 AuthenticationFailed: Azure does not accept the key's signature")},
		{name: "no account beside it", rule: rule, secret: cloudAzureKey},
		{name: "an account name that is no host name", rule: rule, secret: cloudAzureKey, context: map[string]string{"account": "evil.example.com/x"}},
		{name: "rate limited twice", rule: rule, secret: cloudAzureKey, context: acct, limited: 2, waits: cloudTwoWaits,
			calls: []string{list[0], list[0], list[0]},
			want:  verifiedAs("azure", "storage account "+cloudAzureAccount)},
		{name: "failing", rule: rule, secret: cloudAzureKey, context: acct, calls: list, serve: failing("azure", 500, ``),
			want: unknownAs("azure", "HTTP 500: the provider failed")},
		{name: "shared keys not allowed", rule: rule, secret: cloudAzureKey, context: acct, calls: list,
			serve: failing("azure", 403, `<?xml version="1.0" encoding="utf-8"?><Error><Code>KeyBasedAuthenticationNotPermitted</Code></Error>`),
			want:  unknownAs("azure", "HTTP 403 KeyBasedAuthenticationNotPermitted: no answer about the key")},
		{name: "not a container list", rule: rule, secret: cloudAzureKey, context: acct, calls: list, serve: failing("azure", 200, `{"ok":true}`),
			want: unknownAs("azure", "unexpected answer: HTTP 200")},
	})
}

// cloudAzureSent: the key is never sent, only its signature, with the
// date and version it signs.
func cloudAzureSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if !strings.HasPrefix(c.Header.Get("Authorization"), "SharedKey "+cloudAzureAccount+":") || c.Header.Get("X-Ms-Date") == "" || c.Header.Get("X-Ms-Version") == "" {
		t.Errorf("not a Shared Key request: %v", c.Header)
	}
	if got := c.Query.Encode(); got != "comp=list&maxresults=1" {
		t.Errorf("query %q", got)
	}
	nowhere(t, c, secret)
}

// TestAzureAccountHost: without an override, the request goes to the
// account's own host under the suffix, with the path "/".
func TestAzureAccountHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ suffix, host string }{
		{"", cloudAzureAccount + ".blob.core.windows.net"},
		{"core.usgovcloudapi.net", cloudAzureAccount + ".blob.core.usgovcloudapi.net"},
	} {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Host+" "+r.URL.RequestURI())
				mu.Unlock()
				_, _ = w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Containers /></EnumerationResults>`))
			}))
			t.Cleanup(srv.Close)
			addr := srv.Listener.Addr().String()
			sess, err := Open(Options{
				Providers: []string{"azure"}, Timeout: 5 * time.Second,
				Transport: func(tr *http.Transport) *http.Transport {
					tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
						return (&net.Dialer{}).DialContext(ctx, network, addr)
					}
					tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // a test server
					return tr
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := map[string]string{"account": cloudAzureAccount}
			if tt.suffix != "" {
				ctx["endpoint_suffix"] = tt.suffix
			}
			v := verifyOne(t, sess, "azure-storage-account-key", cloudAzureKey, ctx)
			if diff := cmp.Diff(verifiedAs("azure", "storage account "+cloudAzureAccount), v); diff != "" {
				t.Errorf("verification (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.host + " /?comp=list&maxresults=1"}, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAzureStringToSign checks the canonical string against the example
// of Azure's Shared Key documentation.
func TestAzureStringToSign(t *testing.T) {
	t.Parallel()
	got := azureStringToSign("GET", "myaccount", "/mycontainer", "Fri, 26 Jun 2015 23:39:12 GMT", "2015-02-21",
		url.Values{"restype": {"container"}, "comp": {"metadata"}, "timeout": {"20"}})
	want := "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("string to sign (-want +got):\n%s", diff)
	}
}

func TestDigitalOceanToken(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.DigitalOcean(map[string]providertest.DigitalOceanAccount{
			cloudDOLive:   {Email: "sammy@acme.test", UUID: "b6fr89dbf6d9156cace5f3c78dc9851d957381ef", Team: "Acme"},
			cloudDOOAuth:  {Email: "ops@acme.test", UUID: "c7aa89dbf6d9156cace5f3c78dc9851d957381ef", Team: "Ops"},
			cloudDOScoped: {NoAccountRead: true},
		})
	}
	get := []string{"GET /v2/account"}
	rule := "digitalocean-token"
	runProvider(t, "digitalocean", serve, inHeader("Authorization", "Bearer %s"), "3", []providerCase{
		{name: "live", rule: rule, secret: cloudDOLive, calls: get,
			want: verifiedAs("digitalocean", "email sammy@acme.test, uuid b6fr89dbf6d9156cace5f3c78dc9851d957381ef, team Acme")},
		{name: "OAuth token", rule: rule, secret: cloudDOOAuth, calls: get,
			want: verifiedAs("digitalocean", "email ops@acme.test, uuid c7aa89dbf6d9156cace5f3c78dc9851d957381ef, team Ops")},
		{name: "scoped without account:read", rule: rule, secret: cloudDOScoped, calls: get,
			want: verifiedAs("digitalocean", "scoped token without account:read")},
		{name: "refresh token not checked", rule: rule, secret: cloudDORefresh},
		{name: "dead", rule: rule, secret: cloudDODead, calls: get,
			want: invalidAs("digitalocean", "HTTP 401: the provider does not accept it")},
		{name: "rate limited twice", rule: rule, secret: cloudDOLive, limited: 2, waits: cloudTwoWaits,
			calls: []string{get[0], get[0], get[0]},
			want:  verifiedAs("digitalocean", "email sammy@acme.test, uuid b6fr89dbf6d9156cace5f3c78dc9851d957381ef, team Acme")},
		{name: "failing", rule: rule, secret: cloudDOLive, calls: get, serve: failing("digitalocean", 502, ``),
			want: unknownAs("digitalocean", "HTTP 502: the provider failed")},
		{name: "not an account", rule: rule, secret: cloudDOLive, calls: get, serve: failing("digitalocean", 200, `{"droplets":[]}`),
			want: unknownAs("digitalocean", "unexpected answer: HTTP 200")},
	})
}

func TestHerokuKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Heroku(map[string]providertest.HerokuAccount{cloudHerokuLive: {Email: "dev@acme.test", ID: "01234567-89ab-cdef-0123-456789abcdef"}})
	}
	get := []string{"GET /account"}
	rule := "heroku-api-key"
	sent := func(t *testing.T, c providertest.Call, secret string) {
		t.Helper()
		if a := c.Header.Get("Accept"); a != "application/vnd.heroku+json; version=3" {
			t.Errorf("Accept %q", a)
		}
		inHeader("Authorization", "Bearer %s")(t, c, secret)
	}
	runProvider(t, "heroku", serve, sent, "3", []providerCase{
		{name: "live", rule: rule, secret: cloudHerokuLive, calls: get,
			want: verifiedAs("heroku", "email dev@acme.test, id 01234567-89ab-cdef-0123-456789abcdef")},
		{name: "dead", rule: rule, secret: cloudHerokuDead, calls: get,
			want: invalidAs("heroku", "HTTP 401: the provider does not accept it")},
		{name: "rate limited twice", rule: rule, secret: cloudHerokuLive, limited: 2, waits: cloudTwoWaits,
			calls: []string{get[0], get[0], get[0]},
			want:  verifiedAs("heroku", "email dev@acme.test, id 01234567-89ab-cdef-0123-456789abcdef")},
		{name: "failing", rule: rule, secret: cloudHerokuLive, calls: get, serve: failing("heroku", 500, ``),
			want: unknownAs("heroku", "HTTP 500: the provider failed")},
		{name: "not an account", rule: rule, secret: cloudHerokuLive, calls: get, serve: failing("heroku", 200, `[]`),
			want: unknownAs("heroku", "unexpected answer: HTTP 200")},
	})
}

func TestNewRelicKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.NewRelic(map[string]providertest.NewRelicUser{cloudNRLive: {Name: "Dana Ops", Email: "dana@acme.test"}})
	}
	post := []string{"POST /graphql"}
	rule := "newrelic-api-key"
	sent := func(t *testing.T, c providertest.Call, secret string) {
		t.Helper()
		if string(c.Body) != newrelicQuery || c.Header.Get("Content-Type") != "application/json" {
			t.Errorf("body %q, Content-Type %q", c.Body, c.Header.Get("Content-Type"))
		}
		inHeader("Api-Key", "%s")(t, c, secret)
	}
	runProvider(t, "newrelic", serve, sent, "3", []providerCase{
		{name: "live", rule: rule, secret: cloudNRLive, calls: post,
			want: verifiedAs("newrelic", "user dana@acme.test, Dana Ops")},
		{name: "dead in both regions", rule: rule, secret: cloudNRDead, calls: []string{"POST /graphql", "POST /graphql"},
			want: invalidAs("newrelic", "HTTP 401: the provider does not accept it (US and EU regions)")},
		{name: "insert key not checked", rule: rule, secret: cloudNRInsert},
		{name: "rate limited twice", rule: rule, secret: cloudNRLive, limited: 2, waits: cloudTwoWaits,
			calls: []string{post[0], post[0], post[0]},
			want:  verifiedAs("newrelic", "user dana@acme.test, Dana Ops")},
		{name: "failing", rule: rule, secret: cloudNRLive, calls: post, serve: failing("newrelic", 500, ``),
			want: unknownAs("newrelic", "HTTP 500: the provider failed")},
		{name: "errors and no user", rule: rule, secret: cloudNRLive, calls: post,
			serve: failing("newrelic", 200, `{"errors":[{"message":"Something went wrong"}],"data":{"actor":null}}`),
			want:  unknownAs("newrelic", "unexpected answer: HTTP 200")},
	})
}

func TestSentryToken(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Sentry(map[string]providertest.SentryToken{
			cloudSentryUser: {Username: "dana", Email: "dana@acme.test", Scopes: []string{"org:read", "project:read"}},
			cloudSentryOrg:  {Scopes: []string{"org:ci"}},
		})
	}
	get := []string{"GET /api/0/"}
	runProvider(t, "sentry", serve, inHeader("Authorization", "Bearer %s"), "3", []providerCase{
		{name: "user token", rule: "sentry-user-token", secret: cloudSentryUser, calls: get,
			want: verifiedAs("sentry", "user dana, dana@acme.test", "org:read", "project:read")},
		{name: "organization token", rule: "sentry-org-token", secret: cloudSentryOrg, calls: get,
			want: verifiedAs("sentry", "organization token", "org:ci")},
		{name: "a self-hosted Sentry's token, its endpoint named", rule: "sentry-org-token", secret: cloudSentryOrgToken("https://sentry.acme.internal"), calls: get,
			want: invalidAs("sentry", "HTTP 401: the provider does not accept it")},
		{name: "dead", rule: "sentry-user-token", secret: cloudSentryDead, calls: get,
			want: invalidAs("sentry", "HTTP 401: the provider does not accept it")},
		{name: "rate limited twice", rule: "sentry-user-token", secret: cloudSentryUser, limited: 2, waits: cloudTwoWaits,
			calls: []string{get[0], get[0], get[0]},
			want:  verifiedAs("sentry", "user dana, dana@acme.test", "org:read", "project:read")},
		{name: "failing", rule: "sentry-user-token", secret: cloudSentryUser, calls: get, serve: failing("sentry", 500, ``),
			want: unknownAs("sentry", "HTTP 500: the provider failed")},
		{name: "the token not taken", rule: "sentry-user-token", secret: cloudSentryUser, calls: get,
			serve: failing("sentry", 200, `{"version":"0","auth":null,"user":null}`),
			want:  unknownAs("sentry", "unexpected answer: HTTP 200")},
	})
}

// TestSentrySelfHosted: an organization token of another Sentry is not
// sent to sentry.io.
func TestSentrySelfHosted(t *testing.T) {
	t.Parallel()
	sess, err := Open(Options{
		Providers: []string{"sentry"}, Timeout: time.Second,
		Transport: func(tr *http.Transport) *http.Transport {
			tr.DialContext = func(context.Context, string, string) (net.Conn, error) {
				t.Error("a request was made")
				return nil, errors.New("no network in tests")
			}
			return tr
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := verifyOne(t, sess, "sentry-org-token", cloudSentryOrgToken("https://sentry.acme.internal"), nil)
	want := unknownAs("sentry", "a token of the Sentry at sentry.acme.internal: name it with --verify-endpoint sentry=URL to check it")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verification (-want +got):\n%s", diff)
	}
}

// TestCloudCatalog: every rule the providers name is in the detectors'
// catalog, each rule once, and the calls are "METHOD https://...".
func TestCloudCatalog(t *testing.T) {
	t.Parallel()
	rules := map[string]bool{}
	for _, r := range detectors.Catalog() {
		rules[r.ID] = true
	}
	for _, p := range []*Provider{stripe(), shopify(), google(), gcp(), azure(), digitalocean(), heroku(), datadog(), newrelic(), sentry()} {
		seen := map[string]bool{}
		for _, v := range p.Verifiers {
			for _, r := range v.Rules {
				if !rules[r] || seen[r] {
					t.Errorf("%s: rule %q unknown or twice", p.Name, r)
				}
				seen[r] = true
			}
			for _, c := range v.Calls {
				if m, u, ok := strings.Cut(c, " "); !ok || (m != "GET" && m != "POST") || !strings.HasPrefix(u, "https://") {
					t.Errorf("%s: call %q", p.Name, c)
				}
			}
		}
		for r, why := range p.Unverified {
			if !rules[r] || seen[r] || why == "" {
				t.Errorf("%s: unverified rule %q unknown, verified too, or without a reason", p.Name, r)
			}
			seen[r] = true
		}
	}
	sess, err := Open(Options{Providers: []string{"shopify", "datadog"}})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Verifies("shopify-token") {
		t.Error("shopify-token is verified without its shop")
	}
}
