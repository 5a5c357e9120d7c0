package aws

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
	"github.com/keysweep/keysweep/notify"
)

// leakedAt is when the keys of these tests leaked: the author date of the
// commit that added them.
var leakedAt = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// exposed returns the findings of a key's pair, as a history scan makes
// them: with the exposure, and public or not.
func exposed(t *testing.T, c awstest.Credentials, public bool) []finding.Finding {
	fs := (&keyring{keys: map[string]awstest.Credentials{"k": c}}).findings(t, []spec{{"k", pair}})
	fs[0].Exposure = &finding.Exposure{Since: leakedAt.Format(time.RFC3339), Commit: fs[0].Commit}
	fs[0].Email = "dev@example.com"
	if public {
		yes := true
		fs[0].Public = &yes
	}
	return fs
}

// recorder is a Notifier that keeps what it is told, or fails.
type recorder struct {
	mu      sync.Mutex
	notices []notify.Notice
	fail    bool
}

func (r *recorder) Notify(_ context.Context, n notify.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("HTTP 500")
	}
	r.notices = append(r.notices, n)
	return nil
}

func (r *recorder) told() []notify.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Notice(nil), r.notices...)
}

// TestIncidentUsage checks what IAM's record of a key's last use says of
// its use since the leak. The record is read before keysweep's own
// verification, which IAM records as a use, and a use that is an
// earlier run's verification is not taken for someone else's.
func TestIncidentUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// lastUse is the record before this run, relative to the leak.
		lastUse  time.Duration
		service  string
		verified time.Duration // an earlier run's verification; 0: none
		want     finding.Usage
		after    finding.Maybe
	}{
		{"used after the leak", 30 * 24 * time.Hour, "s3", 0,
			finding.Usage{LastUsed: "2026-07-01T12:00:00Z", Service: "s3", Region: "eu-west-1"}, finding.Yes()},
		{"used before the leak only", -10 * 24 * time.Hour, "ec2", 0,
			finding.Usage{LastUsed: "2026-05-22T12:00:00Z", Service: "ec2", Region: "eu-west-1"}, finding.No()},
		{"never used", 0, "", 0, finding.Usage{}, finding.Unknown()},
		{"the last use is an earlier run's verification", 2 * 24 * time.Hour, "sts", 2*24*time.Hour + time.Second,
			finding.Usage{LastUsed: "2026-06-03T12:00:00Z", Service: "sts", Region: "eu-west-1",
				Note: "the last use IAM recorded is keysweep's own verification (sts:GetCallerIdentity), and IAM keeps only the last: " +
					"earlier use cannot be told from it (look it up with --cloudtrail)"}, finding.Unknown()},
		{"an sts use that is not keysweep's", 2 * 24 * time.Hour, "sts", 0,
			finding.Usage{LastUsed: "2026-06-03T12:00:00Z", Service: "sts", Region: "eu-west-1"}, finding.Yes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEstate(t)
			if tt.service != "" {
				e.s.SetLastUsed(e.own.KeyID, leakedAt.Add(tt.lastUse), tt.service, "eu-west-1")
			} else {
				e.s.SetLastUsed(e.own.KeyID, time.Time{}, "", "")
			}
			state, err := OpenStateFile(filepath.Join(t.TempDir(), "state.json"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.verified != 0 {
				if err := state.Put(e.own.KeyID, KeyState{Verified: leakedAt.Add(tt.verified)}); err != nil {
					t.Fatal(err)
				}
			}
			sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, State: state})
			fs := exposed(t, e.own, false)
			sess.Process(context.Background(), fs)
			f := fs[0]
			if f.Verification.Status != finding.StatusVerified {
				t.Fatalf("verification %+v", f.Verification)
			}
			if diff := cmp.Diff(&tt.want, f.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if !cmp.Equal(tt.after, f.UsedAfterExposure) {
				t.Errorf("used after exposure %+v, want %+v", f.UsedAfterExposure, tt.after)
			}
			// This run's verification is remembered for the next.
			if ks, _ := state.Get(e.own.KeyID); ks.Verified.IsZero() {
				t.Error("the verification was not remembered")
			}
		})
	}
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestIncidentGrace runs keysweep three times over a live own key with a
// grace period: the first run warns the owner, a run within the period
// reminds, and the first run after it contains the key. A key that is
// public, or was used after it leaked, is contained at once; a warning
// that reaches no one is not remembered.
func TestIncidentGrace(t *testing.T) {
	t.Parallel()
	const grace = 72 * time.Hour
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	type run struct {
		at     time.Duration // after start
		action string
		status string // of the key after the run
	}
	tests := []struct {
		name     string
		public   bool
		usedLate bool // used after the leak
		failing  bool // the webhook fails
		runs     []run
	}{
		{"warn, remind, deactivate", false, false, false, []run{
			{0, finding.ActionWarned, "Active"},
			{24 * time.Hour, finding.ActionReminded, "Active"},
			{grace + time.Hour, finding.ActionDeactivated, "Inactive"},
		}},
		{"public repository: no grace", true, false, false, []run{{0, finding.ActionDeactivated, "Inactive"}}},
		{"used after the leak: no grace", false, true, false, []run{{0, finding.ActionDeactivated, "Inactive"}}},
		{"the warning reaches no one", false, false, true, []run{
			{0, finding.ActionFailed, "Active"},
			{grace + time.Hour, finding.ActionFailed, "Active"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEstate(t)
			if tt.usedLate {
				e.s.SetLastUsed(e.own.KeyID, leakedAt.Add(48*time.Hour), "s3", "ap-south-1")
			}
			statePath := filepath.Join(t.TempDir(), "state.json")
			hook := &recorder{fail: tt.failing}
			clk := &clock{}
			e.s.SetClock(clk.Now)
			for i, r := range tt.runs {
				clk.set(start.Add(r.at))
				state, err := OpenStateFile(statePath)
				if err != nil {
					t.Fatal(err)
				}
				sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, Deactivate: true, Grace: grace,
					State: state, Webhook: hook, Now: clk.Now})
				fs := exposed(t, e.own, tt.public)
				sess.Process(context.Background(), fs)
				rem := fs[0].Remediation
				if rem == nil || rem.Action != r.action {
					t.Fatalf("run %d: remediation %+v, want %s", i+1, rem, r.action)
				}
				if got := e.s.Status(e.own.KeyID); got != r.status {
					t.Errorf("run %d: the key is %s, want %s", i+1, got, r.status)
				}
				if r.action == finding.ActionWarned || r.action == finding.ActionReminded {
					if rem.Warned != "2026-12-01T09:00:00Z" || rem.Due != "2026-12-04T09:00:00Z" {
						t.Errorf("run %d: warned %q, due %q", i+1, rem.Warned, rem.Due)
					}
				}
			}
			told := hook.told()
			if tt.failing {
				if len(told) != 0 {
					t.Errorf("told %d times", len(told))
				}
				return
			}
			if len(told) != len(tt.runs) {
				t.Fatalf("told %d times, want once a run", len(told))
			}
			first := told[0]
			if first.KeyID != e.own.KeyID || first.Account != ownAccount || first.User != "deploy-bot" || first.ExposedSince != "2026-06-01T12:00:00Z" {
				t.Errorf("first notice %+v", first)
			}
			if tt.runs[0].action == finding.ActionWarned && !first.Due.Equal(start.Add(grace)) {
				t.Errorf("the warning says the key is contained at %s, want %s", first.Due, start.Add(grace))
			}
			for _, n := range told {
				if strings.Contains(n.Text(), e.own.Secret) {
					t.Error("a notice holds the secret")
				}
			}
		})
	}
}

