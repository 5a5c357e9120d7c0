package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// release is keysweep built once with the ldflags of .goreleaser.yaml,
// for the tests that need a real binary (linking one costs seconds).
var release struct {
	once     sync.Once
	dir, bin string
	err      error
}

// releaseVersion is what the release build's version line says.
const releaseVersion = "keysweep 9.8.7 (commit 0123abcd, built 2026-01-02T03:04:05Z)"

// releaseBinary returns the release build, building it on first use in a
// directory under TMPDIR that TestMain removes.
func releaseBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary")
	}
	ldflags := releaseLdflags(t)
	release.once.Do(func() {
		if release.dir, release.err = os.MkdirTemp("", "keysweep-release-"); release.err != nil {
			return
		}
		release.bin = filepath.Join(release.dir, "keysweep")
		if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", release.bin, ".").CombinedOutput(); err != nil {
			release.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if release.err != nil {
		t.Fatal(release.err)
	}
	return release.bin
}

// releaseLdflags reads .goreleaser.yaml, checks its one build, and
// returns its ldflags with the templates filled in.
func releaseLdflags(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int
		Builds  []struct {
			Main    string
			Env     []string
			Goos    []string
			Goarch  []string
			Ldflags []string
		}
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 1 {
		t.Fatalf("want a GoReleaser v2 config with one build: %+v", cfg)
	}
	b := cfg.Builds[0]
	for _, want := range []string{"linux", "darwin", "windows"} {
		if !strings.Contains(strings.Join(b.Goos, " "), want) {
			t.Errorf("no %s build", want)
		}
	}
	if strings.Join(b.Goarch, " ") != "amd64 arm64" || !strings.Contains(strings.Join(b.Env, " "), "CGO_ENABLED=0") {
		t.Errorf("want static amd64 and arm64 builds: %v %v", b.Goarch, b.Env)
	}
	return strings.NewReplacer("{{ .Version }}", "9.8.7", "{{ .Commit }}", "0123abcd", "{{ .Date }}", "2026-01-02T03:04:05Z").Replace(strings.Join(b.Ldflags, " "))
}

// TestReleaseLdflags: the variables the release sets are the ones the
// binary has, as `keysweep version` prints them.
func TestReleaseLdflags(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(releaseBinary(t), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != releaseVersion {
		t.Errorf("version = %q, want %q", got, releaseVersion)
	}
}
