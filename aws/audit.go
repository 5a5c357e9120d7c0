package aws

import (
	"time"

	"github.com/keysweep/keysweep/internal/audit"
)

// AuditEntry is one line of the audit log: one remediation step. It never
// holds a secret: a key is named by its id.
type AuditEntry struct {
	Time    string `json:"time"`
	KeyID   string `json:"key_id"`
	Account string `json:"account"`
	User    string `json:"user,omitempty"`
	Role    string `json:"role,omitempty"`
	// Region is where a regional call went (CloudTrail); Policy the
	// policy a quarantine step found or attached.
	Region string `json:"region,omitempty"`
	Policy string `json:"policy,omitempty"`
	// Action is the step: get-access-key-info, assume-role,
	// check-credentials, lookup-user, last-used, the reads of the blast
	// radius and of CloudTrail, check-quarantine, find-quarantine-policy,
	// quarantine, check-status, deactivate, warned, reminded,
	// notify-webhook, notify-email, or the decision taken for the key.
	Action string `json:"action"`
	// Result is ok, failed, or the decision (would-deactivate, manual,
	// skip, already-inactive).
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// AuditLog appends remediation steps to the audit log, each synced to
// disk before the next step is taken. It is safe for concurrent use.
type AuditLog struct {
	*audit.Log
}

// OpenAuditLog opens (or creates, readable by its owner only) the audit
// log at path for appending; "" is audit.DefaultPath.
func OpenAuditLog(path string) (*AuditLog, error) {
	l, err := audit.Open(path)
	if err != nil {
		return nil, err
	}
	return &AuditLog{l}, nil
}

// Record appends e, stamped with the current time.
func (a *AuditLog) Record(e AuditEntry) error {
	e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	return a.Append(e)
}