// TestIncidentForeignKeyIsNeverLookedAt runs every part of incident
// response (CloudTrail, grace, quarantine and deactivation) over a live
// key of another account: it signs its verification and nothing else,
// and no call names it.
func TestIncidentForeignKeyIsNeverLookedAt(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	state, err := OpenStateFile(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	hook := &recorder{}
	sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, Deactivate: true, Grace: time.Hour, State: state, Webhook: hook,
		Contain: []string{ContainQuarantine, ContainDeactivate}, CloudTrail: true, Trail: TrailOptions{Regions: []string{"eu-west-1"}}})
	before := len(e.s.Calls())
	fs := exposed(t, e.foreign, true)
	sess.Process(context.Background(), fs)
	if fs[0].Verification.Status != finding.StatusVerified || fs[0].Remediation.Action != finding.ActionSkip {
		t.Errorf("verification %+v, remediation %+v", fs[0].Verification, fs[0].Remediation)
	}
	if fs[0].Usage != nil || fs[0].CloudTrail != nil || fs[0].BlastRadius != nil || !fs[0].UsedAfterExposure.IsZero() {
		t.Errorf("the foreign key was looked at: %+v %+v %+v", fs[0].Usage, fs[0].CloudTrail, fs[0].BlastRadius)
	}
	for _, c := range e.s.Calls()[before:] {
		if c.Action != "GetCallerIdentity" || c.KeyID != e.foreign.KeyID {
			t.Errorf("call %s signed by %s", c.Action, c.KeyID)
		}
	}
	if n := len(hook.told()); n != 0 {
		t.Errorf("the foreign key's owner was told %d times", n)
	}
}

