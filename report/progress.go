package report

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress shows on a terminal how far a scan or a sweep is: bytes
// scanned, or repositories swept and the one being swept. It is written
// to stderr, and only to a terminal: the command decides.
type Progress struct {
	bar *progressbar.ProgressBar
}

// NewScanProgress returns a spinner of the bytes scanned, written to w.
func NewScanProgress(w io.Writer) *Progress {
	return &Progress{progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("scanning"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
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
