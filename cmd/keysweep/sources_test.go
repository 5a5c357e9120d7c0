package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/internal/gittest"
)

// TestMain lets the test binary stand in for keysweep in git hooks: with
// KEYSWEEP_AS_CLI set it runs the command line it was given.
func TestMain(m *testing.M) {
	if os.Getenv("KEYSWEEP_AS_CLI") != "" {
		ctx, stop := signalContext()
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	code := m.Run()
	if release.dir != "" {
		os.RemoveAll(release.dir)
	}
	os.Exit(code)
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func TestDirCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside.env")
	writeFile(t, outside, "TOKEN="+tokE+"\n", 0o644)
	writeFile(t, filepath.Join(dir, ".env"), "GITHUB_TOKEN="+tokA+"\n", 0o644)
	writeFile(t, filepath.Join(dir, "src", "deep", "config.yaml"), "auth:\n  token: "+tokB+"\n", 0o644)
	writeFile(t, filepath.Join(dir, ".git", "config"), "token = "+tokC+"\n", 0o644)
	writeFile(t, filepath.Join(dir, "bin", "tool"), "\x00\x01ELF "+tokD+"\n", 0o755)
	writeFile(t, filepath.Join(dir, "big.log"), strings.Repeat("x", 2048)+tokD+"\n", 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "link.env")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "dir", dir, "--format", "json", "--max-blob-size", "1KiB")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if diff := cmp.Diff([]string{".env", "src/deep/config.yaml"}, paths(t, out)); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "scanned 2 files") || !strings.Contains(errOut, "skipped 1 binary and 1 larger than 1.0 KiB") {
		t.Errorf("summary: %s", errOut)
	}
	fs := parseFindings(t, out)
	if f := fs["src/deep/config.yaml"]; f.RuleID != "github-token" {
		t.Errorf("finding: %+v", f)
	}

	// A single file.
	code, out, _ = runCLI(t, "dir", filepath.Join(dir, ".env"), "--format", "json")
	if code != exitFindings || !cmp.Equal(paths(t, out), []string{".env"}) {
		t.Errorf("single file: exit %d, %v", code, paths(t, out))
	}
	// Clean, and missing.
	clean := t.TempDir()
	writeFile(t, filepath.Join(clean, "a.txt"), "hello\n", 0o644)
	if code, out, _ := runCLI(t, "dir", clean, "--format", "json"); code != exitClean || out != "[]\n" {
		t.Errorf("clean dir: exit %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, "dir", "/nonexistent/dir"); code != exitError || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing dir: exit %d %q", code, errOut)
	}
}

func TestStagedCommand(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	// Before the first commit: everything staged is new.
	r.Write("first.env", "TOKEN="+tokA+"\n")
	r.Git("add", "first.env")
	code, out, errOut := runCLI(t, "staged", "--repo", r.Dir, "--format", "json")
	if code != exitFindings || !cmp.Equal(paths(t, out), []string{"first.env"}) {
		t.Fatalf("initial commit: exit %d, %v, %s", code, paths(t, out), errOut)
	}
	r.Commit("first, with its secret (already leaked: not the hook's business now)")

	// A change that adds a secret among old ones.
	awsFile := "[default]\naws_access_key_id = " + keyID + "\n"
	r.Write("creds", awsFile)
	r.Write("app.env", "A=1\nB=2\n")
	r.Commit("setup")
	r.Write("first.env", "TOKEN="+tokA+"\nOTHER=x\nNEW="+tokB+"\n")
	r.Write("creds", awsFile+"aws_secret_access_key = "+secret+"\n")
	r.Write("notes.txt", "nothing\n")
	r.Git("add", "first.env", "creds", "notes.txt")
	// Not staged: must not be reported.
	r.Write("app.env", "A=1\nB=2\nC="+tokC+"\n")
	sub := filepath.Join(r.Dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "staged", "--repo", sub, "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	fs := parseFindings(t, out)
	if diff := cmp.Diff([]string{"creds", "first.env"}, paths(t, out)); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if f := fs["first.env"]; f.Secret != "ghp_*****" {
		t.Errorf("first.env: %+v", f)
	}
	var lines []int
	for _, f := range parseFindingsList(t, out) {
		lines = append(lines, f.Line)
	}
	if diff := cmp.Diff([]int{2, 3}, lines); diff != "" {
		t.Errorf("lines (creds: the key id's line 2; first.env: the new line 3) (-want +got):\n%s", diff)
	}

	// Nothing staged: clean.
	r.Commit("commit it anyway")
	if code, _, errOut := runCLI(t, "staged", "--repo", r.Dir); code != exitClean {
		t.Errorf("nothing staged: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "staged", "--repo", t.TempDir()); code != exitError || !strings.Contains(errOut, "not a git repository") {
		t.Errorf("not a repository: exit %d %s", code, errOut)
	}
}

// TestPreCommitHook installs keysweep (this test binary standing in for
// it) as a real pre-commit hook and commits through git.
func TestPreCommitHook(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("README.md", "# app\n")
	r.Commit("init")
	hook := "#!/bin/sh\nKEYSWEEP_AS_CLI=1 exec '" + os.Args[0] + "' staged\n"
	writeFile(t, filepath.Join(r.Dir, ".git", "hooks", "pre-commit"), hook, 0o755)

	r.Write("deploy.sh", "export GITHUB_TOKEN="+tokD+"\n")
	r.Git("add", "deploy.sh")
	cmd := exec.Command("git", "-C", r.Dir, "commit", "-q", "-m", "deploy script")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the commit went through:\n%s", out)
	}
	if !strings.Contains(string(out), "deploy.sh:1") || strings.Contains(string(out), tokD) {
		t.Errorf("hook output does not name the place, or shows the secret:\n%s", out)
	}
	r.Write("deploy.sh", "export GITHUB_TOKEN=\"$(vault read -field=token secret/ci)\"\n")
	r.Git("add", "deploy.sh")
	if out, err := exec.Command("git", "-C", r.Dir, "commit", "-q", "-m", "deploy script").CombinedOutput(); err != nil {
		t.Errorf("a clean commit was refused: %v\n%s", err, out)
	}
}
