package aws

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

const roleName = "keysweep-remediator"

// estate is an AWS estate in the stand-in: the user's two accounts, a
// foreign one, and leaked keys of every kind.
type estate struct {
	s                  *awstest.Server
	admin              awstest.Credentials // default credentials, in ownAccount
	own, second        awstest.Credentials // live user keys
	foreign, root, asi awstest.Credentials
	inactive           awstest.Credentials
}

func newEstate(t *testing.T) *estate {
	s := awstest.New(t)
	e := &estate{
		s:        s,
		admin:    s.AddUserKey(ownAccount, "security-admin", true),
		own:      s.AddUserKey(ownAccount, "ci/deploy-bot", false),
		second:   s.AddUserKey(secondAccount, "app", false),
		foreign:  s.AddUserKey(foreignAccount, "someone", true),
		root:     s.AddRootKey(ownAccount),
		asi:      s.AddSessionKey(ownAccount, "deployer", "build-42"),
		inactive: s.AddUserKey(ownAccount, "former-intern", false),
	}
	s.SetActive(e.inactive.KeyID, false)
	s.AddRole(ownAccount, roleName, ownAccount)
	s.AddRole(secondAccount, roleName, ownAccount)
	// The foreign account even trusts the user's: it must still never
	// be touched.
	s.AddRole(foreignAccount, roleName, ownAccount)
	return e
}

// verifyAll verifies the estate's leaked keys as a scan would.
func (e *estate) verifyAll(t *testing.T) map[string]*Result {
	cfg := testConfig(t, e.s, e.admin)
	v := NewVerifier(cfg, 10*time.Second)
	out := map[string]*Result{}
	for _, c := range []awstest.Credentials{e.own, e.second, e.foreign, e.root, e.asi, e.inactive} {
		r := v.Verify(context.Background(), Key{ID: c.KeyID, Secret: c.Secret, SessionToken: c.SessionToken})
		out[c.KeyID] = &r
	}
	return out
}

func openAudit(t *testing.T) *AuditLog {
	a, err := OpenAuditLog(filepath.Join(t.TempDir(), "audit", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func readAudit(t *testing.T, a *AuditLog) []AuditEntry {
	t.Helper()
	f, err := os.Open(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			t.Errorf("audit time %q: %v", e.Time, err)
		}
		e.Time = ""
		out = append(out, e)
	}
	return out
}

func TestRemediate(t *testing.T) {
	t.Parallel()
	type want struct {
		Action, Account, User string
	}
	tests := []struct {
		name       string
		role       string
		deactivate bool
		want       map[string]want // by key: own, second, foreign, root, asi, inactive
		inactive   []string        // keys the stand-in must hold inactive afterwards
	}{
		{
			name: "plan only",
			want: map[string]want{
				"own":      {finding.ActionWouldDeactivate, ownAccount, "deploy-bot"},
				"second":   {finding.ActionWouldDeactivate, secondAccount, "app"},
				"foreign":  {finding.ActionSkip, foreignAccount, ""},
				"root":     {finding.ActionManual, ownAccount, "root"},
				"asi":      {finding.ActionManual, ownAccount, "deployer"},
				"inactive": {finding.ActionSkip, ownAccount, ""},
			},
			inactive: []string{"inactive"},
		},
		{
			name:       "default credentials act in their own account only",
			deactivate: true,
			want: map[string]want{
				"own":      {finding.ActionDeactivated, ownAccount, "deploy-bot"},
				"second":   {finding.ActionFailed, secondAccount, "app"},
				"foreign":  {finding.ActionSkip, foreignAccount, ""},
				"root":     {finding.ActionManual, ownAccount, "root"},
				"asi":      {finding.ActionManual, ownAccount, "deployer"},
				"inactive": {finding.ActionAlreadyInactive, ownAccount, "former-intern"},
			},
			inactive: []string{"own", "inactive"},
		},
		{
			name:       "through a role in each own account",
			role:       roleName,
			deactivate: true,
			want: map[string]want{
				"own":      {finding.ActionDeactivated, ownAccount, "deploy-bot"},
				"second":   {finding.ActionDeactivated, secondAccount, "app"},
				"foreign":  {finding.ActionSkip, foreignAccount, ""},
				"root":     {finding.ActionManual, ownAccount, "root"},
				"asi":      {finding.ActionManual, ownAccount, "deployer"},
				"inactive": {finding.ActionAlreadyInactive, ownAccount, "former-intern"},
			},
			inactive: []string{"own", "second", "inactive"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEstate(t)
			results := e.verifyAll(t)
			keys := map[string]awstest.Credentials{"own": e.own, "second": e.second, "foreign": e.foreign, "root": e.root, "asi": e.asi, "inactive": e.inactive}
			audit := openAudit(t)
			before := len(e.s.Calls())
			r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
				OwnAccounts: []string{ownAccount, secondAccount},
				RoleName:    tt.role,
				Deactivate:  tt.deactivate,
				Audit:       audit,
			})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]want{}
			for name, c := range keys {
				rem := r.Remediate(context.Background(), c.KeyID, results[c.KeyID])
				got[name] = want{rem.Action, rem.Account, rem.User}
				if rem.Action == finding.ActionManual && rem.Note == "" {
					t.Errorf("%s: manual action without instructions", name)
				}
				if rem.Action == finding.ActionFailed && rem.Error == "" {
					t.Errorf("%s: failure without an error", name)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("remediation (-want +got):\n%s", diff)
			}
			for name, c := range keys {
				wantStatus := "Active"
				for _, n := range tt.inactive {
					if n == name {
						wantStatus = "Inactive"
					}
				}
				if st := e.s.Status(c.KeyID); st != wantStatus {
					t.Errorf("%s is %s, want %s", name, st, wantStatus)
				}
			}
			calls := e.s.Calls()[before:]
			for _, c := range calls {
				if !tt.deactivate && changes[c.Action] {
					t.Errorf("a plan called %s", c.Action)
				}
			}
			for _, c := range calls {
				if c.Action == "DeleteAccessKey" {
					t.Error("DeleteAccessKey was called")
				}
				if c.Params.Get("AccessKeyId") == e.foreign.KeyID || strings.Contains(c.Params.Get("RoleArn"), foreignAccount) {
					t.Errorf("the foreign account was acted on: %s %v", c.Action, c.Params)
				}
			}
			checkAudit(t, audit, keys)
		})
	}
}

