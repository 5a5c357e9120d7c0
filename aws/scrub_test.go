package aws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

// echoSecret starts with 8 letters and digits, so that its 8-character
// prefix has the shape of an AWS error code, and holds a '+' and a '/',
// which the encodings change.
const echoSecret = "Q7vRt2Lm+k9X/wB4nE6pZc1HsY8dJ3fG5aU0iKoN"

// checkNoEcho fails if text holds any secret, in any form the stand-in
// can echo it in.
func checkNoEcho(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, f := range awstest.EchoForms() {
			if i := strings.Index(text, f.Apply(s)); i >= 0 {
				t.Errorf("%s holds the secret %s… (%s) at %q", where, s[:4], f, text[max(0, i-20):min(len(text), i+30)])
			}
		}
	}
}

func resultText(r Result) string {
	return strings.Join([]string{r.Status, r.Account, r.ARN, r.UserID, r.Error}, "\n")
}

func TestVerifyNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	fields := []awstest.EchoField{awstest.EchoInMessage, awstest.EchoInCode, awstest.EchoInArn, awstest.EchoInUserID}
	for _, kind := range []string{"user key", "session key"} {
		for _, field := range fields {
			for _, form := range awstest.EchoForms() {
				t.Run(kind+"/"+string(field)+"/"+string(form), func(t *testing.T) {
					t.Parallel()
					s := awstest.New(t)
					cfg := testConfig(t, s, s.AddUserKey(ownAccount, "admin", true))
					c := s.AddUserKey(ownAccount, "deploy", false)
					if kind == "session key" {
						c = s.AddSessionKey(ownAccount, "deployer", "build-42")
					}
					c.Secret = echoSecret
					s.SetSecret(c.KeyID, c.Secret)
					s.SetEcho(awstest.Echo{KeyID: c.KeyID, Form: form, Field: field})

					got := NewVerifier(cfg, 5*time.Second).Verify(context.Background(), Key{ID: c.KeyID, Secret: c.Secret, SessionToken: c.SessionToken})
					checkNoEcho(t, "the result", resultText(got), c.Secret, c.SessionToken)
					raw, err := json.Marshal(got)
					if err != nil {
						t.Fatal(err)
					}
					checkNoEcho(t, "the JSON result", string(raw), c.Secret, c.SessionToken)
					switch field {
					case awstest.EchoInArn, awstest.EchoInUserID:
						// An identity that is not in AWS's format is
						// not believed, and none of it is kept.
						want := Result{Status: finding.StatusUnknown, Error: "STS answered with an identity not in AWS's format: answer discarded"}
						if got.Status != want.Status || got.Account != "" || got.ARN != "" || got.UserID != "" || got.Error != want.Error {
							t.Errorf("got %+v, want %+v", got, want)
						}
					default:
						if got.Status != finding.StatusUnknown || !strings.HasPrefix(got.Error, "HTTP 4") {
							t.Errorf("got %+v, want unknown with the HTTP status", got)
						}
					}
				})
			}
		}
	}
}

// TestVerifyIdentityShapes checks that a well-formed answer is kept
// whole, and that an answer whose parts disagree is not believed.
func TestVerifyIdentityShapes(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	cfg := testConfig(t, s, s.AddUserKey(ownAccount, "admin", true))
	liar := s.AddUserKey(ownAccount, "deploy", false)
	s.AnswerAs(liar.KeyID, foreignAccount)
	got := NewVerifier(cfg, 5*time.Second).Verify(context.Background(), Key{ID: liar.KeyID, Secret: liar.Secret})
	// The answer is consistent in itself: it is reported as given, and
	// remediation compares it with the account the key id decodes to.
	if got.Status != finding.StatusVerified || got.Account != foreignAccount || got.ARN != "arn:aws:iam::"+foreignAccount+":user/deploy" {
		t.Errorf("got %+v", got)
	}
}

