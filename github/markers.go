package github

import (
	"time"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/audit"
)

// markers filters a swept repository's findings: the operator's
// suppressions, then keysweep:allow markers, which someone else controls.
// Their secrets are reported unless the operator trusts the markers, and
// then each secret a marker hides is recorded in the audit log.
type markers struct {
	setup *config.Setup
	trust bool
	log   *audit.Log
}

// sweepAuditEntry is one line of the audit log: a secret of a swept
// repository not reported because a marker said so. It never holds a
// secret.
type sweepAuditEntry struct {
	Time        string `json:"time"`
	Action      string `json:"action"` // sweep-inline-allow
	Repo        string `json:"repo"`
	Reason      string `json:"reason"`
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
	Commit      string `json:"commit,omitempty"`
	Path        string `json:"path"`
	Line        int    `json:"line"`
}

// Filter drops the suppressed findings of repo. It is safe for concurrent
// use: the setup's filter and the audit log are.
func (m *markers) Filter(repo string, fs []finding.Finding) []finding.Finding {
	fs = m.setup.Filter(fs)
	if !m.trust {
		return fs
	}
	kept := fs[:0]
	for _, f := range fs {
		if f.Marked {
			err := m.log.Append(sweepAuditEntry{
				Time: time.Now().UTC().Format(time.RFC3339Nano), Action: "sweep-inline-allow", Repo: repo,
				Reason:      "keysweep:allow marker in the repository",
				Fingerprint: m.setup.Fingerprints.Fingerprint(f.RuleID, f.KeyID, f.Secret),
				Rule:        f.RuleID, Commit: f.Commit, Path: f.Path, Line: f.Line,
			})
			if err == nil {
				continue // recorded: not reported
			}
		}
		kept = append(kept, f)
	}
	return kept
}
