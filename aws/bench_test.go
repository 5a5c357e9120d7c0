package aws

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

// BenchmarkVerifyAll measures keysweep's own cost per verified key (SDK,
// signing, the stand-in's signature check) over loopback, with 8 workers.
// Against AWS the round trip dominates; this is the floor.
func BenchmarkVerifyAll(b *testing.B) {
	s := awstest.New(b)
	cfg := testConfig(b, s, s.AddUserKey(ownAccount, "admin", true))
	var keys []Key
	for i := range 200 {
		c := s.AddUserKey(ownAccount, fmt.Sprintf("user%d", i), false)
		keys = append(keys, Key{ID: c.KeyID, Secret: c.Secret})
	}
	b.ResetTimer()
	for range b.N {
		v := NewVerifier(cfg, 10*time.Second) // a fresh cache: every key is called
		for _, r := range v.VerifyAll(context.Background(), keys, 8) {
			if r.Status != finding.StatusVerified {
				b.Fatalf("%+v", r)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(keys)), "µs/key")
}
