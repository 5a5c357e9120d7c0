package detectors

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// naiveFind is the obvious search the automaton must agree with.
func naiveFind(keywords []string, data []byte) []hit {
	asciiLower := func(b []byte) []byte {
		out := make([]byte, len(b))
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out[i] = c
		}
		return out
	}
	lower := asciiLower(data)
	var out []hit
	for pos := range data {
		for k, kw := range keywords {
			if bytes.HasPrefix(lower[pos:], asciiLower([]byte(kw))) {
				out = append(out, hit{keyword: k, pos: pos})
			}
		}
	}
	return out
}

// sortHits orders hits by position, then keyword, for comparison.
func sortHits(hs []hit) []hit {
	out := append([]hit(nil), hs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j-1].pos > out[j].pos || out[j-1].pos == out[j].pos && out[j-1].keyword > out[j].keyword); j-- {
			out[j-1], out[j] = out[j], out[j-1]
		}
	}
	return out
}

func checkPrefilter(t *testing.T, keywords []string, data []byte) {
	t.Helper()
	got := newPrefilter(keywords).find(data, nil)
	for i := 1; i < len(got); i++ {
		if got[i-1].pos > got[i].pos {
			t.Fatalf("hits out of order at %d: %v", i, got[i-1:i+1])
		}
	}
	if diff := cmp.Diff(sortHits(naiveFind(keywords, data)), sortHits(got), cmp.AllowUnexported(hit{})); diff != "" {
		t.Fatalf("prefilter disagrees with a naive search over %d bytes (-want +got):\n%s", len(data), diff)
	}
}

func TestPrefilterAgreesWithNaiveSearch(t *testing.T) {
	t.Parallel()
	keywords := []string{"secret", "SEC", "ecre", "token", "api_key", "key", "AKIA", "xoxb-", "aaa", "aaaa", "PRIVATE KEY", "hooks.slack.com"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aeckrtsoxyAKIEPV_- .\n")
	for _, size := range []int{0, 1, 5, 100, 4095, 4096, 4097, 10000, 65537} {
		data := make([]byte, size)
		for i := range data {
			data[i] = alphabet[rng.IntN(len(alphabet))]
		}
		// Plant keywords, some across the middle where the two streams meet.
		for _, at := range []int{0, size/2 - 3, size/2 - 1, size / 2, size - 6} {
			if at >= 0 && at+6 <= size {
				copy(data[at:], "SeCrEt")
			}
		}
		checkPrefilter(t, keywords, data)
	}
}

// TestPrefilterNonASCIIKeywords: every byte of a keyword counts, not the
// first byte of each of its characters (custom rules and stopwords may be
// in any language).
func TestPrefilterNonASCIIKeywords(t *testing.T) {
	t.Parallel()
	keywords := []string{"ß0", "clé_", "пароль", "密码"}
	for _, data := range []string{"é0 ß0", "cle_ clé_ clè_", "пароль парол", "密码 密钥", "\xc3\x000"} {
		checkPrefilter(t, keywords, []byte(data))
	}
}

func FuzzPrefilter(f *testing.F) {
	f.Add([]byte("my secret token is AKIA and the api_key"), uint8(0))
	f.Add(bytes.Repeat([]byte("aaaa secret "), 500), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, shift uint8) {
		// Shift a planted keyword so that it crosses the two streams'
		// meeting point in large inputs.
		if len(data) > 4096 {
			at := len(data)/2 - int(shift%8)
			copy(data[at:], "secret")
		}
		checkPrefilter(t, []string{"secret", "ecr", "token", "aaa", "AKIA", "api_key"}, data)
	})
}
