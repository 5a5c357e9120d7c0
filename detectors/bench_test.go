package detectors

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goSourceCorpus returns up to limit bytes of real code: the Go standard
// library, which every machine that runs these benchmarks has.
func goSourceCorpus(b *testing.B, limit int) [][]byte {
	b.Helper()
	var files [][]byte
	total := 0
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("no Go source tree to read: %v", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "src")
	// KEYSWEEP_BENCH_CORPUS points the benchmarks at another tree, such
	// as a checkout of a large repository.
	if dir := os.Getenv("KEYSWEEP_BENCH_CORPUS"); dir != "" {
		root = dir
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || total >= limit {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) > 1<<20 {
			return nil
		}
		files = append(files, data)
		total += len(data)
		return nil
	})
	if total == 0 {
		b.Skip("no Go source tree to read")
	}
	return files
}

func benchmarkEngine(b *testing.B, e *Engine) {
	files := goSourceCorpus(b, 64<<20)
	var n int64
	for _, f := range files {
		n += int64(len(f))
	}
	b.SetBytes(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			e.Scan("f.go", f)
		}
	}
}

// BenchmarkScanCatalog measures the whole catalog; compare its MB/s with
// BenchmarkScanAWSOnly to see what the other rules cost.
func BenchmarkScanCatalog(b *testing.B) { benchmarkEngine(b, Default()) }

func BenchmarkScanAWSOnly(b *testing.B) {
	var rules []Rule
	for _, r := range Catalog() {
		if r.ID == AWSKeyIDRule {
			rules = append(rules, r)
		}
	}
	benchmarkEngine(b, New(rules))
}
