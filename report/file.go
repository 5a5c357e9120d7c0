package report

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keysweep/keysweep/finding"
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
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	st, err := os.Stat(path)
	if err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		werr := write(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		return werr
	}
	if err == nil {
		perm = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// createTemp creates a new file beside path with perm (less the umask),
// named so that it cannot be taken for the report.
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	for {
		var r [6]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}
