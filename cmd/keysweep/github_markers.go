package main

import (
	"sync"
	"time"

	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/scanner"
)

// sweepMarkers decides about keysweep:allow markers in swept repositories,
// whose content someone else controls: their secrets are reported unless
// the operator trusts the markers, and then each secret a marker hides is
// recorded in the audit log.
type sweepMarkers struct {
	trust bool
	log   *audit.Log
	// mu serializes the filter: it runs from several repositories'
	// goroutines at once, and the suppression counts are shared.
	mu sync.Mutex
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

// filter returns the sweep's filter: the operator's suppressions, then
// the markers.
func (m *sweepMarkers) filter(setup *scanSetup) func(string, []scanner.Finding) []scanner.Finding {
	return func(repo string, fs []scanner.Finding) []scanner.Finding {
		m.mu.Lock()
		defer m.mu.Unlock()
		fs = setup.filter(fs)
		if !m.trust {
			return fs
		}
		kept := fs[:0]
		for _, f := range fs {
			if f.Marked {
				err := m.log.Append(sweepAuditEntry{
					Time: time.Now().UTC().Format(time.RFC3339Nano), Action: "sweep-inline-allow", Repo: repo,
					Reason:      "keysweep:allow marker in the repository",
					Fingerprint: setup.fp.Fingerprint(f.RuleID, f.KeyID, f.Secret),
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
}
