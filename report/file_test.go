package report

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomicKeepsTheOldFileWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("[old report]\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	err := WriteFile(path, 0o666, func(w io.Writer) error {
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
	if err := WriteFile(path, 0o666, func(w io.Writer) error { _, err := io.WriteString(w, "[new]\n"); return err }); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if got, _ := os.ReadFile(path); string(got) != "[new]\n" || st.Mode().Perm() != 0o640 {
		t.Errorf("new report %q, mode %v", got, st.Mode().Perm())
	}
}