// TestRemediateNeverEchoesSecrets plays a hostile IAM (or STS) endpoint
// that echoes the acting credentials' secret and session token in its
// errors and answers: neither the remediation nor the audit log may hold
// them in any form.
func TestRemediateNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action string
		field  awstest.EchoField
		role   bool
	}{
		{"GetCallerIdentity", awstest.EchoInMessage, false},
		{"GetCallerIdentity", awstest.EchoInCode, false},
		{"AssumeRole", awstest.EchoInMessage, true},
		{"AssumeRole", awstest.EchoInCode, true},
		{"ListAccessKeys", awstest.EchoInMessage, false},
		{"ListAccessKeys", awstest.EchoInCode, true},
		{"UpdateAccessKey", awstest.EchoInMessage, true},
		{"UpdateAccessKey", awstest.EchoInCode, false},
		{"GetAccessKeyLastUsed", awstest.EchoInMessage, false},
		{"GetAccessKeyLastUsed", awstest.EchoInCode, true},
		{"GetAccessKeyLastUsed", awstest.EchoInUserName, false},
		{"GetAccessKeyLastUsed", awstest.EchoInUserName, true},
	}
	for _, tt := range tests {
		for _, form := range awstest.EchoForms() {
			name := tt.action + "/" + string(tt.field) + "/" + string(form)
			if tt.role {
				name += "/role"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEstate(t)
				// Default credentials with a session token, and a
				// secret whose prefix looks like an error code.
				acting := e.s.AddSessionKey(ownAccount, "responder", "incident-7")
				acting.Secret = echoSecret
				e.s.SetSecret(acting.KeyID, acting.Secret)
				e.s.AddRole(ownAccount, "responder", ownAccount)
				results := e.verifyAll(t)
				e.s.SetEcho(awstest.Echo{Action: tt.action, Form: form, Field: tt.field})
				audit := openAudit(t)
				opts := RemediateOptions{OwnAccounts: []string{ownAccount}, Deactivate: true, Audit: audit}
				if tt.role {
					opts.RoleName = roleName
				}
				r, err := NewRemediator(testConfig(t, e.s, acting), opts)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, c := range []awstest.Credentials{e.own, e.inactive} {
					rem := r.Remediate(context.Background(), c.KeyID, results[c.KeyID])
					out = append(out, rem.Action, rem.Account, rem.User, rem.Note, rem.Error)
				}
				secrets := []string{acting.Secret, acting.SessionToken}
				for _, c := range e.s.Calls() {
					if c.Action != "GetCallerIdentity" && strings.HasPrefix(c.KeyID, "ASIA") && c.KeyID != acting.KeyID {
						issued := e.s.Credentials(c.KeyID)
						secrets = append(secrets, issued.Secret, issued.SessionToken)
					}
				}
				checkNoEcho(t, "the remediation", strings.Join(out, "\n"), secrets...)
				raw, err := os.ReadFile(audit.Path)
				if err != nil {
					t.Fatal(err)
				}
				checkNoEcho(t, "the audit log", string(raw), secrets...)
			})
		}
	}
}

// TestDescribeKeepsNoServerText feeds describe errors whose every
// server-written part holds the secret: only the status, a code of AWS's
// shape and keysweep's own words may come out.
func TestDescribeKeepsNoServerText(t *testing.T) {
	t.Parallel()
	secret := echoSecret
	respErr := func(status int, err error) error {
		return &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		}
	}
	api := func(code string) error {
		return &smithy.GenericAPIError{Code: code, Message: "the secret is " + secret}
	}
	op := func(err error) error {
		return &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: err}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"known code", op(respErr(403, api("AccessDenied"))), "HTTP 403 AccessDenied: not authorized"},
		{"unknown code", op(respErr(400, api("NewKindOfError"))), "HTTP 400 NewKindOfError"},
		{"code holding the secret", op(respErr(400, api(secret[:8]))), "HTTP 400 (an error code not in AWS's format)"},
		{"code holding the secret, base64", op(respErr(400, api("E"+base64.StdEncoding.EncodeToString([]byte(secret[:9]))))), "HTTP 400 (an error code not in AWS's format)"},
		{"code of another shape", op(respErr(400, api("Bad code: "+secret))), "HTTP 400 (an error code not in AWS's format)"},
		{"body not in AWS's format", op(respErr(200, &smithy.DeserializationError{Err: errors.New("XML syntax error: element <" + secret + ">")})),
			"HTTP 200 with an answer not in AWS's format"},
		{"malformed status line", op(&url.Error{Op: "Post", URL: "https://sts.amazonaws.com/", Err: fmt.Errorf("net/http: malformed HTTP response %q", secret)}),
			"request to sts.amazonaws.com failed: network error"},
		{"connection refused", op(&url.Error{Op: "Post", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}),
			"request to 127.0.0.1:1 failed: connection refused"},
		{"endpoint holding the secret", op(&url.Error{Op: "Post", URL: "http://" + strings.ToLower(secret[:8]) + ".example/", Err: io.EOF}),
			"request failed: the connection closed before an answer"},
		{"no answer", op(context.DeadlineExceeded), "no answer in time"},
		{"something else", op(errors.New("get identity: " + secret)), "STS GetCallerIdentity failed before any answer"},
		{"own words", fmt.Errorf("wrapped: %w", ownError("user app has no access key AKIA")), "user app has no access key AKIA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := describe(tt.err, []string{secret})
			if got != tt.want {
				t.Errorf("describe = %q, want %q", got, tt.want)
			}
			checkNoEcho(t, "the description", got, secret)
		})
	}
}

