package detectors

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
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

func TestDecodingSeesThroughDisguises(t *testing.T) {
	t.Parallel()
	creds := "# config\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secretKey + "\n# end\n"
	b64 := base64.StdEncoding.EncodeToString([]byte(creds))
	wrap := func(s string, width int) string {
		var b strings.Builder
		for len(s) > 0 {
			n := min(width, len(s))
			b.WriteString("  " + s[:n] + "\n")
			s = s[n:]
		}
		return b.String()
	}
	long := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("an ordinary line of text\n", 12<<10) + "token: " + ghToken + "\n"))
	tests := []struct{ name, data, rule string }{
		{"a stray base64 character", "v: " + b64[:8] + "Q" + b64[8:] + "\n", AWSKeyRule},
		{"a stray character that is not base64", "v: " + b64[:9] + "!" + b64[9:] + "\n", AWSKeyRule},
		{"one character too many at the end", "v: " + strings.TrimRight(b64, "=") + "A\n", AWSKeyRule},
		{"base64 wrapped at 76 columns", "data: |\n" + wrap(b64, 76), AWSKeyRule},
		{"xxd -p", wrap(hex.EncodeToString([]byte("GITHUB_TOKEN="+ghToken+"\n")), 60), "github-token"},
		{"a run over 256 KiB", "v: " + long + "\n", "github-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, cov := Default().ScanCoverage("secret.yaml", []byte(tt.data))
			var rules []string
			for _, m := range ms {
				rules = append(rules, m.RuleID)
				if m.Start < 0 || m.End > len(tt.data) || m.Start > m.End {
					t.Errorf("match %s at [%d,%d) outside the data", m.RuleID, m.Start, m.End)
				}
			}
			if !slices.Contains(rules, tt.rule) || cov.Undecoded != 0 {
				t.Errorf("rules %v, %d undecoded; want %s", rules, cov.Undecoded, tt.rule)
			}
		})
	}
}

func TestDecodeBudgetIsCounted(t *testing.T) {
	t.Parallel()
	chunk := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("plain text, nothing secret. ", 4000)))
	var b strings.Builder
	for b.Len() < 8<<20 {
		b.WriteString("v: " + chunk + "\n")
	}
	_, cov := Default().ScanCoverage("dump.yaml", []byte(b.String()))
	if cov.Undecoded == 0 {
		t.Error("encoded text beyond the budget was not counted")
	}
	if _, cov := Default().ScanCoverage("small.yaml", []byte("v: "+chunk+"\n")); cov.Undecoded != 0 {
		t.Errorf("small: %d undecoded", cov.Undecoded)
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
	f.Add([]byte(`{"source": ["aws_access_key_id = \"` + keyID + `\"\n", "secret = \"` + strings.ReplaceAll(secretKey, "/", `\/`) + `\"\n"]}`))
	f.Add([]byte(`\\\u0041\ud83d\ude80\ud83d \\\/x\":\u12` + "\n<p>&#x2F;&#47;&amp;&quot;:&#1114111;&#x110000;&#0000000047;&"))
	e := Default() // built once: building it costs more than a scan
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range e.Scan("f", data) {
			if m.Start < 0 || m.End > len(data) || m.Start > m.End {
				t.Fatalf("match %s at [%d,%d) outside %d bytes", m.RuleID, m.Start, m.End, len(data))
			}
		}
		for _, enc := range findEncoded(data, &scanState{}) {
			if enc.start < 0 || enc.end > len(data) || !isText(enc.text) {
				t.Fatalf("bad run %+v", enc)
			}
		}
		for _, r := range findEscaped(data, &scanState{}) {
			checkEscapedRun(t, data, r)
			// A run starts where no escape is cut: it decodes to a piece
			// of what the whole data decodes to.
			whole := escapeRun{0, len(data), r.kind}.decode(data, &scanState{})
			if part := r.decode(data, &scanState{}); !bytes.Contains(whole.text, part.text) {
				t.Fatalf("%s run [%d,%d) decodes to %q, not a piece of the whole", r.kind.name(), r.start, r.end, part.text)
			}
		}
		for _, k := range []escapeKind{jsonEscapes, xmlEntities} {
			// From where align starts a run, the text decoded is the end
			// of the whole data's.
			whole := escapeRun{0, len(data), k}
			checkEscapedRun(t, data, whole)
			a := k.align(data, len(data)/2, len(data), &scanState{})
			part := escapeRun{a, len(data), k}.decode(data, &scanState{})
			if !bytes.HasSuffix(whole.decode(data, &scanState{}).text, part.text) {
				t.Fatalf("%s: a run from %d, where align starts it, decodes to %q, not the end of the whole", k.name(), a, part.text)
			}
		}
	})
}

// checkEscapedRun checks an escaped run of data: it decodes to no more
// bytes than it spans, and the text's spans are placed back inside it, in
// order, the whole text on the whole run.
func checkEscapedRun(t *testing.T, data []byte, r escapeRun) {
	t.Helper()
	if r.start < 0 || r.start > r.end || r.end > len(data) {
		t.Fatalf("run %+v outside %d bytes", r, len(data))
	}
	enc := r.decode(data, &scanState{})
	if enc.end < r.end || enc.end > len(data) || len(enc.text) > enc.end-enc.start {
		t.Fatalf("run %+v decoded to %d bytes, ending at %d", r, len(enc.text), enc.end)
	}
	ms := []Match{{Start: 0, End: len(enc.text)}}
	for i := 0; i < len(enc.text); i++ {
		ms = append(ms, Match{Start: i, End: i + 1})
	}
	r.kind.placeSpans(data, enc.start, enc.end, ms, nil, &scanState{})
	if ms[0].Start != enc.start || ms[0].End != enc.end {
		t.Fatalf("the text of run [%d,%d) placed at [%d,%d)", enc.start, enc.end, ms[0].Start, ms[0].End)
	}
	prev := enc.start
	for i, m := range ms[1:] {
		if m.Start < prev || m.End <= m.Start || m.End > enc.end {
			t.Fatalf("byte %d of the text of run [%d,%d) placed at [%d,%d), after %d", i, enc.start, enc.end, m.Start, m.End, prev)
		}
		prev = m.Start
	}
}