// respondReads are the reads of incident response for a live key of an
// IAM user with no groups or policies, in order.
var respondReads = []string{"last-used", "get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"}

// okSteps are the audit entries of actions that went well, for keyID.
func okSteps(keyID, account, user string, actions ...string) []AuditEntry {
	var out []AuditEntry
	for _, a := range actions {
		out = append(out, AuditEntry{KeyID: keyID, Account: account, User: user, Action: a, Result: "ok"})
	}
	return out
}

// changes are the AWS actions that change something: a plan (no
// --deactivate) may read, never call them.
var changes = map[string]bool{"UpdateAccessKey": true, "AttachUserPolicy": true, "DeleteAccessKey": true}

// checkAudit checks that the audit log holds a decision for every own
// key and an entry for every deactivation, and no secret.
func checkAudit(t *testing.T, audit *AuditLog, keys map[string]awstest.Credentials) {
	t.Helper()
	raw, err := os.ReadFile(audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range keys {
		if strings.Contains(string(raw), c.Secret) || c.SessionToken != "" && strings.Contains(string(raw), c.SessionToken) {
			t.Errorf("the audit log holds the secret of %s", name)
		}
	}
	decisions := map[string]string{}
	for _, e := range readAudit(t, audit) {
		if e.Action == "decision" {
			decisions[e.KeyID] = e.Result
		}
		if e.Action == "deactivate" && e.Result == "ok" && decisions[e.KeyID] != "" {
			t.Errorf("deactivation of %s logged after its decision", e.KeyID)
		}
	}
	if _, ok := decisions[keys["foreign"].KeyID]; ok {
		t.Error("the foreign key has a decision in the audit log")
	}
	for _, name := range []string{"own", "second", "root", "asi", "inactive"} {
		if decisions[keys[name].KeyID] == "" {
			t.Errorf("no decision logged for %s", name)
		}
	}
}

func TestRemediateAuditSteps(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	results := e.verifyAll(t)
	audit := openAudit(t)
	r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
		OwnAccounts: []string{ownAccount, secondAccount}, RoleName: roleName, Deactivate: true, Audit: audit,
	})
	if err != nil {
		t.Fatal(err)
	}
	rem := r.Remediate(context.Background(), e.second.KeyID, results[e.second.KeyID])
	if rem.Action != finding.ActionDeactivated {
		t.Fatalf("got %+v", rem)
	}
	// Asking again does nothing more.
	if again := r.Remediate(context.Background(), e.second.KeyID, results[e.second.KeyID]); !cmp.Equal(again, rem) {
		t.Errorf("second call = %+v", again)
	}
	want := slices.Concat([]AuditEntry{
		{KeyID: e.second.KeyID, Account: secondAccount, Role: "arn:aws:iam::444455556666:role/" + roleName, Action: "assume-role", Result: "ok"},
	}, okSteps(e.second.KeyID, secondAccount, "app", respondReads...), []AuditEntry{
		{KeyID: e.second.KeyID, Account: secondAccount, User: "app", Action: "check-status", Result: "ok"},
		{KeyID: e.second.KeyID, Account: secondAccount, User: "app", Action: "deactivate", Result: "ok"},
		{KeyID: e.second.KeyID, Account: secondAccount, User: "app", Action: "decision", Result: finding.ActionDeactivated},
	})
	if diff := cmp.Diff(want, readAudit(t, audit)); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func TestRemediateNeverTrustsTheReport(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	audit := openAudit(t)
	r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
		OwnAccounts: []string{ownAccount, secondAccount}, RoleName: roleName, Deactivate: true, Audit: audit,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		keyID  string
		result *Result
		action string
	}{
		// A report edited to claim a foreign key is in an own account:
		// the key id decodes to the foreign account.
		{"account claimed but not decoded", e.foreign.KeyID,
			&Result{Status: finding.StatusVerified, Account: ownAccount, ARN: "arn:aws:iam::111122223333:user/someone"}, finding.ActionSkip},
		{"not verified", e.own.KeyID, nil, finding.ActionSkip},
		{"verification unknown", e.own.KeyID, &Result{Status: finding.StatusUnknown, Error: "Throttling"}, finding.ActionSkip},
	}
	for _, tt := range tests {
		rem := r.remediate(context.Background(), tt.keyID, tt.result, Leak{}).Remediation
		if rem.Action != tt.action || rem.Note == "" {
			t.Errorf("%s: got %+v, want %s with a note", tt.name, rem, tt.action)
		}
	}
	if e.s.Status(e.foreign.KeyID) != "Active" || e.s.Status(e.own.KeyID) != "Active" {
		t.Error("a key was deactivated")
	}
	if n := len(e.s.Calls()); n != 0 {
		t.Errorf("%d AWS calls for keys that must not be touched", n)
	}
}