// TestIncidentQuarantine checks that --contain quarantine attaches AWS's
// newest AWSCompromisedKeyQuarantine policy, found at run time, and only
// once; with deactivate too, both are done, in order.
func TestIncidentQuarantine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		versions   []int // quarantine policies AWS lists
		attached   string
		contain    []string
		deactivate bool
		want       finding.Remediation
		status     string
	}{
		{"V3 newest", []int{1, 2, 3}, "", []string{ContainQuarantine}, true,
			finding.Remediation{Action: finding.ActionQuarantined, Steps: []string{finding.ActionQuarantined},
				Policy: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}, "Active"},
		{"V4 published since", []int{1, 2, 3, 4}, "", []string{ContainQuarantine, ContainDeactivate}, true,
			finding.Remediation{Action: finding.ActionDeactivated, Steps: []string{finding.ActionQuarantined, finding.ActionDeactivated},
				Policy: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV4"}, "Inactive"},
		{"V2 newest", []int{1, 2}, "", []string{ContainQuarantine}, true,
			finding.Remediation{Action: finding.ActionQuarantined, Steps: []string{finding.ActionQuarantined},
				Policy: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}, "Active"},
		{"already quarantined by AWS", []int{1, 2, 3}, "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2", []string{ContainQuarantine}, true,
			finding.Remediation{Action: finding.ActionAlreadyQuarantined, Steps: []string{finding.ActionAlreadyQuarantined},
				Policy: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}, "Active"},
		{"plan", []int{1, 2, 3}, "", []string{ContainQuarantine, ContainDeactivate}, false,
			finding.Remediation{Action: finding.ActionWouldDeactivate, Steps: []string{finding.ActionWouldQuarantine, finding.ActionWouldDeactivate}}, "Active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEstate(t)
			e.s.SetQuarantinePolicies(tt.versions...)
			e.s.SetPageSize(100) // the quarantine policies are on a later page
			if tt.attached != "" {
				e.s.AttachUserPolicy(ownAccount, "ci/deploy-bot", tt.attached)
			}
			sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, Deactivate: tt.deactivate, Contain: tt.contain})
			fs := exposed(t, e.own, false)
			sess.Process(context.Background(), fs)
			got := *fs[0].Remediation
			got.Account, got.User = "", ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("remediation (-want +got):\n%s", diff)
			}
			var quarantines []string
			for _, p := range e.s.AttachedUserPolicies(ownAccount, "ci/deploy-bot") {
				if strings.Contains(p, "Quarantine") {
					quarantines = append(quarantines, p)
				}
			}
			wantAttached := 0
			if tt.deactivate {
				wantAttached = 1
			}
			if len(quarantines) != wantAttached {
				t.Errorf("quarantine policies attached: %v", quarantines)
			}
			if n := e.s.Count("AttachUserPolicy"); tt.attached != "" && n != 0 {
				t.Errorf("a second quarantine policy was attached (%d calls)", n)
			}
			if got := e.s.Status(e.own.KeyID); got != tt.status {
				t.Errorf("the key is %s, want %s", got, tt.status)
			}
			if n := e.s.Count("DeleteAccessKey"); n != 0 {
				t.Error("DeleteAccessKey was called")
			}
		})
	}
}

