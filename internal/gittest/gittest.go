// Package gittest builds real git repositories in temporary directories
// for tests, with the git command line.
package gittest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a repository under construction.
type Repo struct {
	t   testing.TB
	Dir string
	// Env is added to the environment of every git command, after the
	// defaults (so it can override them).
	Env  []string
	tick int
}

// New returns an empty non-bare repository whose first branch is main.
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// NewBare returns an empty bare repository.
func NewBare(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "--bare", "-b", "main")
	return r
}

// Git runs git in the repository and returns its trimmed output. Commits
// get distinct, increasing dates so that history order is deterministic.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out, err := r.run(args...)
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// GitFails runs git and returns its output, expecting it to fail.
func (r *Repo) GitFails(args ...string) string {
	r.t.Helper()
	out, err := r.run(args...)
	if err == nil {
		r.t.Fatalf("git %s succeeded, want failure", strings.Join(args, " "))
	}
	return out
}

// Try runs git and returns its trimmed output and whether it failed.
func (r *Repo) Try(args ...string) (string, error) {
	out, err := r.run(args...)
	return strings.TrimSpace(out), err
}

func (r *Repo) run(args ...string) (string, error) {
	r.tick++
	date := fmt.Sprintf("2024-01-01T00:%02d:%02dZ", r.tick/60, r.tick%60)
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Alice Example", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice Example", "GIT_COMMITTER_EMAIL=alice@example.com",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+r.Dir, "GIT_CONFIG_GLOBAL=/dev/null",
	)
	cmd.Env = append(cmd.Env, r.Env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Write writes a file of the work tree, creating its directories.
func (r *Repo) Write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.Dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes a file of the work tree.
func (r *Repo) Remove(path string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.Dir, path)); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything and commits it, returning the commit id.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}

// BlobID returns the id git gives content.
func (r *Repo) BlobID(content string) string {
	r.t.Helper()
	cmd := exec.Command("git", "hash-object", "--stdin")
	cmd.Stdin = strings.NewReader(content)
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// ObjectPath returns the file of a loose object.
func (r *Repo) ObjectPath(id string) string {
	gitDir := r.Git("rev-parse", "--absolute-git-dir")
	return filepath.Join(gitDir, "objects", id[:2], id[2:])
}

// NewForeign returns a repository with one commit and an empty directory
// sub, all owned by another user (uid 12345), and the environment of a git
// that trusts no directory ("KEY=value" pairs): git then refuses it as of
// dubious ownership. It needs root, and skips the test without.
func NewForeign(t testing.TB) (*Repo, []string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	r := New(t)
	r.Write("a.txt", "hello\n")
	r.Commit("init")
	if err := os.Mkdir(filepath.Join(r.Dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(r.Dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 12345, 12345)
	})
	if err != nil {
		t.Fatal(err)
	}
	global := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(global, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return r, []string{"GIT_CONFIG_GLOBAL=" + global, "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()}
}
