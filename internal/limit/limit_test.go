package limit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestLimiterBoundsHolders(t *testing.T) {
	t.Parallel()
	l := New(3)
	var in, most atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := l.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := in.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			in.Add(-1)
			l.Release()
		})
	}
	wg.Wait()
	if most.Load() > 3 {
		t.Errorf("%d holders at once, limit 3", most.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	full := New(1)
	_ = full.Acquire(ctx)
	cancel()
	if err := full.Acquire(ctx); err == nil {
		t.Error("a full limiter admitted a canceled wait")
	}
	var none Limiter
	if err := none.Acquire(ctx); err != nil {
		t.Error("a nil limiter refused")
	}
	none.Release()
}
