package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

func TestReportTargets(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("ci.env", "TOKEN="+tokA+"\n")
	r.Commit("leak")

	t.Run("a directory that does not exist, before the scan", func(t *testing.T) {
		t.Parallel()
		code, _, stderr := runCLI(t, "git", r.Dir, "--report", "/no/such/dir/x.json")
		if code != exitError || !strings.Contains(stderr, "--report /no/such/dir/x.json: directory /no/such/dir does not exist") || strings.Contains(stderr, "scanned") {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	})
	t.Run("- is stdout", func(t *testing.T) {
		t.Parallel()
		code, stdout, _ := runCLI(t, "git", r.Dir, "--report", "-", "--format", "jsonl")
		if code != exitFindings || !strings.Contains(stdout, `"path":"ci.env"`) {
			t.Errorf("exit %d: %s", code, stdout)
		}
		if _, err := os.Stat("-"); err == nil {
			t.Error("a file named - was written")
		}
	})
	t.Run("/dev/null is written in place", func(t *testing.T) {
		t.Parallel()
		if code, _, stderr := runCLI(t, "git", r.Dir, "--report", "/dev/null"); code != exitFindings {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a device: %v %v", st.Mode(), err)
		}
	})
	t.Run("a FIFO is written in place", func(t *testing.T) {
		t.Parallel()
		fifo := filepath.Join(t.TempDir(), "report.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("no FIFO here: %v", err)
		}
		read := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				read <- err.Error()
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			read <- string(b)
		}()
		code, _, stderr := runCLI(t, "git", r.Dir, "--report", fifo, "--format", "jsonl")
		if got := <-read; code != exitFindings || !strings.Contains(got, `"path":"ci.env"`) {
			t.Errorf("exit %d, read %q: %s", code, got, stderr)
		}
		if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
		}
	})
}