// TestIncidentBlastRadiusAndTrail checks what a session adds to the
// finding of a live own key: what it can reach, and its CloudTrail events
// since the leak, with keysweep's own verification left out; and that
// the audit log holds every step and no secret.
func TestIncidentBlastRadiusAndTrail(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	e.s.AttachUserPolicy(ownAccount, "ci/deploy-bot", "arn:aws:iam::aws:policy/AdministratorAccess")
	// CloudTrail keeps 90 days of the stand-in's real time.
	leak := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	e.s.AddEvent(awstest.Event{KeyID: e.own.KeyID, Region: "ap-south-1", Name: "ListBuckets", Source: "s3.amazonaws.com",
		Time: leak.Add(3 * 24 * time.Hour), SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15"})
	e.s.AddEvent(awstest.Event{KeyID: e.own.KeyID, Region: "eu-west-1", Name: "GetObject", Source: "s3.amazonaws.com",
		Time: leak.Add(-24 * time.Hour), SourceIP: "198.51.100.2", UserAgent: "ci"}) // before the leak
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, AuditLog: path, CloudTrail: true,
		Trail: TrailOptions{Regions: []string{"eu-west-1", "ap-south-1"}, Expected: []string{"eu-west-1"},
			Sleep: func(context.Context, time.Duration) error { return nil }}})
	fs := exposed(t, e.own, false)
	fs[0].Exposure.Since = leak.Format(time.RFC3339)
	sess.Process(context.Background(), fs)
	f := fs[0]
	if br := f.BlastRadius; br == nil || !br.Admin || !br.Approximate || br.User != "deploy-bot" {
		t.Errorf("blast radius %+v", br)
	}
	ct := f.CloudTrail
	if ct == nil {
		t.Fatal("no CloudTrail summary")
	}
	if ct.Events != 1 || ct.Unexpected != 1 || len(ct.SourceIPs) != 1 || ct.SourceIPs[0] != "203.0.113.7" || ct.Own != 1 {
		t.Errorf("CloudTrail %+v", ct)
	}
	if !f.UsedAfterExposure.True() {
		t.Errorf("used after exposure %+v, want yes from CloudTrail", f.UsedAfterExposure)
	}
	if s := sess.Summary(); s.Admin != 1 || s.UsedAfterExposure != 1 {
		t.Errorf("summary %+v", s)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{`"last-used"`, `"simulate"`, `"lookup-events"`, `"decision"`} {
		if !strings.Contains(string(raw), step) {
			t.Errorf("the audit log has no %s step", step)
		}
	}
	(&keyring{estate: e, keys: map[string]awstest.Credentials{"own": e.own, "admin": e.admin}}).checkNoSecretIn(t, "the audit log", string(raw))
	for _, c := range e.s.CallsBy(e.own.KeyID) {
		if c.Action != "GetCallerIdentity" {
			t.Errorf("the leaked key signed %s", c.Action)
		}
	}
}

// TestIncidentGovCloudKey checks that a GovCloud key is verified in its
// partition and dealt with there: IAM called in us-gov-west-1, ARNs of
// aws-us-gov.
func TestIncidentGovCloudKey(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	s.SetPartition(admin.KeyID, "aws-us-gov")
	leaked := s.AddUserKey(ownAccount, "gov-app", false)
	s.SetPartition(leaked.KeyID, "aws-us-gov")
	e := &estate{s: s, admin: admin}
	sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, Deactivate: true})
	fs := exposed(t, leaked, false)
	sess.Process(context.Background(), fs)
	v, rem := fs[0].Verification, fs[0].Remediation
	if v.Status != finding.StatusVerified || v.Partition != "aws-us-gov" || !strings.HasPrefix(v.ARN, "arn:aws-us-gov:iam::") {
		t.Errorf("verification %+v", v)
	}
	if rem.Action != finding.ActionDeactivated || s.Status(leaked.KeyID) != "Inactive" {
		t.Errorf("remediation %+v, key %s", rem, s.Status(leaked.KeyID))
	}
	// The last use is first read in the configured partition, which
	// does not know the user's GovCloud credentials; everything else goes
	// to GovCloud.
	for _, c := range s.CallsBy(admin.KeyID) {
		if c.Region != "us-gov-west-1" && c.Status == 200 {
			t.Errorf("%s signed for %s", c.Action, c.Region)
		}
	}
	if s.Count("UpdateAccessKey") != 1 {
		t.Error("not deactivated through GovCloud's IAM")
	}
}

// TestIncidentRootKey: a root user's key can do everything and IAM can
// contain it neither way, so it gets no grace: its owner is told at once
// what to do, and it is reported admin without a simulation.
func TestIncidentRootKey(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	state, err := OpenStateFile(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	hook := &recorder{}
	sess := openSession(t, e, Options{OwnAccounts: []string{ownAccount}, Deactivate: true, Grace: 72 * time.Hour, State: state, Webhook: hook,
		Contain: []string{ContainQuarantine, ContainDeactivate}})
	fs := exposed(t, e.root, false)
	sess.Process(context.Background(), fs)
	f := fs[0]
	if f.Remediation.Action != finding.ActionManual || !strings.Contains(f.Remediation.Note, "root user") {
		t.Errorf("remediation %+v", f.Remediation)
	}
	if br := f.BlastRadius; br == nil || !br.Admin || !br.Approximate || br.User != "root" {
		t.Errorf("blast radius %+v", br)
	}
	if told := hook.told(); len(told) != 1 || told[0].Action != finding.ActionManual || !told[0].Due.IsZero() {
		t.Errorf("notices %+v", told)
	}
	for _, action := range []string{"SimulatePrincipalPolicy", "AttachUserPolicy", "UpdateAccessKey"} {
		if n := e.s.Count(action); n != 0 {
			t.Errorf("%s called %d times for a root key", action, n)
		}
	}
	if ks, _ := state.Get(e.root.KeyID); !ks.Warned.IsZero() {
		t.Error("a grace period was started for a root key")
	}
}
