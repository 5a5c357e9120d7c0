//go:build !unix

package detectors_test

import "time"

// cpuTime is unknown here: the benchmarks report wall-clock speed only.
func cpuTime() time.Duration { return 0 }
