package detectors

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAdjacentTokens: a token right after another, one byte between
// them, is found as well (that byte once ended the first match, and the
// second then had no boundary before it).
func TestAdjacentTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       []string
	}{
		{"space", ghToken + " " + ghToken2, []string{ghToken, ghToken2}},
		{"comma", "GITHUB_TOKENS=" + ghToken + "," + ghToken2, []string{ghToken, ghToken2}},
		{"two spaces", ghToken + "  " + ghToken2, []string{ghToken, ghToken2}},
		{"glued", ghToken + ghToken2, nil},
		{"key ids", keyID + " " + keyID2, []string{keyID, keyID2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, m := range Default().Scan("a.env", []byte(tt.data)) {
				got = append(got, m.Secret)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

var ghToken2 = "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD"

// pairEveryPair is the pairing as it is specified: every (key id,
// candidate) pair scored, taken best first (ties to the lower id, then the
// lower candidate), each candidate once; an id left without one gets its
// best. pairSecrets must agree with it.
func pairEveryPair(idLines []int, cands []secretCandidate) []int {
	type pair struct{ id, cand, score int }
	var pairs []pair
	for k, l := range idLines {
		for ci, c := range cands {
			d := c.line - l
			if d < 0 {
				d = -d
			}
			score := -d
			if d == 0 {
				score += sameLineScore
			}
			if c.context {
				score += contextScore
			}
			pairs = append(pairs, pair{k, ci, score})
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].score > pairs[b].score })
	secretOf := make([]int, len(idLines))
	for k := range secretOf {
		secretOf[k] = -1
	}
	used := make([]bool, len(cands))
	for _, p := range pairs {
		if secretOf[p.id] < 0 && !used[p.cand] {
			secretOf[p.id], used[p.cand] = p.cand, true
		}
	}
	for _, p := range pairs {
		if secretOf[p.id] < 0 {
			secretOf[p.id] = p.cand
		}
	}
	return secretOf
}

func TestPairSecretsRanksLikeEveryPair(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 8))
	for n := 0; n < 3000; n++ {
		lines := 1 + rng.IntN(30)
		idLines := make([]int, rng.IntN(12))
		for k := range idLines {
			idLines[k] = 1 + rng.IntN(lines)
		}
		sort.Ints(idLines) // ids come in order of position
		var cands []secretCandidate
		context := map[int]bool{}
		for l := 1; l <= lines; l++ {
			context[l] = rng.IntN(3) == 0
			for range rng.IntN(3) {
				cands = append(cands, secretCandidate{line: l, context: context[l]})
			}
		}
		var st scanState
		got := pairSecrets(idLines, cands, &st)
		want := pairEveryPair(idLines, cands)
		if st.truncated > 0 {
			// Bounded choices may decide otherwise, and say so.
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ids on lines %v, candidates %+v: (-want +got):\n%s", idLines, cands, diff)
		}
	}
}

// TestPairingBoundIsCounted: ids that compete for more candidates than
// each may weigh are still all paired, and those the bound may have
// decided are counted.
func TestPairingBoundIsCounted(t *testing.T) {
	t.Parallel()
	rng := adversarialRand("bound")
	var b strings.Builder
	// Many ids, then many secrets far below: every id prefers the same
	// ones, and the last ids find their choices all taken.
	for range 200 {
		b.WriteString("id = " + advKeyID(rng) + "\n")
	}
	b.WriteString(strings.Repeat("\n", 50))
	for range 300 {
		b.WriteString("aws_secret_access_key = " + advSecret(rng) + "\n")
	}
	ms, cov := Default().ScanCoverage("creds", []byte(b.String()))
	pairs := 0
	for _, m := range ms {
		if m.RuleID == AWSKeyRule {
			pairs++
		}
	}
	if pairs != 200 || cov.Truncated == 0 {
		t.Errorf("%d of 200 ids paired, %d truncated; want all, some", pairs, cov.Truncated)
	}
	if _, cov := Default().ScanCoverage("creds", []byte("id = "+keyID+"\nsecret = "+secretKey+"\n")); cov.Truncated != 0 {
		t.Errorf("one pair: %d truncated", cov.Truncated)
	}
}

// TestLongPercentRuns: a percent-encoded token longer than what is decoded
// at once is decoded in pieces, each cut where a character starts, and a
// bad escape spoils only the pieces that hold it.
func TestLongPercentRuns(t *testing.T) {
	t.Parallel()
	esc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	hidden := esc(" token=" + ghToken + " ")
	tests := []struct {
		name, data string
		want       bool
	}{
		{"short", "q=" + hidden, true},
		{"long", "q=" + strings.Repeat("%41", 3000) + hidden + strings.Repeat("%42", 3000), true},
		{"long, a bad escape far before", "q=%zz" + strings.Repeat("%41", 3000) + hidden + strings.Repeat("%42", 3000), true},
		{"long, characters of three bytes", "q=" + strings.Repeat("%E2%82%AC", 1500) + hidden + strings.Repeat("%E2%82%AC", 1500), true},
		{"short, a bad escape", "q=%zz" + hidden, false},
		{"long, bad escapes everywhere", "q=" + strings.Repeat(strings.Repeat("%41", 33)+"%zz", 60) + hidden + strings.Repeat(strings.Repeat("%41", 33)+"%zz", 60), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			found := false
			for _, m := range Default().Scan("q.txt", []byte(tt.data)) {
				if m.RuleID == "github-token" && m.Secret == ghToken && m.Decoded == "percent" {
					found = true
					if m.Start < 0 || m.End > len(tt.data) {
						t.Errorf("match at [%d,%d) outside the data", m.Start, m.End)
					}
				}
			}
			if found != tt.want {
				t.Errorf("token found: %v, want %v", found, tt.want)
			}
		})
	}
}

