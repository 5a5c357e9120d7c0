package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestReleaseLdflags builds keysweep with the ldflags of .goreleaser.yaml
// (templates filled in) and checks that `keysweep version` prints them:
// the variables the release sets are the ones the binary has.
func TestReleaseLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
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
	ldflags := strings.NewReplacer("{{ .Version }}", "9.8.7", "{{ .Commit }}", "0123abcd", "{{ .Date }}", "2026-01-02T03:04:05Z").Replace(strings.Join(b.Ldflags, " "))
	bin := filepath.Join(t.TempDir(), "keysweep")
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), "keysweep 9.8.7 (commit 0123abcd, built 2026-01-02T03:04:05Z)"; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
}
