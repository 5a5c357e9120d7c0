package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/verify"
)

// awsOptions are the flags that verify found AWS keys and act on them.
type awsOptions struct {
	verify        bool
	verifyWorkers int
	verifyTimeout time.Duration
	remediationOptions
}

// remediationOptions are the flags of deactivation, shared by scans and
// `keysweep remediate`.
type remediationOptions struct {
	ownAccounts []string
	roleName    string
	deactivate  bool
	auditLog    string
}

func (o *awsOptions) bind(f *pflag.FlagSet) {
	f.BoolVar(&o.verify, "verify", false, "check each AWS key pair found with sts:GetCallerIdentity, signed with that pair (canary keys are never sent)")
	f.IntVar(&o.verifyWorkers, "verify-workers", 8, "AWS verification calls in flight at once")
	f.DurationVar(&o.verifyTimeout, "verify-timeout", 10*time.Second, "time limit of one verification call, retries included")
	o.remediationOptions.bind(f)
	f.BoolVar(&o.deactivate, "deactivate", false, "set live keys of --own-accounts Inactive with iam:UpdateAccessKey (keys are never deleted)")
}

func (o *remediationOptions) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&o.ownAccounts, "own-accounts", nil, "your AWS account ids, comma-separated: only their live keys are planned for (or, with --deactivate, given) deactivation; implies --verify")
	f.StringVar(&o.roleName, "role-name", "", "act through arn:aws:iam::<account>:role/`NAME` in each own account, assumed from the default credentials (default: act with the default credentials)")
	f.StringVar(&o.auditLog, "audit-log", "", "append every remediation step to `FILE`, as JSON lines (default $XDG_STATE_HOME/keysweep/audit.jsonl)")
}

// awsRun is what verification and remediation need, prepared before the
// scan so that a bad AWS set-up fails before any work is done.
type awsRun struct {
	verifier   *verify.Verifier
	workers    int
	remediator *verify.Remediator
	audit      *verify.AuditLog
	deactivate bool
}

