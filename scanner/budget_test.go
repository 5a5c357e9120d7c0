package scanner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/internal/gittest"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// stuckDetector never finishes a blob that holds "stuck": a detector
// that has met input it is slow on.
type stuckDetector struct {
	started chan struct{}
	release chan struct{}
}

func (d *stuckDetector) ScanCoverage(path string, data []byte) ([]detectors.Match, detectors.Coverage) {
	if path == "stuck.txt" {
		close(d.started)
		<-d.release
	}
	return nil, detectors.Coverage{}
}

// TestScansStopWithTheirContext: a scan returns when its context is done,
// whatever a detector is doing: the hook's time budget and Ctrl-C hold.
func TestScansStopWithTheirContext(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "fine\n")
	r.Write("stuck.txt", "slow for the detector\n")
	r.Commit("init")
	// A commit no ref reaches, as a push brings.
	pushed := r.Git("commit-tree", "HEAD^{tree}", "-m", "pushed")
	zero := "0000000000000000000000000000000000000000"
	for name, scan := range map[string]func(context.Context, Detector) error{
		"git": func(ctx context.Context, d Detector) error {
			_, err := Git(ctx, r.Dir, d, Options{Workers: 2})
			return err
		},
		"dir": func(ctx context.Context, d Detector) error {
			_, err := Dir(ctx, r.Dir, d, Options{Workers: 2})
			return err
		},
		"push": func(ctx context.Context, d Detector) error {
			_, err := Push(ctx, r.Dir, d, []gitsrc.Update{{Old: zero, New: pushed, Ref: "refs/heads/x"}}, Options{})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := &stuckDetector{started: make(chan struct{}), release: make(chan struct{})}
			defer close(d.release)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- scan(ctx, d) }()
			<-d.started
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v, want context.Canceled", err)
				}
			case <-time.After(time.Minute): // a guard, not a measure
				t.Fatal("the scan waited for the detector after its context was done")
			}
		})
	}
}
