package detectors_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/detectors"
)

// adversarialSize is the size of each adversarial blob: 25 MiB, or
// KEYSWEEP_ADVERSARIAL_MIB mebibytes.
func adversarialSize(tb testing.TB) int {
	tb.Helper()
	mib := 25.0
	if s := os.Getenv("KEYSWEEP_ADVERSARIAL_MIB"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			tb.Fatalf("KEYSWEEP_ADVERSARIAL_MIB=%q: want a positive number", s)
		}
		mib = v
	}
	return int(mib * (1 << 20))
}

// hugeAllowlist is a configuration whose allowlists hold a regex of a
// thousand alternatives and a thousand stopwords, globally and for the
// generic rule.
func hugeAllowlist(tb testing.TB) *config.Config {
	tb.Helper()
	words := make([]string, 1000)
	for i := range words {
		words[i] = fmt.Sprintf("known%04dvalue%x", i, i*7919)
	}
	alt := strings.Join(words, "|")
	quoted := `"` + strings.Join(words, `", "`) + `"`
	text := "[allowlist]\nregexes = ['''(?:" + alt + ")''', '''^(?:test|fake)-(?:" + alt + ")$''']\nstopwords = [" + quoted + "]\n" +
		"[rules.allowlist.generic-secret]\nregexes = ['''(?i)(?:" + alt + ")''']\n"
	c, err := config.Parse(".keysweep.toml", []byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// adversarialCase is an adversarial input and the engine it runs with.
type adversarialCase struct {
	name string
	e    *detectors.Engine
	in   detectors.AdversarialInput
}

// adversarialCases runs every adversarial input with the built-in
// catalog, and those with many secrets with the catalog under a huge
// allowlist as well.
func adversarialCases(tb testing.TB, size int) []adversarialCase {
	def := detectors.Default()
	var out []adversarialCase
	inputs := detectors.AdversarialInputs(size)
	for _, in := range inputs {
		out = append(out, adversarialCase{in.Name, def, in})
	}
	allow := detectors.New(hugeAllowlist(tb).Apply(detectors.Catalog()))
	for _, in := range inputs {
		if in.Name == "keywords" || in.Name == "one-line" {
			out = append(out, adversarialCase{"allowlist-" + in.Name, allow, in})
		}
	}
	return out
}

// BenchmarkAdversarial scans blobs built to be slow to scan; each
// sub-benchmark prints MB/s, and MB/cpu-s: the speed by the CPU time the
// process used, which other processes on a busy machine do not lower.
// Every case must stay above 5 MB/s on one core: a 25 MiB blob in under
// 5 seconds. bench/adversarial.sh prints them as a table.
//
//	go test ./detectors -run '^$' -bench Adversarial -benchtime 1x -cpu 1
func BenchmarkAdversarial(b *testing.B) {
	for _, c := range adversarialCases(b, adversarialSize(b)) {
		b.Run(c.name, func(b *testing.B) {
			data := c.in.Data()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var cov detectors.Coverage
			cpu := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, cov = c.e.ScanCoverage(c.in.Path, data)
			}
			b.StopTimer()
			if d := cpuTime() - cpu; d > 0 {
				b.ReportMetric(float64(len(data))*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
			}
			b.ReportMetric(float64(cov.Undecoded), "undecoded")
			b.ReportMetric(float64(cov.Truncated), "truncated")
		})
	}
}
