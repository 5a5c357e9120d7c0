package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

func TestWriteAtomicKeepsTheOldFileWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	writeFile(t, path, "[old report]\n", 0o640)
	full := errors.New("no space left on device")
	err := writeAtomic(path, 0o666, func(w io.Writer) error {
		if _, err := io.WriteString(w, "[half of a new"); err != nil {
			return err
		}
		return full
	})
	if !errors.Is(err, full) {
		t.Fatalf("error %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "[old report]\n" {
		t.Errorf("the old report was damaged: %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a temporary file was left: %v", entries)
	}
	// A complete write replaces it, keeping its mode.
	if err := writeAtomic(path, 0o666, func(w io.Writer) error { _, err := io.WriteString(w, "[new]\n"); return err }); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if got, _ := os.ReadFile(path); string(got) != "[new]\n" || st.Mode().Perm() != 0o640 {
		t.Errorf("new report %q, mode %v", got, st.Mode().Perm())
	}
}

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
