package verify

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AuditEntry is one line of the audit log: one remediation step. It never
// holds a secret: a key is named by its id.
type AuditEntry struct {
	Time    string `json:"time"`
	KeyID   string `json:"key_id"`
	Account string `json:"account"`
	User    string `json:"user,omitempty"`
	Role    string `json:"role,omitempty"`
	// Action is the step: assume-role, check-credentials, lookup-user,
	// check-status, deactivate, or the decision taken for the key.
	Action string `json:"action"`
	// Result is ok, failed, or the decision (would-deactivate, manual,
	// skip, already-inactive).
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// AuditLog appends entries to a JSON-lines file, each synced to disk
// before the next step is taken. It is safe for concurrent use.
type AuditLog struct {
	Path string

	mu sync.Mutex
	f  *os.File
}

// OpenAuditLog opens (or creates, readable by its owner only) the audit
// log at path for appending.
func OpenAuditLog(path string) (*AuditLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &AuditLog{Path: path, f: f}, nil
}

// Record appends e, stamped with the current time.
func (a *AuditLog) Record(e AuditEntry) error {
	e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write audit log %s: %w", a.Path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("sync audit log %s: %w", a.Path, err)
	}
	return nil
}

// Close closes the file.
func (a *AuditLog) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}

// DefaultAuditLogPath is where the audit log goes when none is named:
// $XDG_STATE_HOME/keysweep/audit.jsonl, or ~/.local/state/keysweep/audit.jsonl.
func DefaultAuditLogPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "keysweep", "audit.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the audit log (give --audit-log FILE): %w", err)
	}
	return filepath.Join(home, ".local", "state", "keysweep", "audit.jsonl"), nil
}
