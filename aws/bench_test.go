package aws

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
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

// BenchmarkIncident measures incident response for 100 live keys of an
// own account (one group, a managed and an inline policy each), without
// and with CloudTrail in every region the account has enabled, against
// the stand-in over loopback. CloudTrail's pacing (2 calls per second per
// region) is counted, not waited: paced-s/op is the time the pauses would
// add against AWS. It reports the AWS calls made per key.
func BenchmarkIncident(b *testing.B) {
	for _, trail := range []bool{false, true} {
		b.Run(fmt.Sprintf("cloudtrail=%t", trail), func(b *testing.B) {
			var calls, paced float64
			for range b.N {
				b.StopTimer()
				s := awstest.New(b)
				admin := s.AddUserKey(ownAccount, "admin", true)
				s.AddGroup(ownAccount, "ops")
				policy := s.CreatePolicy(ownAccount, "deploy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
				var fs []finding.Finding
				for i := range 100 {
					user := fmt.Sprintf("user%d", i)
					c := s.AddUserKey(ownAccount, user, false)
					s.AddUserToGroup(ownAccount, user, "ops")
					s.AttachUserPolicy(ownAccount, user, policy)
					s.PutUserPolicy(ownAccount, user, "inline", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}`)
					f := finding.Finding{RuleID: "aws-access-key", KeyID: c.KeyID, Secret: c.Secret, Path: user + ".env",
						Exposure: &finding.Exposure{Since: time.Now().Add(-7 * 24 * time.Hour).UTC().Format(time.RFC3339)}}
					fs = append(fs, f)
				}
				var mu sync.Mutex
				var wait time.Duration
				sess, err := Open(context.Background(), Options{Workers: 8, Timeout: 10 * time.Second, OwnAccounts: []string{ownAccount},
					AuditLog: filepath.Join(b.TempDir(), "audit.jsonl"), CloudTrail: trail,
					Trail: TrailOptions{Sleep: func(_ context.Context, d time.Duration) error {
						mu.Lock()
						wait += d
						mu.Unlock()
						return nil
					}},
					Load: standIn(s, admin)})
				if err != nil {
					b.Fatal(err)
				}
				before := len(s.Calls())
				b.StartTimer()
				sess.Process(context.Background(), fs)
				b.StopTimer()
				sess.Close()
				for _, f := range fs {
					if f.BlastRadius == nil || f.BlastRadius.Error != "" || trail && (f.CloudTrail == nil || f.CloudTrail.Error != "") {
						b.Fatalf("%s: %+v %+v", f.Path, f.BlastRadius, f.CloudTrail)
					}
				}
				calls += float64(len(s.Calls()) - before)
				paced += wait.Seconds()
				b.StartTimer()
			}
			b.ReportMetric(calls/float64(b.N)/100, "calls/key")
			b.ReportMetric(paced/float64(b.N), "paced-s/op")
		})
	}
}
