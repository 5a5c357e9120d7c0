package verify

import (
	"fmt"
	"testing"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/providertest"
)

// BenchmarkVerify measures keysweep's own cost per verification (the
// session, the caller's checks, HTTP over loopback, reading the answer)
// against the GitHub stand-in, 200 distinct tokens with 8 workers. Against
// a provider the round trip dominates; this is the floor, and calls/s the
// ceiling one process reaches.
func BenchmarkVerify(b *testing.B) {
	s := providertest.New(b)
	tokens := map[string]providertest.GitHubToken{}
	var fs []finding.Finding
	for i := range 200 {
		tok := fmt.Sprintf("ghp_%036d", i)
		tokens[tok] = providertest.GitHubToken{Login: fmt.Sprintf("user%d", i)}
		fs = append(fs, finding.Finding{RuleID: "github-token", Secret: tok})
	}
	s.GitHub(tokens)
	endpoints, err := ParseEndpoints(s.Endpoints("github"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		sess, err := Open(Options{Providers: []string{"github"}, Workers: 8, Endpoints: endpoints}) // a fresh cache: every token is asked
		if err != nil {
			b.Fatal(err)
		}
		batch := append([]finding.Finding(nil), fs...)
		sess.Process(b.Context(), batch)
		for _, f := range batch {
			if f.Verification == nil || f.Verification.Status != finding.StatusVerified {
				b.Fatalf("%+v", f.Verification)
			}
		}
	}
	per := float64(b.Elapsed().Microseconds()) / float64(b.N*len(fs))
	b.ReportMetric(per, "µs/verification")
	b.ReportMetric(1e6/per, "calls/s")
}