// TestCompiledStopwordsMatchAllows: an engine's compiled allowlists say
// what Allowlist.Allows says, case ignored as strings.ToLower ignores it.
func TestCompiledStopwordsMatchAllows(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	alphabet := []string{"a", "B", "c", "K", "\u212a", "é", "É", "ß", "0", "-", "İ", "x"}
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for n := 0; n < 300; n++ {
		var stop []string
		for range 1 + rng.IntN(40) {
			stop = append(stop, word(1+rng.IntN(4)))
		}
		a := Allowlist{Stopwords: stop}
		if rng.IntN(3) == 0 {
			a.Regexes = []*regexp.Regexp{regexp.MustCompile(`^` + regexp.QuoteMeta(word(2)))}
		}
		e := New([]Rule{{ID: "r", Keywords: []string{"xyz"}, Regex: regexp.MustCompile("xyz"), Allow: a}})
		for range 50 {
			s := word(rng.IntN(12))
			if got, want := e.allows(0, s), a.Allows(s); got != want {
				t.Fatalf("stopwords %q, secret %q: compiled %v, Allows %v", stop, s, got, want)
			}
		}
	}
}

// TestSilentRules: a silent rule's matches are not reported, yet keep
// the generic rule off their spans, in plain and in decoded text.
func TestSilentRules(t *testing.T) {
	t.Parallel()
	e := silenced("github-token")
	for _, data := range []string{
		"GITHUB_TOKEN=" + ghToken + "\n",
		"token: " + b64url("GITHUB_TOKEN="+ghToken+"\n") + "\n",
	} {
		if ms := e.Scan("a.env", []byte(data)); len(ms) != 0 {
			t.Errorf("%q: %+v, want nothing", data, ms)
		}
	}
}

// silenced returns the catalog's engine with the rule id silent.
func silenced(id string) *Engine {
	rules := Catalog()
	for i := range rules {
		if rules[i].ID == id {
			rules[i].Silent = true
		}
	}
	return New(rules)
}
