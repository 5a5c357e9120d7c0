package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestScanProgress renders the progress as a terminal would get it: the
// stage while the walk counts, then a bar with the percentage, the count
// of blobs and the throughput, and nothing left once finished.
func TestScanProgress(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := newScanProgress(&out, 0, func() time.Time { return at })
	p.Stage("listing refs", 0)
	p.Stage("walking history", 0)
	at = at.Add(time.Second)
	p.Scanned(10, 20<<20)
	if s := out.String(); !strings.Contains(s, "walking history 10 blobs, 20.0 MiB/s") {
		t.Errorf("before the total:\n%q", s)
	}
	out.Reset()
	p.Stage("scanning", 40)
	at = at.Add(time.Second)
	p.Scanned(20, 60<<20)
	s := out.String()
	for _, want := range []string{"scanning 20/40 blobs, 30.0 MiB/s", " 50%"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in\n%q", want, s)
		}
	}
	out.Reset()
	p.Finish()
	if s := out.String(); strings.Contains(s, "scanning") {
		t.Errorf("not cleared on finish: %q", s)
	}
}