// TestEchoesKeepsGenuineValues checks that what AWS really answers is not
// taken for an echo of a secret.
func TestEchoesKeepsGenuineValues(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	for range 50 {
		c := s.AddSessionKey(ownAccount, "deployer", "build-42")
		for _, v := range []string{
			"arn:aws:iam::111122223333:user/ci/deploy-bot", "arn:aws:sts::111122223333:assumed-role/deployer/build-42",
			"AIDAZR3VQ7WXEXAMPLE01", "AROAZR3VQ7WXEXAMPLE01:build-42", "InvalidClientTokenId", "SignatureDoesNotMatch",
			"deploy-bot", "security-admin@example.com",
		} {
			if echoes(v, []string{c.Secret, c.SessionToken}) {
				t.Errorf("%q taken for an echo of %s… / %s…", v, c.Secret[:4], c.SessionToken[:16])
			}
		}
	}
}

// FuzzEchoes checks that any secret, transformed in any way the stand-in
// knows and put between any text, is found.
func FuzzEchoes(f *testing.F) {
	f.Add(echoSecret, "arn:aws:iam::111122223333:user/", "", 0)
	f.Add("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH", "AIDAQ:", "=x", 4)
	f.Fuzz(func(t *testing.T, secret, before, after string, form int) {
		if len(secret) < echoWindow || len(secret) > 200 || len(before)+len(after) > 200 || !sessionTokenRe.MatchString(secret) {
			t.Skip()
		}
		forms := awstest.EchoForms()
		ef := forms[(form%len(forms)+len(forms))%len(forms)]
		s := before + ef.Apply(secret) + after
		if !echoes(s, []string{secret}) {
			t.Errorf("%q (%s of %q) not found", s, ef, secret)
		}
	})
}

func TestEchoesFindsNestedAndHiddenForms(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	hidden := strings.Repeat("aaaaaaaa,", 40)
	tests := map[string]string{
		"percent-encoded base64":  url.QueryEscape(b64(echoSecret)),
		"base64 of percent":       b64(url.QueryEscape(echoSecret)),
		"HTML-escaped base64":     awstest.EchoHTMLEscaped.Apply(b64(echoSecret)),
		"URL-alphabet base64":     base64.RawURLEncoding.EncodeToString([]byte("x" + echoSecret)),
		"after many other runs":   hidden + b64(echoSecret),
		"a stray percent sign":    "%%" + url.QueryEscape(echoSecret),
		"upper case":              strings.ToUpper(echoSecret[10:20]),
		"a run from the middle":   echoSecret[17:25],
		"in an ARN's user path":   "arn:aws:iam::111122223333:user/" + b64(echoSecret[5:20]),
		"space for plus, encoded": url.PathEscape(strings.ReplaceAll(echoSecret, "+", " ")),
	}
	for name, v := range tests {
		if !echoes(v, []string{echoSecret}) {
			t.Errorf("%s: %q not found", name, v)
		}
	}
}

func BenchmarkEchoesLongARN(b *testing.B) {
	s := awstest.New(b)
	c := s.AddSessionKey(ownAccount, "deployer", "build-42")
	arn := "arn:aws:iam::111122223333:user/" + strings.Repeat("Zm9vYmFy,", 56)
	for b.Loop() {
		if echoes(arn, []string{c.Secret, c.SessionToken}) {
			b.Fatal("echo found")
		}
	}
}
