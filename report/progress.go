package report

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress shows on a terminal how far a scan or a sweep is: bytes
// scanned, or repositories swept and the one being swept. It is written
// to stderr, and only to a terminal: the command decides.
type Progress struct {
	bar *progressbar.ProgressBar
}

// ScanProgress shows how far a scan is, on a terminal: what it is doing
// (listing refs, walking history), then, once the walk has counted the
// blobs to read, a bar of them with the percentage, the count, the
// throughput and the time left. Before the total is known it spins,
// counting. It is safe for concurrent use.
type ScanProgress struct {
	bar   *progressbar.ProgressBar
	start time.Time
	now   func() time.Time
	every time.Duration

	mu           sync.Mutex
	stage        string
	described    time.Time
	blobs, bytes int64
	total        int64
}

// NewScanProgress returns the progress of a scan, written to w.
func NewScanProgress(w io.Writer) *ScanProgress {
	return newScanProgress(w, 100*time.Millisecond, time.Now)
}

func newScanProgress(w io.Writer, throttle time.Duration, now func() time.Time) *ScanProgress {
	return &ScanProgress{
		bar: progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(throttle),
			progressbar.OptionClearOnFinish(),
		),
		start: now(), now: now, every: max(throttle, 250*time.Millisecond), stage: "scanning",
	}
}

// Stage says what the scan is doing; total, when the walk has counted
// them, is how many blobs it reads in all.
func (p *ScanProgress) Stage(stage string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage = stage
	if total > 0 {
		p.total = total
		p.bar.ChangeMax64(total)
		_ = p.bar.Set64(p.blobs) // a bar starts where the spinner was
	}
	p.describe(true)
}

// Scanned sets the blobs (or files) and bytes done so far.
func (p *ScanProgress) Scanned(blobs, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blobs, p.bytes = max(p.blobs, blobs), max(p.bytes, bytes)
	p.describe(false)
	if p.total == 0 {
		_ = p.bar.Add64(0) // a spinner counts nothing: the description does
		return
	}
	_ = p.bar.Set64(p.blobs)
}

// describe writes the stage and the throughput, at most every p.every
// unless now; p.mu is held.
func (p *ScanProgress) describe(now bool) {
	t := p.now()
	if !now && t.Sub(p.described) < p.every {
		return
	}
	p.described = t
	d := p.stage
	switch {
	case p.total > 0:
		d += fmt.Sprintf(" %d/%d blobs", p.blobs, p.total)
	case p.blobs > 0:
		d += fmt.Sprintf(" %s", Count(p.blobs, "blob"))
	}
	if secs := t.Sub(p.start).Seconds(); secs > 0 && p.bytes > 0 {
		d += fmt.Sprintf(", %s/s", HumanBytes(int64(float64(p.bytes)/secs)))
	}
	p.bar.Describe(d)
}

// Finish clears the bar: what follows on stderr starts on a clean line.
func (p *ScanProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
}

// NewSweepProgress returns a bar of the repositories swept, written to w.
func NewSweepProgress(w io.Writer) *Progress {
	return &Progress{progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("repositories"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// Scanned sets the bytes scanned so far. It is safe for concurrent use.
func (p *Progress) Scanned(blobs, bytes int64) { _ = p.bar.Set64(bytes) }

// Sweeping shows how many repositories of total are done, and names the
// one starting; repo "" means all are done.
func (p *Progress) Sweeping(done, total int, repo string) {
	p.bar.ChangeMax(total)
	_ = p.bar.Set(done)
	if repo == "" {
		_ = p.bar.Finish()
		return
	}
	p.bar.Describe(Escape(repo))
}

// Finish clears the bar.
func (p *Progress) Finish() { _ = p.bar.Finish() }
