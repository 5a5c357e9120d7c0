package aws

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

// TestRetriesWaitAsTheBackoffSays checks that retries wait what the
// injected backoff says, so that tests never sit through real waits.
func TestRetriesWaitAsTheBackoffSays(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	var mu sync.Mutex
	var attempts []int
	cfg := testConfig(t, s, s.AddUserKey(ownAccount, "admin", true), WithBackoff(func(attempt int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, attempt)
		return 0
	}))
	c := s.AddUserKey(ownAccount, "batch", false)
	s.Throttle(c.KeyID, 3)
	start := time.Now()
	got := NewVerifier(cfg, 10*time.Second).Verify(context.Background(), Key{ID: c.KeyID, Secret: c.Secret})
	if got.Status != finding.StatusVerified {
		t.Fatalf("got %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("backoff asked for attempts %v, want [1 2 3]", attempts)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("three retries took %s with no backoff", d)
	}
}

func TestBackoffIsJitteredExponential(t *testing.T) {
	t.Parallel()
	b := backoff{base: 200 * time.Millisecond, max: 5 * time.Second}
	for attempt := 1; attempt <= 70; attempt++ {
		ceil := 5 * time.Second
		if attempt < 6 {
			ceil = 200 * time.Millisecond << (attempt - 1)
		}
		for range 20 {
			d, err := b.BackoffDelay(attempt, errors.New("throttled"))
			if err != nil || d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: %s, %v; want within [%s, %s]", attempt, d, err, ceil/2, ceil)
			}
		}
	}
}
