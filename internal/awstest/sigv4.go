package awstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	keyID         string
	date          string // yyyymmdd, from the credential scope
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// errMalformed is a request whose Authorization header AWS would not parse.
var errMalformed = errors.New("malformed Authorization header")

func parseAuth(v string) (authHeader, error) {
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(v, algo) {
		return authHeader{}, errMalformed
	}
	var a authHeader
	for _, part := range strings.Split(strings.TrimPrefix(v, algo), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authHeader{}, errMalformed
		}
		switch k {
		case "Credential":
			scope := strings.Split(val, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return authHeader{}, errMalformed
			}
			a.keyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		}
	}
	if a.keyID == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return authHeader{}, errMalformed
	}
	return a, nil
}

// checkSignature recomputes the SigV4 signature of r (with its body) using
// secret, independently of the SDK's signer, and compares it with the one
// the client sent.
func checkSignature(r *http.Request, body []byte, a authHeader, secret string, now time.Time) error {
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return fmt.Errorf("missing or bad X-Amz-Date %q", amzDate)
	}
	if d := now.Sub(t); d > 15*time.Minute || d < -15*time.Minute {
		return fmt.Errorf("signature expired: %s is not within 15 minutes of %s", amzDate, now.UTC().Format("20060102T150405Z"))
	}
	if a.date != t.Format("20060102") {
		return fmt.Errorf("credential scope date %s does not match X-Amz-Date %s", a.date, amzDate)
	}
	if !slices.Contains(a.signedHeaders, "host") {
		return errors.New("host is not a signed header")
	}

	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range a.signedHeaders {
		canon.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	canon.WriteString("\n" + strings.Join(a.signedHeaders, ";") + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canon.WriteString(payload)

	canonSum := sha256.Sum256([]byte(canon.String()))
	scope := strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/")
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(canonSum[:])

	k := hmacSum([]byte("AWS4"+secret), a.date)
	k = hmacSum(k, a.region)
	k = hmacSum(k, a.service)
	k = hmacSum(k, "aws4_request")
	want := hex.EncodeToString(hmacSum(k, toSign))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return errors.New("the request signature we calculated does not match the signature you provided")
	}
	return nil
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			vals = []string{v}
		} else {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// uriEncode percent-encodes everything but RFC 3986's unreserved
// characters, as SigV4 requires.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
