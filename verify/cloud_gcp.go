package verify

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
	"net/url"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
)

const (
	gcpBase = "https://oauth2.googleapis.com"
	// gcpAudience is what the assertion is for: Google's token endpoint,
	// whatever base the request goes to.
	gcpAudience = gcpBase + "/token"
	gcpScope    = "https://www.googleapis.com/auth/cloud-platform"
)

// gcp exchanges an assertion signed with a service account's private key
// for an access token, which reads nothing and changes nothing: Google
// issues one only for a key of an account that exists. The token is
// dropped unread.
func gcp() *Provider {
	return &Provider{
		Name: "gcp",
		Base: gcpBase,
		Verifiers: []Verifier{{
			Rules: []string{"private-key"},
			Calls: []string{"POST " + gcpAudience},
			Applies: func(f finding.Finding) bool {
				return f.Context["client_email"] != ""
			},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				email := f.Context["client_email"]
				key, err := gcpPrivateKey(f.Secret)
				if err != nil {
					return Unknown("%v", err)
				}
				assertion, err := gcpAssertion(key, email, f.Context["private_key_id"], time.Now())
				if err != nil {
					return Unknown("sign the assertion: %v", err)
				}
				form := url.Values{
					"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
					"assertion":  {assertion},
				}
				resp, err := c.Do(ctx, Request{
					Method: http.MethodPost, Path: "/token", Body: []byte(form.Encode()),
					Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				})
				if err != nil {
					return Unknown("%v", err)
				}
				return gcpResult(resp, email)
			},
		}},
	}
}

// gcpPrivateKey reads the RSA key of a PEM block, which a JSON key file
// holds with its line breaks escaped as \n.
func gcpPrivateKey(secret string) (*rsa.PrivateKey, error) {
	text := strings.ReplaceAll(secret, `\n`, "\n")
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("the private key is not a PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the private key does not parse (PKCS #8)")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("the private key is not RSA: not a service account's")
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the private key does not parse (PKCS #1)")
		}
		return k, nil
	}
	return nil, errors.New("the private key is not RSA: not a service account's")
}

// gcpAssertion is the signed JWT (RS256) that asks for a token of email.
func gcpAssertion(key *rsa.PrivateKey, email, keyID string, now time.Time) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if keyID != "" {
		header["kid"] = keyID
	}
	claims := map[string]any{
		"iss": email, "sub": email, "aud": gcpAudience, "scope": gcpScope,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cl, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(h) + "." + enc.EncodeToString(cl)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// gcpDead are the descriptions of invalid_grant that say the key or its
// account is gone; others (a clock off, a disabled account) say nothing
// sure about the key.
var gcpDead = []string{"invalid jwt signature", "account not found", "account has been deleted"}

func gcpResult(resp *Response, email string) Result {
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	ok := cloudDecode(resp, &body)
	switch {
	case resp.Status == http.StatusOK:
		if !ok || body.AccessToken == "" {
			return Unexpected(resp)
		}
		return Verified("service account " + email)
	case (resp.Status == http.StatusBadRequest || resp.Status == http.StatusUnauthorized) && ok && body.Error != "":
		desc := strings.ToLower(body.Description)
		if body.Error == "invalid_grant" {
			for _, d := range gcpDead {
				if strings.Contains(desc, d) {
					return Invalid(fmt.Sprintf("HTTP %d invalid_grant: %s", resp.Status, Clean(body.Description, 100)))
				}
			}
		}
		return Unknown("HTTP %d %s: %s", resp.Status, Clean(body.Error, 40), Clean(body.Description, 100))
	case resp.Status == http.StatusUnauthorized:
		return Unexpected(resp)
	}
	return ByStatus(resp, nil)
}
