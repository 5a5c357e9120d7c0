package aws

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/limit"
)

// Options say what a run does with the AWS keys it finds.
type Options struct {
	// Workers is how many verification calls are in flight at once.
	Workers int
	// Timeout bounds one verification call, retries included; a
	// remediation call gets RemediationTimeout.
	Timeout            time.Duration
	RemediationTimeout time.Duration
	// OwnAccounts are the user's accounts: only their live keys are
	// remediated. Without them, keys are only verified.
	OwnAccounts []string
	// RoleName, if set, is assumed in each own account to act there.
	RoleName string
	// Deactivate acts; without it remediation only plans.
	Deactivate bool
	// AuditLog is the file every remediation step is appended to; ""
	// is audit.DefaultPath.
	AuditLog string
	// Partitions are those a key is tried in (nil: all).
	Partitions []string
	// Limit, if set, bounds the verification calls in flight across
	// every user of it (the other providers' verification shares it).
	Limit limit.Limiter
	// Contain, Grace, State, Webhook, Mail, NotifyEmail, CloudTrail and
	// Trail are incident response's: see RemediateOptions.
	Contain     []string
	Grace       time.Duration
	State       State
	Webhook     Notifier
	Mail        Notifier
	NotifyEmail string
	CloudTrail  bool
	Trail       TrailOptions
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Load are added to the AWS configuration (tests: an endpoint,
	// retries that do not wait).
	Load []func(*config.LoadOptions) error
}

// DefaultTimeout bounds one verification call when Options say nothing.
const DefaultTimeout = 10 * time.Second

// Session verifies and remediates the AWS keys of one run, and counts
// what it did for the summary. It is safe for concurrent use: a sweep
// processes several repositories' findings at once, one batch at a time.
type Session struct {
	now        func() time.Time
	state      State
	verifier   *Verifier
	workers    int
	remediator *Remediator
	audit      *AuditLog
	own        map[string]bool

	mu sync.Mutex
	// fresh is the most telling result this process obtained for each
	// key id: what remediation acts on.
	fresh map[string]*Result
	// best is the most telling verification of each key id processed,
	// and remediation what was decided about it, for the summary.
	best        map[string]*finding.Verification
	remediation map[string]finding.Remediation
	incidents   map[string]Incident
}

// Open prepares a session: the AWS configuration, and with own accounts
// the remediator and its audit log. It fails before any scan is done when
// the set-up is wrong.
func Open(ctx context.Context, opts Options) (*Session, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	cfg, err := LoadConfig(ctx, opts.Load...)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Session{
		now:         opts.Now,
		state:       opts.State,
		verifier:    NewVerifier(cfg, opts.Timeout, opts.Partitions...).limited(opts.Limit),
		workers:     max(1, opts.Workers),
		own:         map[string]bool{},
		fresh:       map[string]*Result{},
		best:        map[string]*finding.Verification{},
		remediation: map[string]finding.Remediation{},
		incidents:   map[string]Incident{},
	}
	if len(opts.OwnAccounts) == 0 {
		return s, nil
	}
	accounts, err := ParseAccounts(opts.OwnAccounts)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		s.own[a] = true
	}
	if s.audit, err = OpenAuditLog(opts.AuditLog); err != nil {
		return nil, err
	}
	s.remediator, err = NewRemediator(cfg, RemediateOptions{
		OwnAccounts: accounts,
		RoleName:    opts.RoleName,
		Deactivate:  opts.Deactivate,
		Timeout:     opts.RemediationTimeout,
		Audit:       s.audit,
		Contain:     opts.Contain,
		Grace:       opts.Grace,
		State:       opts.State,
		Webhook:     opts.Webhook,
		Mail:        opts.Mail,
		NotifyEmail: opts.NotifyEmail,
		CloudTrail:  opts.CloudTrail,
		Trail:       opts.Trail,
		Now:         opts.Now,
	})
	if err != nil {
		s.audit.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the audit log.
func (s *Session) Close() error {
	if s == nil || s.audit == nil {
		return nil
	}
	return s.audit.Close()
}

// AuditLogPath is where remediation steps go, "" without remediation.
func (s *Session) AuditLogPath() string {
	if s == nil || s.audit == nil {
		return ""
	}
	return s.audit.Path
}

// Process verifies the AWS findings of fs in place and, with own
// accounts, remediates their keys. A key id found alone is not sent; it
// shares the best result the session has for the key id (verified
// through a pair in this batch or an earlier one), or says why it was not
// sent. Batches of several goroutines are verified at once; remediation
// goes one key at a time.
func (s *Session) Process(ctx context.Context, fs []finding.Finding) {
	var idx []int
	var keys []Key
	var ids []string
	for i, f := range fs {
		if f.RuleID == detectors.AWSKeyRule {
			idx = append(idx, i)
			keys = append(keys, Key{ID: f.KeyID, Secret: f.Secret, SessionToken: f.SessionToken})
			if Key.lacks(keys[len(keys)-1]) == "" {
				ids = append(ids, f.KeyID)
			}
		}
	}
	if s.remediator != nil {
		// What IAM recorded of an own key's last use is read before the
		// verification is recorded as one.
		s.mu.Lock()
		s.remediator.Before(ctx, ids)
		s.mu.Unlock()
	}
	results := s.verifier.VerifyAll(ctx, keys, s.workers)
	verifiedAt := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for j, i := range idx {
		fs[i].Verification = results[j].Verification()
		s.keep(fs[i].KeyID, &results[j])
		if results[j].Status == finding.StatusVerified {
			s.verified(fs[i].KeyID, verifiedAt)
		}
	}
	for i, f := range fs {
		if f.RuleID != detectors.AWSKeyIDRule {
			continue
		}
		if b := s.fresh[f.KeyID]; b != nil && b.Status == finding.StatusVerified {
			fs[i].Verification = b.Verification()
			continue
		}
		r := s.verifier.Verify(ctx, Key{ID: f.KeyID}) // says why it is not sent
		fs[i].Verification = r.Verification()
		if s.fresh[f.KeyID] == nil {
			s.fresh[f.KeyID] = &r
		}
	}
	leaks := leaksOf(fs)
	for i, f := range fs {
		if f.KeyID == "" {
			continue
		}
		s.note(f.KeyID, fs[i].Verification)
		if s.remediator == nil {
			continue
		}
		// Only this run's answers are acted on, never a report's.
		resp := s.remediator.Respond(ctx, f.KeyID, s.fresh[f.KeyID], leaks[f.KeyID])
		rem := resp.Remediation
		fs[i].Remediation = &rem
		inc := resp.Incident
		fs[i].Usage, fs[i].UsedAfterExposure, fs[i].CloudTrail, fs[i].BlastRadius = inc.Usage, inc.UsedAfterExposure, inc.CloudTrail, inc.BlastRadius
		s.remediation[f.KeyID] = rem
		s.incidents[f.KeyID] = inc
	}
}

// verified remembers when an own key was verified, so that a later run
// does not take the use IAM records of it for someone else's; s.mu is
// held.
func (s *Session) verified(keyID string, at time.Time) {
	if s.state == nil || s.remediator == nil {
		return
	}
	if account, ok := detectors.AccountID(keyID); !ok || !s.own[account] {
		return
	}
	ks, err := s.state.Get(keyID)
	if err == nil {
		ks.Verified = at.UTC()
		_ = s.state.Put(keyID, ks) // at worst, the next run cannot tell this use from another's
	}
}

// leaksOf returns, for each key id of fs, where and since when it leaked:
// the oldest exposure among its findings, and whether any is public.
func leaksOf(fs []finding.Finding) map[string]Leak {
	out := map[string]Leak{}
	for _, f := range fs {
		if f.KeyID == "" {
			continue
		}
		l, seen := out[f.KeyID]
		var since time.Time
		if f.Exposure != nil {
			since, _ = time.Parse(time.RFC3339, f.Exposure.Since)
		}
		if !seen || (!since.IsZero() && (l.Since.IsZero() || since.Before(l.Since))) {
			public := l.Public
			l = Leak{Since: since, Repository: f.Repository, Commit: f.Commit, Path: f.Path, Line: f.Line, Email: f.Email, Public: public}
		}
		l.Public = l.Public || (f.Public != nil && *f.Public)
		out[f.KeyID] = l
	}
	return out
}

// keep remembers r for keyID when it proves more than what the session
// has; s.mu is held.
func (s *Session) keep(keyID string, r *Result) {
	if b := s.fresh[keyID]; b == nil || r.Verification().Rank() > b.Verification().Rank() {
		s.fresh[keyID] = r
	}
}

// note keeps v for keyID's summary when it tells more than what is
// known; s.mu is held.
func (s *Session) note(keyID string, v *finding.Verification) {
	if v != nil && v.Rank() > s.best[keyID].Rank() {
		s.best[keyID] = v
	}
}

// Summary counts the distinct keys a session processed, by verification
// status and by remediation action.
type Summary struct {
	Verification map[string]int
	Remediation  map[string]int
	// Steps counts the containment steps taken or planned
	// (quarantined, deactivated, ...); UsedAfterExposure and Admin the
	// own live keys used since they leaked, and that can do everything.
	Steps             map[string]int
	UsedAfterExposure int
	Admin             int
	// AuditLog is where remediation steps went, "" without remediation.
	AuditLog string
}

// Summary says what the session did so far.
func (s *Session) Summary() Summary {
	sum := Summary{Verification: map[string]int{}, Remediation: map[string]int{}, Steps: map[string]int{}, AuditLog: s.AuditLogPath()}
	if s == nil {
		return sum
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.best {
		sum.Verification[v.Status]++
	}
	for _, r := range s.remediation {
		sum.Remediation[r.Action]++
		for _, step := range r.Steps {
			sum.Steps[step]++
		}
	}
	for _, inc := range s.incidents {
		if inc.UsedAfterExposure.True() {
			sum.UsedAfterExposure++
		}
		if inc.BlastRadius != nil && inc.BlastRadius.Admin {
			sum.Admin++
		}
	}
	return sum
}

// Failed counts the keys a remediation step failed for.
func (s Summary) Failed() int { return s.Remediation[finding.ActionFailed] }

// Pending counts own live keys that are still active: planned, or left to
// a person.
func (s Summary) Pending() int {
	return s.Remediation[finding.ActionWouldDeactivate] + s.Remediation[finding.ActionWouldQuarantine] + s.Remediation[finding.ActionWouldWarn] +
		s.Remediation[finding.ActionWarned] + s.Remediation[finding.ActionReminded] + s.Remediation[finding.ActionManual]
}

// Err is the error of a run in which a remediation step failed: the
// results are written, but the run is not green.
func (s Summary) Err() error {
	if n := s.Failed(); n > 0 {
		return fmt.Errorf("remediation failed for %d keys: see the report and the audit log %s", n, s.AuditLog)
	}
	return nil
}
