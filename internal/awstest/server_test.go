package awstest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/detectors"
)

func TestKeyIDDecodesToAccount(t *testing.T) {
	t.Parallel()
	for _, account := range []string{"000000000001", "111122223333", "999999999999", "609629065308"} {
		for serial := uint32(1); serial < 300; serial += 37 {
			for _, prefix := range []string{"AKIA", "ASIA"} {
				id := KeyID(prefix, account, serial)
				got, ok := detectors.AccountID(id)
				if !ok || got != account {
					t.Errorf("KeyID(%s, %s, %d) = %s decodes to %q, %v", prefix, account, serial, id, got, ok)
				}
			}
		}
	}
}

func TestUnsignedAndMalformedRequests(t *testing.T) {
	t.Parallel()
	s := New(t)
	form := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
	tests := []struct {
		name, authz string
		want        int
		code        string
	}{
		{"no signature", "", http.StatusForbidden, "MissingAuthenticationToken"},
		{"garbage", "Basic abc", http.StatusBadRequest, "IncompleteSignature"},
		{"unknown key", "AWS4-HMAC-SHA256 Credential=AKIAXXXXXXXXXXXXXXXX/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", http.StatusForbidden, "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tt.authz != "" {
			req.Header.Set("Authorization", tt.authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	calls := s.Calls()
	if len(calls) != len(tests) {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(tests))
	}
	for i, c := range calls {
		if c.Code != tests[i].code {
			t.Errorf("%s: code %q, want %q", tests[i].name, c.Code, tests[i].code)
		}
	}
}

func TestLegacyKeyIDCarriesNoAccount(t *testing.T) {
	t.Parallel()
	s := New(t)
	for range 3 {
		c := s.AddLegacyUserKey("111122223333", "old")
		if len(c.KeyID) != 20 || c.KeyID[4] != 'I' {
			t.Errorf("legacy key id %q", c.KeyID)
		}
		if a, ok := detectors.AccountID(c.KeyID); ok {
			t.Errorf("legacy key id %s decodes to %s", c.KeyID, a)
		}
	}
}

func TestEchoForms(t *testing.T) {
	t.Parallel()
	const secret = "Ab+c/d=="
	want := map[EchoForm]string{
		EchoPlain:        "Ab+c/d==",
		EchoURLEncoded:   "Ab%2Bc%2Fd%3D%3D",
		EchoPlusForSpace: "Ab c/d==",
		EchoHTMLEscaped:  "&#x41;&#x62;&#x2B;&#x63;&#x2F;&#x64;&#x3D;&#x3D;",
		EchoBase64:       "QWIrYy9kPT0=",
		EchoPrefix:       "Ab+c/d==",
	}
	for _, f := range EchoForms() {
		if got := f.Apply(secret); got != want[f] {
			t.Errorf("%s: %q, want %q", f, got, want[f])
		}
	}
	if got := EchoPrefix.Apply(secret + "xyz"); got != secret {
		t.Errorf("prefix: %q", got)
	}
}
