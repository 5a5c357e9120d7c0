package detectors

import (
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Alphabets of the keys the placeholder test sees.
const (
	base32Upper = `A-Z2-7`      // AWS key ids after their prefix
	base64Std   = `A-Za-z0-9+/` // AWS secret access keys
)

func TestIsPlaceholder(t *testing.T) {
	t.Parallel()
	// The documented example pair, assembled so that this file holds
	// neither whole.
	exampleID, exampleSecret := "IOSFODNN7"+"EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"+"EXAMPLEKEY"
	tests := []struct {
		name, v string
		want    bool
	}{
		// Key ids after AKIA.
		{"documented example id", exampleID, true},
		{"id of one letter", strings.Repeat("X", 16), true},
		{"id of one digit", strings.Repeat("2", 16), true},
		{"id in alphabet order", "ABCDEFGHIJKLMNOP", true},
		{"id backwards", "ZYXWVUTSRQPONMLK", true},
		{"id of a repeated word", "TESTTESTTESTTEST", true},
		{"id FAKEKEY and chance", "FAKEKEY" + fake("fakekey", base32Upper, 9), true},
		{"id YOURACCESSKEY", "YOURACCESSKEYID2", true},
		{"id DUMMYKEY and chance", "DUMMYKEY" + fake("dummy", base32Upper, 8), true},
		{"id TEST and a run", "TEST" + strings.Repeat("A", 12), true},
		{"id masked at its end", "IOSFODNN7" + "XXXXXXX", true},
		{"random id", fake("id1", base32Upper, 16), false},
		{"random id, TEST at its start", "TEST" + fake("id2", base32Upper, 12), false},
		{"random id, FAKE at its end", fake("id3", base32Upper, 12) + "FAKE", false},
		{"random id, FAKE at its end and a sequence", fake("id11", base32Upper, 8) + "GHJK" + "FAKE", false},
		{"random id, two words in one at its end", fake("id14", base32Upper, 10) + "DEMOCK", false},
		{"random id, TEST at its start and a run", "TEST" + fake("id12", base32Upper, 5) + "QQQQ" + fake("id13", base32Upper, 3), false},
		{"random id, a run of three", fake("id4", base32Upper, 6) + "AAA" + fake("id5", base32Upper, 7), false},
		{"random id, a run of four inside", fake("id6", base32Upper, 6) + "QQQQ" + fake("id7", base32Upper, 6), false},
		{"random id, a sequence of four", fake("id8", base32Upper, 6) + "MNOP" + fake("id9", base32Upper, 6), false},
		{"random id, a run of six not of a mask byte", "666666" + fake("id10", base32Upper, 10), false},

		// Secret access keys and tokens.
		{"documented example secret", exampleSecret, true},
		{"secret of x", strings.Repeat("x", 40), true},
		{"secret of one digit", strings.Repeat("0", 40), true},
		{"secret in keyboard order", "qwertyuiopasdfghjklzxcvbnm1234567890QWER", true},
		{"secret in alphabet order", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN", true},
		{"secret of digits in order", "0123456789012345678901234567890123456789", true},
		{"secret, masked at its end", fake("s1", base64Std, 24) + strings.Repeat("*", 16), true},
		{"secret with SAMPLE", fake("s2", base64Std, 17) + "SAMPLE" + fake("s3", base64Std, 17), true},
		{"secret with Redacted", fake("s4", base64Std, 8) + "Redacted" + fake("s5", base64Std, 8), true},
		{"random secret", fake("s6", base64Std, 40), false},
		{"random secret, test inside", fake("s7", base64Std, 18) + "test" + fake("s8", base64Std, 18), false},
		{"random secret, TEST at its start", "TEST" + fake("s9", base64Std, 36), false},
		{"random secret, xxxx inside", fake("s10", base64Std, 18) + "xxxx" + fake("s11", base64Std, 18), false},
		{"random secret, a sequence of seven", fake("s12", base64Std, 18) + "abcdefg" + fake("s13", base64Std, 15), false},
		{"random secret, eXaMpLe in mixed case", fake("s14", base64Std, 16) + "eXaMpLe" + fake("s15", base64Std, 17), false},
		{"random secret, dummy in it", fake("s16", base64Std, 18) + "dummy" + fake("s17", base64Std, 17), false},
		{"random secret, samplE in odd case", fake("s18", base64Std, 17) + "samplE" + fake("s19", base64Std, 17), false},
		{"random value, kEY and Your", "ASKT2" + "kEY" + "Your", false},
		{"a tenth in order", fake("t1", `A-Za-z0-9`, 30) + "1234567890" + fake("t2", `A-Za-z0-9`, 42), false},

		// What is written where a secret goes.
		{"words", "your-secret-key-here", true},
		{"template", "<AWS_SECRET>", true},
		{"shell reference", "${AWS_SECRET_ACCESS_KEY}", true},
		{"helm reference", "{{ .Values.secret }}", true},
		{"redacted", "REDACTED", true},
		{"change me", "ChangeMe", true},
		{"change me, camel case", "changeMe", true},
		{"not a secret", "NOTASECRET", true},
		{"keyboard runs", "1234567890abcdefgh1234567890", true},
		{"worded fake", "my-fake-api-key", true},
		{"fake for tests", "fake_key_for_tests", true},
		{"dummy token", "dummy-token-value", true},
		{"a password", fake("p1", `A-Za-z0-9!#%*+`, 18), false},
		{"empty", "", false},
		{"separators", "---", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := isPlaceholder(tt.v); got != tt.want {
				t.Errorf("isPlaceholder(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

// TestPlaceholderKeys: placeholder key ids and secrets are no findings, a
// real key id next to a placeholder secret is a lone id, and real keys
// that spell a little structure by chance are still found.
func TestPlaceholderKeys(t *testing.T) {
	t.Parallel()
	id := "AKIA" + fake("pk-id", base32Upper, 16)
	secret := fake("pk-secret", base64Std, 36) + "7qZ/" // lower, upper and digits for sure
	testID := "AKIA" + "TEST" + fake("pk-test", base32Upper, 12)
	testSecret := fake("pk-s1", base64Std, 13) + "TeST" + "test" + "AAA" + fake("pk-s2", base64Std, 12) + "9aZ/"
	pair := func(id, secret string) string {
		return "aws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"
	}
	tests := []struct {
		name, data string
		want       []want
	}{
		{"placeholder id", "id: AKIA" + strings.Repeat("X", 16) + "\n", nil},
		{"id in order", "id: AKIA" + "ABCDEFGHIJKLMNOP" + "\n", nil},
		{"fake id", "id: AKIA" + "FAKEKEY" + "FAKEKEY" + "AA\n", nil},
		{"zeros are not base32", "id: AKIA" + strings.Repeat("0", 16) + "\n", nil},
		{"nor lower case", "id: AKIA" + strings.ToLower(fake("pk-lower", base32Upper, 16)) + "\n", nil},
		{"nor 1, 8 and 9", "id: AKIA" + fake("pk-189", base32Upper, 13) + "189\n", nil},
		{"placeholder pair", pair("AKIA"+strings.Repeat("X", 16), strings.Repeat("x", 40)), nil},
		{"real id, placeholder secret", pair(id, "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"+"EXAMPLEKEY"),
			[]want{{Rule: AWSKeyIDRule, Secret: id, KeyID: id}}},
		{"real id, secret in keyboard order", pair(id, "qwertyuiopasdfghjklzxcvbnm1234567890QWER"),
			[]want{{Rule: AWSKeyIDRule, Secret: id, KeyID: id}}},
		{"real id, secret masked at its end", pair(id, secret[:24]+strings.Repeat("x", 16)),
			[]want{{Rule: AWSKeyIDRule, Secret: id, KeyID: id}}},
		{"real pair", pair(id, secret), []want{{Rule: AWSKeyRule, Secret: secret, KeyID: id}}},
		{"real pair that spells TEST", pair(testID, testSecret), []want{{Rule: AWSKeyRule, Secret: testSecret, KeyID: testID}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, scan(t, "creds", tt.data)); diff != "" {
				t.Errorf("Scan() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlaceholderTokens: the token rules drop placeholders by the shared
// test, and keep a random token with a little structure in it: "xxxx"
// and "dummy", once dropped anywhere, count only by how much they cover.
func TestPlaceholderTokens(t *testing.T) {
	t.Parallel()
	const alnum = `A-Za-z0-9`
	xxxx := "ghp_" + fake("tok1", alnum, 16) + "xxxx" + fake("tok2", alnum, 16)
	dummy := "npm_" + fake("tok3", alnum, 15) + "dummy" + fake("tok4", alnum, 16)
	google := "AIza" + fake("tok5", alnum, 15) + "Test" + fake("tok6", alnum, 16)
	tests := []struct {
		name, rule, data string
		want             string // "" for no finding
	}{
		{"github, xxxx by chance", "github-token", "token: " + xxxx + "\n", xxxx},
		{"npm, dummy by chance", "npm-token", "token: " + dummy + "\n", dummy},
		{"google, Test by chance", "google-api-key", "key: " + google + "\n", google},
		{"github in order", "github-token", "token: ghp_" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + "\n", ""},
		{"github half masked", "github-token", "token: ghp_" + fake("tok7", alnum, 16) + strings.Repeat("X", 20) + "\n", ""},
		{"npm your-token", "npm-token", "token: npm_" + "YourNpmTokenHere" + strings.Repeat("0", 20) + "\n", ""},
		{"slack in order", "slack-token", "token: xoxb-" + "123456789012-1234567890123-abcdefghijklmnopqrstuvwx" + "\n", ""},
		{"stripe sample", "stripe-live-key", "key: sk_live_" + fake("tok8", alnum, 10) + "SAMPLE" + fake("tok9", alnum, 10) + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, m := range Default().Scan("config.yaml", []byte(tt.data)) {
				if m.RuleID == tt.rule {
					got = append(got, m.Secret)
				}
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s findings (-want +got):\n%s", tt.rule, diff)
			}
		})
	}
}

// TestPlaceholderRandomKeys measures how many random keys the filter
// drops: a million AWS key ids and a million secret access keys (a tenth
// with -short or the race detector, which have other things to check),
// and samples of the tails randomTail judges and of every token rule's
// body. A real key is random, so each drop is a real key
// lost; the thresholds keep the rate under one in ten million, and the
// test fails above one in a million. go test -v -run RandomKeys shows the
// counts.
func TestPlaceholderRandomKeys(t *testing.T) {
	t.Parallel()
	n := 200_000
	if testing.Short() || raceEnabled() {
		n = 50_000
	}
	type class struct {
		name, charset string
		min, max      int
		count         int
		// valid, when set, is the check whose drops are counted; by
		// default, isPlaceholder of the value.
		valid func(string) bool
	}
	classes := []class{
		{name: "aws key id", charset: base32Upper, min: 16, max: 16, count: n, valid: func(body string) bool {
			id := "AKIA" + body
			return validAWSKeyID(Candidate{Secret: id, Data: []byte(id), Start: 0, End: len(id)})
		}},
		{name: "aws secret access key", charset: base64Std, min: 40, max: 40, count: n},
		{name: "github-token tail", charset: `A-Za-z0-9`, min: 36, max: 36, count: n / 10},
		{name: "google-api-key tail", charset: `A-Za-z0-9_\-`, min: 35, max: 35, count: n / 10},
		{name: "stripe-live-key tail", charset: `A-Za-z0-9`, min: 20, max: 99, count: n / 10},
	}
	for _, s := range tokenSpecs() {
		classes = append(classes, class{name: s.id, charset: s.charset, min: s.min, max: min(s.max, s.min+40), count: n / 100})
	}
	rng := rand.New(rand.NewPCG(2024, 11))
	for _, c := range classes {
		chars := expandClass(c.charset)
		buf := make([]byte, c.max)
		drops := 0
		var first string
		for range c.count {
			b := buf[:c.min+rng.IntN(c.max-c.min+1)]
			randomFill(rng, b, chars)
			v := string(b)
			kept := !isPlaceholder(v)
			if c.valid != nil {
				kept = c.valid(v)
			}
			if !kept {
				drops++
				if first == "" {
					first = v[:min(4, len(v))]
				}
			}
		}
		t.Logf("%-34s %d of %d random values dropped", c.name, drops, c.count)
		if drops > c.count/1_000_000 {
			t.Errorf("%s: %d of %d random values dropped (the first starts %q); want at most one in a million", c.name, drops, c.count, first)
		}
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// randomFill fills b with bytes drawn uniformly from chars: for an
// alphabet of 32 or 64, several from each random word.
func randomFill(rng *rand.Rand, b, chars []byte) {
	shift := 0
	switch len(chars) {
	case 32:
		shift = 5
	case 64:
		shift = 6
	default:
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		return
	}
	mask := uint64(len(chars) - 1)
	var w uint64
	left := 0
	for i := range b {
		if left < shift {
			w, left = rng.Uint64(), 64
		}
		b[i] = chars[w&mask]
		w >>= shift
		left -= shift
	}
}

func BenchmarkIsPlaceholder(b *testing.B) {
	values := []string{fake("b1", base32Upper, 16), fake("b2", base64Std, 40), "your-secret-key-here"}
	for i := 0; b.Loop(); i++ {
		isPlaceholder(values[i%len(values)])
	}
}
