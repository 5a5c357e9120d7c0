package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

// TestSignalsStopCleanly: SIGTERM and Ctrl-C (SIGINT) while git works
// end keysweep with "keysweep: interrupted", exit 2, and its git
// processes gone.
func TestSignalsStopCleanly(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", "TOKEN="+tokA+"\n")
	r.Commit("init")
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			// A git whose blob reader announces itself, then hangs: the
			// signal comes while keysweep waits on it.
			bin := t.TempDir()
			ready := filepath.Join(bin, "ready")
			if err := syscall.Mkfifo(ready, 0o600); err != nil {
				t.Skipf("no FIFO here: %v", err)
			}
			writeFile(t, filepath.Join(bin, "git"), `#!/bin/sh
case "$*" in
*"cat-file --batch") echo $$ > `+ready+`; exec sleep 600 ;;
esac
exec `+realGit+` "$@"
`, 0o755)
			cmd := exec.Command(os.Args[0], "git", r.Dir, "--no-progress")
			cmd.Env = append(os.Environ(), "KEYSWEEP_AS_CLI=1", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(ready)
			if err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			child, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("no pid from the git stand-in: %q", line)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitError || strings.TrimSpace(stderr.String()) != "keysweep: interrupted" {
				t.Errorf("exit %v, stderr:\n%s", err, stderr.String())
			}
			if err := syscall.Kill(child, 0); !errors.Is(err, syscall.ESRCH) {
				_ = syscall.Kill(child, syscall.SIGKILL)
				t.Errorf("git (pid %d) outlived keysweep: %v", child, err)
			}
		})
	}
}

func TestShallowCloneIsSaidAndMarked(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", "TOKEN="+tokA+"\n")
	r.Commit("leak")
	r.Write("b.txt", "more\n")
	r.Commit("more")
	clone := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "-q", "--depth", "1", "file://"+r.Dir, clone).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	code, stdout, stderr := runCLI(t, "git", clone, "--format", "jsonl")
	if code != exitFindings || !strings.Contains(stdout, `"shallow_boundary":true`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	if !strings.Contains(stderr, "keysweep: warning: a shallow clone: its history stops at 1 commit, and what it holds is attributed to it; run git fetch --unshallow") {
		t.Errorf("stderr:\n%s", stderr)
	}
	// A full clone says nothing of the kind.
	code, stdout, stderr = runCLI(t, "git", r.Dir, "--format", "jsonl")
	if code != exitFindings || strings.Contains(stdout, "shallow_boundary") || strings.Contains(stderr, "shallow") {
		t.Errorf("full clone: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestPathsAreReportedWhole(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	name := "conf\nprod\t\"x\".env"
	r.Write(name, "TOKEN="+tokA+"\n")
	r.Commit("leak")
	code, stdout, _ := runCLI(t, "git", r.Dir, "--format", "json")
	var fs []struct{ Path string }
	if err := json.Unmarshal([]byte(stdout), &fs); err != nil || code != exitFindings || len(fs) != 1 || fs[0].Path != name {
		t.Errorf("exit %d, %v: %+v", code, err, fs)
	}
}