func TestRemediateKeyDeactivatedSinceTheScan(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	results := e.verifyAll(t)
	e.s.SetActive(e.own.KeyID, false) // someone was faster
	r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
		OwnAccounts: []string{ownAccount}, Deactivate: true, Audit: openAudit(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	rem := r.Remediate(context.Background(), e.own.KeyID, results[e.own.KeyID])
	if rem.Action != finding.ActionAlreadyInactive || rem.User != "deploy-bot" {
		t.Errorf("got %+v, want already-inactive", rem)
	}
	if n := e.s.Count("UpdateAccessKey"); n != 0 {
		t.Errorf("UpdateAccessKey called %d times for an inactive key", n)
	}
}

func TestRemediatorOptions(t *testing.T) {
	t.Parallel()
	audit := openAudit(t)
	tests := []struct {
		name string
		opts RemediateOptions
	}{
		{"no accounts", RemediateOptions{Audit: audit}},
		{"bad account", RemediateOptions{OwnAccounts: []string{"12345"}, Audit: audit}},
		{"bad role", RemediateOptions{OwnAccounts: []string{ownAccount}, RoleName: "a role", Audit: audit}},
		{"no audit log", RemediateOptions{OwnAccounts: []string{ownAccount}}},
	}
	for _, tt := range tests {
		if _, err := NewRemediator(testConfigNoServer(t), tt.opts); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if got, err := ParseAccounts([]string{"111122223333, 444455556666", "999988887777"}); err != nil || len(got) != 3 {
		t.Errorf("ParseAccounts = %v, %v", got, err)
	}
	if _, err := ParseAccounts([]string{"11112222333x"}); err == nil {
		t.Error("ParseAccounts accepted a bad account id")
	}
}

func testConfigNoServer(t *testing.T) awssdk.Config {
	t.Helper()
	cfg, err := LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRemediateActsOnlyOnItsOwnVerification reads results back from
// JSON, as `keysweep remediate` reads a report: a report is no proof that
// a key leaked (key ids are not secret; anyone can write one), so such a
// result is never acted on, however genuine.
func TestRemediateActsOnlyOnItsOwnVerification(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	results := e.verifyAll(t)
	before := len(e.s.Calls())
	r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
		OwnAccounts: []string{ownAccount}, Deactivate: true, Audit: openAudit(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []awstest.Credentials{e.own, e.inactive} {
		raw, err := json.Marshal(results[c.KeyID])
		if err != nil {
			t.Fatal(err)
		}
		var read Result
		if err := json.Unmarshal(raw, &read); err != nil {
			t.Fatal(err)
		}
		rem := r.Remediate(context.Background(), c.KeyID, &read)
		if rem.Action != finding.ActionSkip || !strings.Contains(rem.Note, "verif") {
			t.Errorf("%s read from a report: %+v, want skip with a note", c.KeyID, rem)
		}
	}
	if calls := e.s.Calls()[before:]; len(calls) != 0 {
		t.Errorf("%d AWS calls on the word of a report, first %s", len(calls), calls[0].Action)
	}
	if e.s.Status(e.own.KeyID) != "Active" {
		t.Error("the key was deactivated on the word of a report")
	}
}

// TestRemediateLegacyKey: a key id issued before 2019 carries no
// account. sts:GetAccessKeyInfo, asked with the user's credentials (never
// the key's), tells it, and with STS's answer agreeing the key is dealt
// with like any other; of a foreign account, it is never looked at
// further. When GetAccessKeyInfo cannot tell, the key is left to a
// person, with what to do.
func TestRemediateLegacyKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		account string
		breakIt bool // GetAccessKeyInfo fails
		want    string
		changes int
	}{
		{"own account, told by GetAccessKeyInfo", ownAccount, false, finding.ActionDeactivated, 1},
		{"foreign account, told by GetAccessKeyInfo", foreignAccount, false, finding.ActionSkip, 0},
		{"GetAccessKeyInfo fails", ownAccount, true, finding.ActionManual, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEstate(t)
			old := e.s.AddLegacyUserKey(tt.account, "legacy-app")
			v := NewVerifier(testConfig(t, e.s, e.admin), 10*time.Second).Verify(context.Background(), Key{ID: old.KeyID, Secret: old.Secret})
			if v.Status != finding.StatusVerified {
				t.Fatalf("verification: %+v", v)
			}
			if tt.breakIt {
				e.s.Fail(e.admin.KeyID, 100)
			}
			before := len(e.s.Calls())
			r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
				OwnAccounts: []string{ownAccount}, Deactivate: true, Audit: openAudit(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			rem := r.Remediate(context.Background(), old.KeyID, &v)
			if rem.Action != tt.want || rem.Account != tt.account {
				t.Errorf("got %+v, want %s in %s", rem, tt.want, tt.account)
			}
			if tt.want == finding.ActionManual && !strings.Contains(rem.Note, "before 2019") {
				t.Errorf("manual without the reason: %q", rem.Note)
			}
			if n := e.s.Count("UpdateAccessKey"); n != tt.changes {
				t.Errorf("UpdateAccessKey called %d times, want %d", n, tt.changes)
			}
			for _, c := range e.s.Calls()[before:] {
				if c.KeyID == old.KeyID {
					t.Errorf("remediation signed %s with the leaked key", c.Action)
				}
				if tt.account == foreignAccount && c.Action != "GetAccessKeyInfo" {
					t.Errorf("the foreign key was looked at with %s", c.Action)
				}
			}
		})
	}
}

// TestRemediateWrongSecretAsksIAMNothing: SignatureDoesNotMatch says the
// key id is live with another secret, so there is nothing to learn from
// IAM; anyone can write a report pairing a key id with a wrong secret.
func TestRemediateWrongSecretAsksIAMNothing(t *testing.T) {
	t.Parallel()
	e := newEstate(t)
	v := NewVerifier(testConfig(t, e.s, e.admin), 10*time.Second).Verify(context.Background(),
		Key{ID: e.own.KeyID, Secret: strings.ToUpper(e.own.Secret)})
	if v.Status != finding.StatusInvalid {
		t.Fatalf("verification: %+v", v)
	}
	before := len(e.s.Calls())
	r, err := NewRemediator(testConfig(t, e.s, e.admin), RemediateOptions{
		OwnAccounts: []string{ownAccount}, RoleName: roleName, Deactivate: true, Audit: openAudit(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rem := r.Remediate(context.Background(), e.own.KeyID, &v); rem.Action != finding.ActionSkip || !strings.Contains(rem.Note, "SignatureDoesNotMatch") {
		t.Errorf("got %+v, want skip", rem)
	}
	if calls := e.s.Calls()[before:]; len(calls) != 0 {
		t.Errorf("%d AWS calls, first %s", len(calls), calls[0].Action)
	}
}
