package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/atomicfile"
)

// ToStdout reports whether a report path names standard output: nothing,
// or "-".
func ToStdout(path string) bool { return path == "" || path == "-" }

// CheckPath makes sure, before a scan that may take minutes, that a
// report can be written at path: a special file (a device, a FIFO) as it
// is, a regular file through a temporary file in its directory. Its errors
// start with path, for the command to name the flag.
func CheckPath(path string) error {
	if ToStdout(path) {
		return nil
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && !st.Mode().IsRegular():
		return nil // written in place when the time comes
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: directory %s does not exist", path, dir)
	}
	probe, err := os.CreateTemp(dir, ".keysweep-report-*")
	if err != nil {
		return fmt.Errorf("%s: cannot write in %s: %w", path, dir, errors.Unwrap(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// CreatePath checks, as CheckPath does, that a report can be written at
// path, and creates it empty with perm when it does not exist yet: the
// user sees at once where the report will be (and a --no-redact report is
// created readable by its owner alone before anything is in it).
func CreatePath(path string, perm os.FileMode) error {
	if err := CheckPath(path); err != nil || ToStdout(path) {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return nil // there already: a device or FIFO is not opened before its time
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	return f.Close()
}

// FormatOf is the format a report file's extension names (.json,
// .jsonl, .sarif, .csv, .txt, .html), "" for another.
func FormatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "json"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".sarif":
		return "sarif"
	case ".csv":
		return "csv"
	case ".txt", ".text":
		return "text"
	case ".html", ".htm":
		return "html"
	}
	return ""
}

// WriteTo writes findings to stdout, or to the file at path (see
// ToStdout), in opts.Format. A file with secrets in clear (NoRedact) is
// created readable by its owner alone, and a regular file is replaced
// whole or not at all (WriteFile).
func WriteTo(stdout io.Writer, path string, fs []finding.Finding, opts Options) error {
	if ToStdout(path) {
		if err := Write(stdout, fs, opts); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		return nil
	}
	opts.Color = false
	perm := os.FileMode(0o666)
	if opts.NoRedact {
		perm = 0o600
	}
	err := WriteFile(path, perm, func(w io.Writer) error { return Write(w, fs, opts) })
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// WriteFile writes what write produces to path so that a crash, a full
// disk or Ctrl-C leaves the old file whole: through a temporary file in the
// same directory, synced, then renamed over path. A path that is not a
// regular file (/dev/stdout, /dev/null, a FIFO) is written in place, never
// replaced. A new file gets perm; an existing one keeps its mode.
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) error {
	return atomicfile.Write(path, perm, write)
}
