// Package limit bounds how many calls are in flight at once across
// several users of one budget: AWS verification and the other providers'
// share --verify-workers, whichever repositories a sweep verifies at once.
package limit

import "context"

// Limiter admits at most n holders at once. A nil Limiter admits
// everyone.
type Limiter chan struct{}

// New returns a Limiter of n (at least 1).
func New(n int) Limiter { return make(Limiter, max(1, n)) }

// Acquire waits for a place, or for ctx to end.
func (l Limiter) Acquire(ctx context.Context) error {
	if l == nil {
		return nil
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives a place back.
func (l Limiter) Release() {
	if l != nil {
		<-l
	}
}
