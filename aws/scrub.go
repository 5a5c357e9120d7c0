package aws

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// What an AWS endpoint answers is input, not truth: an endpoint that is
// hostile, or a proxy, may echo the session token a request carried (or
// a secret) in any form: plain, percent-encoded, '+' read as a space,
// HTML-escaped, base64, cut short, inside an ARN. Matching the secrets
// exactly cannot find every form, so keysweep writes out only values of
// a known shape (error codes, HTTP statuses, account ids, ARNs, user ids,
// user names) and its own fixed wording, never an error message or an
// answer's body; and a value of the right shape that still holds 8
// characters in a row of a secret, once decoded, is dropped too.

var (
	errorCodeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.]{0,63}$`)
	// arnRe matches the ARN of a caller: root, an IAM user (with its
	// path), an assumed role's session, a federated user. The group is
	// the account.
	arnRe = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:(?:iam|sts)::([0-9]{12}):` +
		`(?:root|user/[\w+=,.@/-]{1,512}|assumed-role/[\w+=,.@-]{1,64}/[\w+=,.@-]{1,64}|federated-user/[\w+=,.@-]{1,64})$`)
	// userIDRe matches a caller's unique id: the account (root), an IAM
	// unique id (AIDA…, AROA…), either with ":" and a session or
	// federated user's name.
	userIDRe   = regexp.MustCompile(`^(?:[0-9]{12}|A[A-Z0-9]{15,127})(?::[\w+=,.@-]{1,64})?$`)
	userNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	hostRe     = regexp.MustCompile(`^[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](?::[0-9]{1,5})?$`)
	base64Run  = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}`)
)

// errMalformedIdentity is the error of a GetCallerIdentity answer that is
// not in AWS's format: none of it is kept.
const errMalformedIdentity = "STS answered with an identity not in AWS's format: answer discarded"

// echoWindow is the length of the runs of a secret looked for in values.
const echoWindow = 8

// ownError is an error in keysweep's own words, built only from values
// already checked: it is written out as it is.
type ownError string

func (e ownError) Error() string { return string(e) }

// echoes reports whether s holds echoWindow characters in a row of one of
// secrets (case ignored), as it is or after undoing the encodings an
// endpoint might apply, one inside another.
func echoes(s string, secrets []string) bool {
	windows := map[string]bool{}
	for _, secret := range secrets {
		secret = strings.ToLower(secret)
		for i := 0; i+echoWindow <= len(secret); i++ {
			windows[secret[i:i+echoWindow]] = true
		}
	}
	holds := func(f string) bool {
		f = strings.ToLower(f)
		for i := 0; i+echoWindow <= len(f); i++ {
			if windows[f[i:i+echoWindow]] {
				return true
			}
		}
		return false
	}
	if len(windows) == 0 || len(s) < echoWindow {
		return false
	}
	if holds(s) {
		return true
	}
	textual, decoded := undo(s, true)
	for _, f := range append(textual, decoded...) {
		if holds(f) {
			return true
		}
	}
	// Once more, for one encoding inside another (base64 of the
	// percent-encoded secret, say); base64 inside base64 is left out,
	// which keeps the work linear in the length of s.
	for _, f := range textual {
		t, d := undo(f, true)
		for _, g := range append(t, d...) {
			if holds(g) {
				return true
			}
		}
	}
	for _, f := range decoded {
		t, _ := undo(f, false)
		for _, g := range t {
			if holds(g) {
				return true
			}
		}
	}
	return false
}

// undo returns s decoded in each way an endpoint may have encoded it:
// textual, percent-encoding, '+' read as a space and HTML character
// references; decoded, with base64, the base64 (standard or URL alphabet,
// at any alignment) of every run that may be some.
func undo(s string, base64Too bool) (textual, decoded []string) {
	textual = []string{unpercent(s), strings.ReplaceAll(s, " ", "+"), html.UnescapeString(s)}
	if !base64Too {
		return textual, nil
	}
	for _, run := range base64Run.FindAllString(s, -1) {
		run = strings.NewReplacer("-", "+", "_", "/").Replace(run)
		for off := range 4 {
			t := run[off:]
			if len(t)%4 == 1 {
				t = t[:len(t)-1]
			}
			if b, err := base64.RawStdEncoding.DecodeString(t); err == nil {
				decoded = append(decoded, string(b))
			}
		}
	}
	return textual, decoded
}

// unpercent decodes every valid %XX in s and leaves the rest, so that a
// stray '%' cannot hide what follows it.
func unpercent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// shaped returns v when it matches re and holds none of secrets, else "".
func shaped(v string, re *regexp.Regexp, secrets []string) string {
	if !re.MatchString(v) || echoes(v, secrets) {
		return ""
	}
	return v
}

// identity checks a GetCallerIdentity answer: a 12-digit account, an ARN
// and a user id of AWS's shapes that name the same account, and no
// secret in any of them.
func identity(account, arn, userID string, secrets []string) bool {
	m := arnRe.FindStringSubmatch(arn)
	if !accountRe.MatchString(account) || m == nil || m[1] != account || !userIDRe.MatchString(userID) {
		return false
	}
	if c := userID[0]; '0' <= c && c <= '9' && !strings.HasPrefix(userID, account) {
		return false
	}
	return !echoes(arn, secrets) && !echoes(userID, secrets)
}

// codeWording says in keysweep's words what common AWS error codes mean,
// since AWS's messages are never written out.
var codeWording = map[string]string{
	"AccessDenied":                "not authorized",
	"AccessDeniedException":       "not authorized",
	"ExpiredToken":                "the session token has expired",
	"IncompleteSignature":         "the request signature is incomplete",
	"InternalFailure":             "AWS internal error",
	"InvalidClientTokenId":        "the key id does not exist or is inactive",
	"LimitExceeded":               "an IAM limit is reached",
	"MalformedPolicyDocument":     "the policy document is malformed",
	"MissingAuthenticationToken":  "the request is not signed",
	"NoSuchEntity":                "not found",
	"OptInRequired":               "the account is not subscribed to the service",
	"RegionDisabledException":     "STS is not activated in this region",
	"RequestExpired":              "the request was signed too long ago: check the clock",
	"ServiceFailure":              "AWS internal error",
	"ServiceUnavailable":          "AWS is unavailable",
	"SignatureDoesNotMatch":       "the signature does not match the secret",
	"Throttling":                  "rate exceeded",
	"ThrottlingException":         "rate exceeded",
	"UnrecognizedClientException": "the key id does not exist or is inactive",
}

// describe turns an error of an AWS call into one short line: the HTTP
// status, the AWS error code (when it has a code's shape and holds none
// of secrets, the credentials the call carried), keysweep's own wording,
// or the kind of network failure. It never includes AWS's message, an
// answer's body, or anything else the endpoint wrote.
func describe(err error, secrets []string) string {
	var own ownError
	if errors.As(err, &own) {
		return string(own)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		what := shaped(apiErr.ErrorCode(), errorCodeRe, secrets)
		switch w, ok := codeWording[what]; {
		case what == "":
			what = "(an error code not in AWS's format)"
		case ok:
			what += ": " + w
		}
		if status != 0 {
			return fmt.Sprintf("HTTP %d %s", status, what)
		}
		return what
	}
	var de *smithy.DeserializationError
	switch {
	case status != 0 && errors.As(err, &de):
		return fmt.Sprintf("HTTP %d with an answer not in AWS's format", status)
	case status != 0:
		return fmt.Sprintf("HTTP %d from AWS", status)
	}
	if msg := network(err, secrets); msg != "" {
		return msg
	}
	var op *smithy.OperationError
	if errors.As(err, &op) && errorCodeRe.MatchString(op.ServiceID) && errorCodeRe.MatchString(op.OperationName) {
		return fmt.Sprintf("%s %s failed before any answer", op.ServiceID, op.OperationName)
	}
	return "request failed"
}

// network names the kind of a network failure, with the endpoint's host;
// "" when err is not one. Go's own errors can quote what a server sent
// (a malformed status line, say), so they are never written out whole.
func network(err error, secrets []string) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		netErr   net.Error
		opErr    *net.OpError
		kind     string
		endpoint string
	)
	switch {
	case errors.As(err, &dnsErr):
		kind = "the host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		kind = "connection reset"
	case errors.As(err, &certErr), errors.As(err, &authErr), errors.As(err, &hostErr), errors.As(err, &invalid):
		kind = "the endpoint's TLS certificate is not trusted"
	case errors.As(err, &recErr):
		kind = "the endpoint does not speak TLS"
	case errors.As(err, &netErr) && netErr.Timeout():
		kind = "network timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		kind = "the connection closed before an answer"
	case errors.As(err, &opErr) && (opErr.Op == "proxyconnect"):
		kind = "the proxy refused the connection"
	default:
		kind = "network error"
	}
	if u, perr := url.Parse(ue.URL); perr == nil {
		endpoint = shaped(u.Host, hostRe, secrets)
	}
	if endpoint == "" {
		return "request failed: " + kind
	}
	return fmt.Sprintf("request to %s failed: %s", endpoint, kind)
}
