package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keysweep/keysweep/internal/ghtest"
	"github.com/keysweep/keysweep/internal/gittest"
)

// history writes commits changing files into the repository r with git
// fast-import: text files of a few KiB, four changed per commit.
func history(b *testing.B, r *gittest.Repo, commits, files int, seed uint64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var in bytes.Buffer
	words := strings.Fields("func return if else for range var const type struct interface map string int error nil package import")
	for c := 1; c <= commits; c++ {
		msg := fmt.Sprintf("change %d", c)
		fmt.Fprintf(&in, "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s\n", c, 1700000000+c*60, len(msg), msg)
		if c > 1 {
			fmt.Fprintf(&in, "from :%d\n", c-1)
		}
		for k := 0; k < 4; k++ {
			var body strings.Builder
			for body.Len() < 3000 {
				body.WriteString(words[rng.IntN(len(words))])
				if rng.IntN(8) == 0 {
					body.WriteString("\n")
				} else {
					body.WriteString(" ")
				}
			}
			fmt.Fprintf(&in, "M 100644 inline src/file%03d.go\ndata %d\n%s\n", rng.IntN(files), body.Len(), body.String())
		}
	}
	cmd := exec.Command("git", "-C", r.Dir, "fast-import", "--quiet")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v\n%s", err, out)
	}
	r.Git("push", "-q", "origin", "main")
}

// BenchmarkGitHubSweep sweeps an organization of generated repositories
// served by the GitHub stand-in (git over HTTP on loopback): a first
// sweep (mirror clone and full scan), a sweep with nothing new, and one
// after a commit in each repository; against keysweep git on the same
// histories, read from disk, in the same run.
//
//	go test ./cmd/keysweep -run '^$' -bench GitHubSweep -benchtime 3x
func BenchmarkGitHubSweep(b *testing.B) {
	const repos, commits = 8, 1000
	gh := ghtest.New(b, ghToken)
	var work []*gittest.Repo
	var bare []string
	for i := 0; i < repos; i++ {
		name := fmt.Sprintf("acme/repo%d", i)
		w := gh.AddRepo(name, ghtest.Repo{})
		history(b, w, commits, 200, uint64(i))
		work = append(work, w)
		bare = append(bare, strings.TrimSpace(w.Git("remote", "get-url", "origin")))
	}
	tokenFile := filepath.Join(b.TempDir(), "token")
	writeFile(b, tokenFile, ghToken, 0o600)
	sweep := func(b *testing.B, cache string) {
		var errOut bytes.Buffer
		args := []string{"github", "--api-url", gh.APIURL(), "--token-file", tokenFile, "--cache-dir", cache, "--org", "acme", "--format", "json", "--report", filepath.Join(cache, "r.json")}
		if code := run(context.Background(), args, strings.NewReader(""), io.Discard, &errOut); code == exitError {
			b.Fatalf("sweep: %s", errOut.String())
		}
	}
	b.Run("keysweep-git", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, dir := range bare {
				if code := run(context.Background(), []string{"git", dir, "--format", "json", "--report", filepath.Join(b.TempDir(), "r.json")}, strings.NewReader(""), io.Discard, io.Discard); code == exitError {
					b.Fatal("keysweep git failed")
				}
			}
		}
	})
	b.Run("first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sweep(b, b.TempDir())
		}
	})
	cache := b.TempDir()
	sweep(b, cache)
	b.Run("unchanged", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sweep(b, cache)
		}
	})
	b.Run("one-new-commit-each", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for j, w := range work {
				w.Write("new.txt", fmt.Sprintf("%d %d %d\n", i, j, time.Now().UnixNano()))
				w.Commit("one more")
				w.Git("push", "-q", "origin", "main")
			}
			b.StartTimer()
			sweep(b, cache)
		}
	})
}
