package detectors_test

import (
	"runtime"
	"testing"

	"github.com/keysweep/keysweep/detectors"
)

// scanWork returns the steps (bytes looked at, candidates compared) of a
// scan of c's input, and the bytes it allocates: the least of three
// scans, after one that warms up what regexp keeps between them.
func scanWork(c adversarialCase, data []byte) (steps int, alloc uint64) {
	steps = detectors.ScanSteps(c.e, c.in.Path, data)
	for i := 0; i < 3; i++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c.e.ScanCoverage(c.in.Path, data)
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; i == 0 || a < alloc {
			alloc = a
		}
	}
	return steps, alloc
}

// TestScanWorkIsLinear holds the scan's work on the adversarial inputs to
// linear growth: four times the data may take at most about four times
// the steps, and allocate at most about eight times the bytes (slices
// that double leave that much slack); a quadratic scan takes sixteen.
// A byte may cost a bounded number of steps. It counts rather than
// times, so the machine's load does not matter; it runs alone (not in
// parallel) so that the bytes allocated are the scan's.
func TestScanWorkIsLinear(t *testing.T) {
	const n, stepGrowth, allocGrowth, perByte = 32 << 10, 5.0, 8.0, 64
	small, large := adversarialCases(t, n), adversarialCases(t, 4*n)
	for i := range small {
		s, l := small[i], large[i]
		t.Run(s.name, func(t *testing.T) {
			sd, ld := s.in.Data(), l.in.Data()
			ss, sa := scanWork(s, sd)
			ls, la := scanWork(l, ld)
			dataRatio := float64(len(ld)) / float64(len(sd))
			if r := float64(ls) / float64(ss) / dataRatio * 4; r > stepGrowth {
				t.Errorf("steps: %d for %d bytes, %d for %d bytes: %.1f times for 4 times the data", ss, len(sd), ls, len(ld), r)
			}
			if r := float64(la) / float64(sa) / dataRatio * 4; r > allocGrowth {
				t.Errorf("allocated: %d bytes for %d bytes, %d for %d bytes: %.1f times for 4 times the data", sa, len(sd), la, len(ld), r)
			}
			if r := ls / len(ld); r > perByte {
				t.Errorf("steps: %d for %d bytes, %d a byte", ls, len(ld), r)
			}
		})
	}
}
