package verify

import (
	"context"
	"testing"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/providertest"
)

// session opens a Session of providers, each pointed at its stand-in on
// s, whose waits (Retry-After) return at once and are recorded in waits
// when it is not nil.
func session(t *testing.T, s *providertest.Server, waits *[]time.Duration, providers ...string) *Session {
	t.Helper()
	endpoints, err := ParseEndpoints(s.Endpoints(providers...))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := Open(Options{
		Providers: providers, Workers: 4, Timeout: 5 * time.Second, Endpoints: endpoints,
		Sleep: func(_ context.Context, d time.Duration) error {
			if waits != nil {
				*waits = append(*waits, d)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// verifyOne verifies one finding of rule with secret (and the rule's
// context, if any) and returns its verification, nil when it was not
// verified.
func verifyOne(t *testing.T, sess *Session, rule, secret string, context map[string]string) *finding.Verification {
	t.Helper()
	fs := []finding.Finding{{RuleID: rule, Secret: secret, Context: context, Path: "x", Line: 1}}
	sess.Process(t.Context(), fs)
	return fs[0].Verification
}
