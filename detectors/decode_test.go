package detectors

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type decodedWant struct {
	Rule, Secret, Decoded string
	Start, End            int
}

func TestDecodedSecrets(t *testing.T) {
	t.Parallel()
	creds := "[default]\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secretKey + "\n"
	b64 := base64.StdEncoding.EncodeToString([]byte(creds))
	b64url := base64.RawURLEncoding.EncodeToString([]byte("token: " + ghToken))
	pemB64 := base64.StdEncoding.EncodeToString([]byte(pemKey))
	hexTok := hex.EncodeToString([]byte("GITHUB_TOKEN=" + ghToken))
	pct := url.QueryEscape("hook=" + slackHook)
	double := base64.StdEncoding.EncodeToString([]byte("data: " + base64.StdEncoding.EncodeToString([]byte("key: "+ghToken+"\n"))))
	tests := []struct {
		name, data string
		want       []decodedWant
	}{
		{"base64 credentials file", "apiVersion: v1\nkind: Secret\ndata:\n  credentials: " + b64 + "\n",
			[]decodedWant{{AWSKeyRule, secretKey, "base64", 49, 49 + len(b64)}}},
		{"base64url token", "X=" + b64url, []decodedWant{{"github-token", ghToken, "base64", 2, 2 + len(b64url)}}},
		{"base64 private key in a kubernetes secret", "  tls.key: " + pemB64 + "\n",
			[]decodedWant{{"private-key", strings.TrimSuffix(pemKey, "\n"), "base64", 11, 11 + len(pemB64)}}},
		{"hex", "blob = " + hexTok + "\n", []decodedWant{{"github-token", ghToken, "hex", 7, 7 + len(hexTok)}}},
		{"percent-encoded", "body=" + pct + "&x=1", []decodedWant{{"slack-webhook", slackHook, "percent", 0, len("body=" + pct + "&x=1")}}},
		{"base64 in base64", "v: " + double + "\n", []decodedWant{{"github-token", ghToken, "base64+base64", 3, 3 + len(double)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []decodedWant
			for _, m := range Default().Scan("secret.yaml", []byte(tt.data)) {
				got = append(got, decodedWant{m.RuleID, m.Secret, m.Decoded, m.Start, m.End})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodingStaysQuiet(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		"password: c3VwZXJzZWNyZXQ=\n", // base64 of a plain word
		"h1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x01\xfe", 16))) + "\n",
		"sha256 = " + strings.Repeat("9f86d081884c7d65", 4) + "\n",
		"img: data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")) + "\n",
		"path=%2Fusr%2Flocal%2Fbin\n",
	} {
		if ms := Default().Scan("x.txt", []byte(data)); len(ms) != 0 {
			t.Errorf("%q: %+v", data, ms)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("a: " + base64.StdEncoding.EncodeToString([]byte("token="+ghToken))))
	f.Add([]byte("x=%41%42%43%44" + hex.EncodeToString([]byte("hello world, this is text"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range Default().Scan("f", data) {
			if m.Start < 0 || m.End > len(data) || m.Start > m.End {
				t.Fatalf("match %s at [%d,%d) outside %d bytes", m.RuleID, m.Start, m.End, len(data))
			}
		}
		for _, enc := range findEncoded(data) {
			if enc.start < 0 || enc.end > len(data) || !isText(enc.text) {
				t.Fatalf("bad run %+v", enc)
			}
		}
	})
}