// prepare returns nil when neither verification nor remediation is asked.
func (o *awsOptions) prepare(ctx context.Context, s *streams) (*awsRun, error) {
	// Checked whether or not it is used: a bad value is a mistake either way.
	if o.verifyWorkers < 1 {
		return nil, fmt.Errorf("--verify-workers must be at least 1, got %d", o.verifyWorkers)
	}
	if len(o.ownAccounts) == 0 {
		switch {
		case o.deactivate:
			return nil, errors.New("--deactivate needs --own-accounts: name the accounts whose keys may be deactivated")
		case o.roleName != "":
			return nil, errors.New("--role-name needs --own-accounts")
		case !o.verify:
			return nil, nil
		}
	}
	if o.verifyTimeout <= 0 {
		return nil, fmt.Errorf("--verify-timeout must be positive, got %s", o.verifyTimeout)
	}
	cfg, err := verify.LoadConfig(ctx, s.awsOpts...)
	if err != nil {
		return nil, err
	}
	a := &awsRun{verifier: verify.NewVerifier(cfg, o.verifyTimeout), workers: o.verifyWorkers, deactivate: o.deactivate}
	if len(o.ownAccounts) > 0 {
		a.remediator, a.audit, err = o.remediationOptions.newRemediator(cfg, o.deactivate, o.verifyTimeout)
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (o *remediationOptions) newRemediator(cfg aws.Config, deactivate bool, timeout time.Duration) (*verify.Remediator, *verify.AuditLog, error) {
	accounts, err := verify.ParseAccounts(o.ownAccounts)
	if err != nil {
		return nil, nil, fmt.Errorf("--own-accounts: %w", err)
	}
	if len(accounts) == 0 {
		return nil, nil, errors.New("--own-accounts is empty")
	}
	path := o.auditLog
	if path == "" {
		if path, err = verify.DefaultAuditLogPath(); err != nil {
			return nil, nil, err
		}
	}
	audit, err := verify.OpenAuditLog(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := verify.NewRemediator(cfg, verify.RemediateOptions{
		OwnAccounts: accounts,
		RoleName:    o.roleName,
		Deactivate:  deactivate,
		Timeout:     3 * timeout,
		Audit:       audit,
	})
	if err != nil {
		audit.Close()
		return nil, nil, fmt.Errorf("--role-name: %w", err)
	}
	return r, audit, nil
}

func (a *awsRun) close() {
	if a != nil && a.audit != nil {
		a.audit.Close()
	}
}

// process verifies the AWS findings and, with own accounts, remediates.
func (a *awsRun) process(ctx context.Context, fs []scanner.Finding) {
	var idx []int
	var keys []verify.Key
	for i, f := range fs {
		if f.RuleID == detectors.AWSKeyRule {
			idx = append(idx, i)
			keys = append(keys, verify.Key{ID: f.KeyID, Secret: f.Secret, SessionToken: f.SessionToken})
		}
	}
	results := a.verifier.VerifyAll(ctx, keys, a.workers)
	for j, i := range idx {
		fs[i].Verification = &results[j]
	}
	// A key id found alone is not sent; it shares the result of the same
	// key id verified through a pair elsewhere, or stays unknown.
	best := map[string]*verify.Result{}
	for i := range fs {
		if v := fs[i].Verification; v != nil && rank(v) > rank(best[fs[i].KeyID]) {
			best[fs[i].KeyID] = v
		}
	}
	for i, f := range fs {
		if f.RuleID != detectors.AWSKeyIDRule {
			continue
		}
		if v := best[f.KeyID]; v != nil && v.Status == verify.StatusVerified {
			fs[i].Verification = v
			continue
		}
		r := a.verifier.Verify(ctx, verify.Key{ID: f.KeyID})
		fs[i].Verification = &r
		if best[f.KeyID] == nil {
			best[f.KeyID] = &r
		}
	}
	if a.remediator == nil {
		return
	}
	for i, f := range fs {
		if f.KeyID == "" {
			continue
		}
		rem := a.remediator.Remediate(ctx, f.KeyID, best[f.KeyID])
		fs[i].Remediation = &rem
	}
}

// rank orders verification results by what they prove.
func rank(v *verify.Result) int {
	if v == nil {
		return 0
	}
	switch v.Status {
	case verify.StatusVerified:
		return 4
	case verify.StatusInvalid:
		return 3
	case verify.StatusCanary:
		return 2
	default:
		return 1
	}
}

// awsSummary counts distinct keys by verification status and remediation
// action, for the summary on stderr.
type awsSummary struct {
	verification map[string]int
	remediation  map[string]int
	auditLog     string
}

func summarize(ids []string, vs []*verify.Result, rs []*verify.Remediation, audit *verify.AuditLog) awsSummary {
	s := awsSummary{verification: map[string]int{}, remediation: map[string]int{}}
	if audit != nil {
		s.auditLog = audit.Path
	}
	best := map[string]*verify.Result{}
	rem := map[string]*verify.Remediation{}
	for i, id := range ids {
		if id == "" {
			continue
		}
		if _, ok := best[id]; !ok || rank(vs[i]) > rank(best[id]) {
			best[id] = vs[i]
		}
		if rs[i] != nil {
			rem[id] = rs[i]
		}
	}
	for _, v := range best {
		if v != nil {
			s.verification[v.Status]++
		}
	}
	for _, r := range rem {
		s.remediation[r.Action]++
	}
	return s
}

func (s awsSummary) failed() int { return s.remediation[verify.ActionFailed] }

// pending counts own live keys that are still active: planned, or left to
// a person.
func (s awsSummary) pending() int {
	return s.remediation[verify.ActionWouldDeactivate] + s.remediation[verify.ActionManual]
}

func (s awsSummary) print(w io.Writer) {
	line := func(label string, counts map[string]int, order []string) {
		var parts []string
		for _, k := range order {
			if n := counts[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, k))
			}
		}
		if len(parts) == 0 {
			parts = []string{"no AWS keys"}
		}
		fmt.Fprintf(w, "keysweep: %s: %s", label, strings.Join(parts, ", "))
	}
	if len(s.verification) > 0 {
		line("AWS keys", s.verification, []string{verify.StatusVerified, verify.StatusInvalid, verify.StatusUnknown, verify.StatusCanary})
		fmt.Fprintln(w)
	}
	if s.auditLog != "" {
		line("remediation", s.remediation, []string{verify.ActionDeactivated, verify.ActionAlreadyInactive, verify.ActionWouldDeactivate,
			verify.ActionManual, verify.ActionFailed, verify.ActionSkip})
		fmt.Fprintf(w, "; audit log %s\n", s.auditLog)
	}
}

// err is the error of a run in which a remediation step failed: the
// results are written, but the run is not green.
func (s awsSummary) err() error {
	if n := s.failed(); n > 0 {
		return fmt.Errorf("remediation failed for %d keys: see the report and the audit log %s", n, s.auditLog)
	}
	return nil
}

func (a *awsRun) summary(fs []scanner.Finding) awsSummary {
	ids := make([]string, len(fs))
	vs := make([]*verify.Result, len(fs))
	rs := make([]*verify.Remediation, len(fs))
	for i, f := range fs {
		ids[i], vs[i], rs[i] = f.KeyID, f.Verification, f.Remediation
	}
	return summarize(ids, vs, rs, a.audit)
}
