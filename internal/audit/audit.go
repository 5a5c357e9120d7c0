// Package audit appends records of what keysweep did, or let through, to
// a JSON-lines file that survives a crash: each record is on disk before
// the step it records is followed by another.
package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Log appends records to a JSON-lines file. It is safe for concurrent use.
type Log struct {
	Path string

	mu sync.Mutex
	f  *os.File
}

// Open opens (or creates, readable by its owner only) the log at path for
// appending; "" is DefaultPath.
func Open(path string) (*Log, error) {
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Log{Path: path, f: f}, nil
}

// Append writes v as one JSON line and syncs it to disk.
func (l *Log) Append(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// One write per line: with O_APPEND, lines of concurrent writers (two
	// hooks of two pushes) do not interleave.
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write audit log %s: %w", l.Path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync audit log %s: %w", l.Path, err)
	}
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// DefaultPath is where the audit log goes when none is named:
// $XDG_STATE_HOME/keysweep/audit.jsonl, or ~/.local/state/keysweep/audit.jsonl.
func DefaultPath() (string, error) {
	dir, err := StateDir()
	if err != nil {
		return "", fmt.Errorf("%w: give --audit-log FILE", err)
	}
	return filepath.Join(dir, "audit.jsonl"), nil
}

// StateDir is where keysweep keeps what it remembers between runs:
// $XDG_STATE_HOME/keysweep, or ~/.local/state/keysweep.
func StateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "keysweep"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for keysweep's state: %w", err)
	}
	return filepath.Join(home, ".local", "state", "keysweep"), nil
}

// Entry is any line of the audit log as read back: a push let through
// (push-allow, push-skip, push-fail-open, push-inline-allow) or a swept
// secret a marker hid (sweep-inline-allow). The writers keep their own
// types, whose fields are the contract; this one is for reading them.
type Entry struct {
	Time        string   `json:"time"`
	Action      string   `json:"action"`
	Repo        string   `json:"repo"`
	Pusher      string   `json:"pusher"`
	From        string   `json:"from"`
	Refs        []string `json:"refs"`
	Reason      string   `json:"reason"`
	Fingerprint string   `json:"fingerprint"`
	Rule        string   `json:"rule"`
	Commit      string   `json:"commit"`
	Path        string   `json:"path"`
	Line        int      `json:"line"`
	Error       string   `json:"error"`
}

// Read reads the entries of the audit log at path; a log not written yet
// has none.
func Read(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
