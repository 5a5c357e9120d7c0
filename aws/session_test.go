package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

// What verification says of a key it sends nothing for, or that AWS
// refuses.
const (
	whyAlone       = "no secret access key found with this key id: not sent to AWS"
	whyRedacted    = "the secret access key found with this key id is not 40 characters of base64 (redacted?): not sent to AWS"
	whyCanary      = "key of a canary-token account: not sent to AWS, which would set off the alarm"
	whyInactive    = "InvalidClientTokenId: the key id does not exist or is inactive (in partitions aws, aws-cn, aws-us-gov)"
	whyWrongSecret = "SignatureDoesNotMatch: the key id exists but the secret found with it is not its secret"
)

// keyring is the estate of remediate_test.go with a canary key, each key
// by name, for tables to name.
type keyring struct {
	*estate
	keys map[string]awstest.Credentials
}

func newKeyring(t *testing.T) *keyring {
	e := newEstate(t)
	return &keyring{estate: e, keys: map[string]awstest.Credentials{
		"own": e.own, "second": e.second, "foreign": e.foreign, "root": e.root, "asi": e.asi, "inactive": e.inactive,
		"canary": e.s.AddUserKey(canaryAccount, "canary", false),
	}}
}

// name returns the name of the key keyID, or keyID when it is none of the
// ring's.
func (k *keyring) name(keyID string) string {
	for name, c := range k.keys {
		if c.KeyID == keyID {
			return name
		}
	}
	return keyID
}

// kind is how a finding holds its key.
type kind int

const (
	pair         kind = iota // the key id, its secret and session token
	wrongPair                // the key id with a secret that is not its own
	redactedPair             // the key id with its secret as a report redacts it
	alone                    // the key id alone
	noKeyID                  // a finding of another rule
)

// spec is a finding of a table: a key of the ring, and how it is held.
type spec struct {
	key  string
	kind kind
}

// findings builds the findings specs name, as a scan makes them, each at
// its own place.
func (k *keyring) findings(t *testing.T, specs []spec) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for i, sp := range specs {
		f := finding.Finding{
			Commit:      strings.Repeat("c0ffee", 6) + "abcd",
			Path:        fmt.Sprintf("deploy/%d.env", i),
			Line:        i + 1,
			Column:      1,
			Fingerprint: fmt.Sprintf("rule:%016x", i),
		}
		if sp.kind == noKeyID {
			f.RuleID, f.Description, f.Secret = "github-token", "GitHub token", "ghp_"+strings.Repeat("x7Yq", 9)
			out = append(out, f)
			continue
		}
		c, ok := k.keys[sp.key]
		if !ok {
			t.Fatalf("no key %q in the ring", sp.key)
		}
		f.KeyID = c.KeyID
		if account, ok := detectors.AccountID(c.KeyID); ok {
			f.AccountID = &account
			f.Canary = detectors.IsCanary(account)
		}
		switch sp.kind {
		case alone:
			f.RuleID, f.Description, f.Secret = detectors.AWSKeyIDRule, "AWS access key id", c.KeyID
		case wrongPair:
			f.RuleID, f.Description, f.Secret, f.SessionToken = detectors.AWSKeyRule, "AWS access key", strings.ToUpper(c.Secret), c.SessionToken
		case redactedPair:
			f.RuleID, f.Description, f.Secret, f.SessionToken = detectors.AWSKeyRule, "AWS access key", finding.Redact(c.Secret), finding.Redact(c.SessionToken)
		default:
			f.RuleID, f.Description, f.Secret, f.SessionToken = detectors.AWSKeyRule, "AWS access key", c.Secret, c.SessionToken
		}
		out = append(out, f)
	}
	return out
}

// standIn are the LoadConfig options of testConfig: the stand-in only,
// creds as the default credentials, retries that do not wait.
func standIn(s *awstest.Server, creds awstest.Credentials) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithBaseEndpoint(s.URL),
		config.WithRegion("eu-west-1"),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.KeyID, creds.Secret, creds.SessionToken)),
		WithBackoff(func(int) time.Duration { return 0 }),
	}
}

// openSession opens a session on e's stand-in, acting with e's admin
// credentials, its audit log (if any) in a temporary directory.
func openSession(t *testing.T, e *estate, opts Options) *Session {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Workers == 0 {
		opts.Workers = 4
	}
	if opts.AuditLog == "" {
		opts.AuditLog = filepath.Join(t.TempDir(), "audit.jsonl")
	}
	opts.Load = append(standIn(e.s, e.admin), opts.Load...)
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// checkVerified checks that each verified finding has a user id, and that
// all findings of one key id share one verification.
func checkVerified(t *testing.T, fs []finding.Finding) {
	t.Helper()
	first := map[string]*finding.Verification{}
	for i, f := range fs {
		v := f.Verification
		if v == nil || v.Status != finding.StatusVerified {
			continue
		}
		if v.UserID == "" {
			t.Errorf("finding %d: verified without a user id", i)
		}
		if prev := first[f.KeyID]; prev != nil && !cmp.Equal(*prev, *v) {
			t.Errorf("finding %d: verification %+v, another finding of the key has %+v", i, *v, *prev)
		} else if prev == nil {
			first[f.KeyID] = v
		}
	}
}

func TestSessionProcess(t *testing.T) {
	t.Parallel()
	ownLive := &finding.Verification{Status: finding.StatusVerified, Account: ownAccount, ARN: "arn:aws:iam::111122223333:user/ci/deploy-bot", Partition: "aws"}
	asiLive := &finding.Verification{Status: finding.StatusVerified, Account: ownAccount, ARN: "arn:aws:sts::111122223333:assumed-role/deployer/build-42", Partition: "aws"}
	unsent := &finding.Verification{Status: finding.StatusUnknown, Error: whyAlone}
	inactive := &finding.Verification{Status: finding.StatusInvalid, Error: whyInactive}
	wrong := &finding.Verification{Status: finding.StatusInvalid, Error: whyWrongSecret, Partition: "aws"}
	canary := &finding.Verification{Status: finding.StatusCanary, Account: canaryAccount, Error: whyCanary}
	tests := []struct {
		name  string
		specs []spec
		want  []*finding.Verification // by finding
		calls int                     // GetCallerIdentity requests the stand-in receives
		// unsent are keys no request may be signed with.
		unsent []string
	}{
		{
			name:  "live pair",
			specs: []spec{{"own", pair}},
			want:  []*finding.Verification{ownLive},
			calls: 1,
		},
		{
			name:  "temporary credentials with their session token",
			specs: []spec{{"asi", pair}},
			want:  []*finding.Verification{asiLive},
			calls: 1,
		},
		{
			name:  "the key id alone elsewhere shares the pair's verification",
			specs: []spec{{"own", alone}, {"own", pair}, {"own", alone}},
			want:  []*finding.Verification{ownLive, ownLive, ownLive},
			calls: 1,
		},
		{
			name:  "pair refused: the key id alone is not sent",
			specs: []spec{{"inactive", pair}, {"inactive", alone}},
			want:  []*finding.Verification{inactive, unsent},
			calls: 3, // once in each partition
		},
		{
			name:   "key id alone with no pair anywhere: never sent",
			specs:  []spec{{"own", alone}, {"second", alone}, {"own", alone}},
			want:   []*finding.Verification{unsent, unsent, unsent},
			unsent: []string{"own", "second"},
		},
		{
			// The wrong secret is asked twice (SignatureDoesNotMatch is
			// asked once more before it is believed).
			name:  "two pairs of one key id, the wrong secret first",
			specs: []spec{{"own", wrongPair}, {"own", alone}, {"own", pair}},
			want:  []*finding.Verification{wrong, ownLive, ownLive},
			calls: 3,
		},
		{
			name:  "two pairs of one key id, the right secret first",
			specs: []spec{{"own", pair}, {"own", alone}, {"own", wrongPair}},
			want:  []*finding.Verification{ownLive, ownLive, wrong},
			calls: 3,
		},
		{
			name:   "canary key: never sent",
			specs:  []spec{{"canary", pair}, {"canary", alone}},
			want:   []*finding.Verification{canary, canary},
			unsent: []string{"canary"},
		},
		{
			name:  "findings without key ids untouched",
			specs: []spec{{"", noKeyID}, {"own", pair}, {"", noKeyID}},
			want:  []*finding.Verification{nil, ownLive, nil},
			calls: 1,
		},
		{
			name: "no findings",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKeyring(t)
			// One worker: the pairs are sent in the order of the findings.
			sess := openSession(t, k.estate, Options{Workers: 1})
			fs := k.findings(t, tt.specs)
			want := slices.Clone(fs)
			for i := range want {
				want[i].Verification = tt.want[i]
			}
			sess.Process(context.Background(), fs)
			// The stand-in derives user ids from a hash: checkVerified
			// checks them.
			if diff := cmp.Diff(want, fs, cmpopts.IgnoreFields(finding.Verification{}, "UserID")); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			checkVerified(t, fs)
			if n := k.s.Count("GetCallerIdentity"); n != tt.calls || len(k.s.Calls()) != n {
				t.Errorf("the stand-in saw %d GetCallerIdentity calls of %d, want %d", n, len(k.s.Calls()), tt.calls)
			}
			for _, name := range tt.unsent {
				if n := len(k.s.CallsBy(k.keys[name].KeyID)); n != 0 {
					t.Errorf("%s was sent %d times", name, n)
				}
			}
		})
	}
}

func TestSessionSummary(t *testing.T) {
	t.Parallel()
	if got := (*Session)(nil).Summary(); len(got.Verification)+len(got.Remediation) != 0 || got.AuditLog != "" || got.Err() != nil {
		t.Errorf("summary of no session: %+v", got)
	}
	// Every key but the foreign and root ones is found more than once: it
	// counts once.
	specs := []spec{
		{"own", pair}, {"own", alone}, {"own", pair}, {"own", alone},
		{"second", alone}, {"second", pair},
		{"foreign", pair},
		{"root", pair},
		{"inactive", pair}, {"inactive", alone},
		{"asi", alone}, {"asi", alone},
		{"canary", pair}, {"canary", alone},
		{"", noKeyID},
	}
	verification := map[string]int{
		finding.StatusVerified: 4, // own, second, foreign, root
		finding.StatusInvalid:  1, // inactive
		finding.StatusUnknown:  1, // asi, its key id alone
		finding.StatusCanary:   1,
	}
	own := []string{ownAccount, secondAccount}
	tests := []struct {
		name        string
		opts        Options
		remediation map[string]int
		steps       map[string]int
		admin       int // the root key, when own accounts are given
		failed      int
		pending     int
	}{
		{
			name:        "verification only",
			remediation: map[string]int{},
			steps:       map[string]int{},
		},
		{
			name: "plan",
			opts: Options{OwnAccounts: own},
			remediation: map[string]int{
				finding.ActionWouldDeactivate: 2, // own, second
				finding.ActionManual:          1, // root
				finding.ActionSkip:            4, // foreign, inactive, asi, canary
			},
			steps:   map[string]int{finding.ActionWouldDeactivate: 2},
			admin:   1,
			pending: 3,
		},
		{
			name: "deactivate through a role in each own account",
			opts: Options{OwnAccounts: own, RoleName: roleName, Deactivate: true},
			remediation: map[string]int{
				finding.ActionDeactivated:     2, // own, second
				finding.ActionAlreadyInactive: 1, // inactive
				finding.ActionManual:          1, // root
				finding.ActionSkip:            3, // foreign, asi, canary
			},
			steps:   map[string]int{finding.ActionDeactivated: 2},
			admin:   1,
			pending: 1,
		},
		{
			name: "default credentials cannot act in the second account",
			opts: Options{OwnAccounts: own, Deactivate: true},
			remediation: map[string]int{
				finding.ActionDeactivated:     1, // own
				finding.ActionFailed:          1, // second
				finding.ActionAlreadyInactive: 1, // inactive
				finding.ActionManual:          1, // root
				finding.ActionSkip:            3, // foreign, asi, canary
			},
			steps:   map[string]int{finding.ActionDeactivated: 1},
			admin:   1,
			failed:  1,
			pending: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKeyring(t)
			sess := openSession(t, k.estate, tt.opts)
			sess.Process(context.Background(), k.findings(t, specs))
			got := sess.Summary()
			wantAudit := ""
			if len(tt.opts.OwnAccounts) > 0 {
				wantAudit = sess.AuditLogPath()
				if wantAudit == "" {
					t.Error("no audit log with own accounts")
				}
			}
			want := Summary{Verification: verification, Remediation: tt.remediation, Steps: tt.steps, Admin: tt.admin, AuditLog: wantAudit}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if got.Failed() != tt.failed || got.Pending() != tt.pending {
				t.Errorf("failed %d, pending %d; want %d, %d", got.Failed(), got.Pending(), tt.failed, tt.pending)
			}
			err := got.Err()
			switch {
			case tt.failed == 0 && err != nil:
				t.Errorf("Err = %v, want nil", err)
			case tt.failed > 0 && err == nil:
				t.Error("Err = nil after a failed step")
			case tt.failed > 0 && !strings.Contains(err.Error(), fmt.Sprintf("failed for %d keys", tt.failed)):
				t.Errorf("Err = %v, want the count of keys", err)
			case tt.failed > 0 && !strings.Contains(err.Error(), wantAudit):
				t.Errorf("Err = %v, want the audit log's path", err)
			}
		})
	}
}

// auditNamed returns the entries of sess's audit log, each key named by
// its name in the ring.
func (k *keyring) auditNamed(t *testing.T, sess *Session) []AuditEntry {
	t.Helper()
	entries := readAudit(t, sess.audit)
	for i := range entries {
		entries[i].KeyID = k.name(entries[i].KeyID)
	}
	return entries
}

// checkNoSecretIn checks that text holds no secret or session token of
// the ring's keys, of the default credentials, or of a key that signed a
// request to the stand-in (among them the role sessions remediation acts
// through).
func (k *keyring) checkNoSecretIn(t *testing.T, where, text string) {
	t.Helper()
	creds := []awstest.Credentials{k.admin}
	for _, c := range k.keys {
		creds = append(creds, c)
	}
	for _, c := range k.s.Calls() {
		creds = append(creds, k.s.Credentials(c.KeyID))
	}
	for _, c := range creds {
		if c.Secret != "" && strings.Contains(text, c.Secret) || c.SessionToken != "" && strings.Contains(text, c.SessionToken) {
			t.Errorf("%s holds the secret of %s", where, k.name(c.KeyID))
		}
	}
}

func TestSessionProcessRemediates(t *testing.T) {
	t.Parallel()
	type decision struct{ Action, Account, User string }
	tests := []struct {
		name  string
		opts  Options
		specs []spec
		want  map[string]decision // by key
		// inactive are the keys deactivated: no other key changes.
		inactive []string
		// audit is the audit log, keys by name.
		audit []AuditEntry
	}{
		{
			name:  "plan",
			opts:  Options{OwnAccounts: []string{ownAccount}},
			specs: []spec{{"own", pair}, {"foreign", pair}, {"own", alone}, {"foreign", alone}},
			want: map[string]decision{
				"own":     {finding.ActionWouldDeactivate, ownAccount, "deploy-bot"},
				"foreign": {finding.ActionSkip, foreignAccount, ""},
			},
			audit: slices.Concat([]AuditEntry{
				{KeyID: "own", Account: ownAccount, Action: "check-credentials", Result: "ok"},
			}, okSteps("own", ownAccount, "deploy-bot", respondReads...), []AuditEntry{
				{KeyID: "own", Account: ownAccount, User: "deploy-bot", Action: "decision", Result: finding.ActionWouldDeactivate},
			}),
		},
		{
			name:  "deactivate with the default credentials",
			opts:  Options{OwnAccounts: []string{ownAccount}, Deactivate: true},
			specs: []spec{{"own", alone}, {"foreign", pair}, {"own", pair}, {"foreign", alone}},
			want: map[string]decision{
				"own":     {finding.ActionDeactivated, ownAccount, "deploy-bot"},
				"foreign": {finding.ActionSkip, foreignAccount, ""},
			},
			inactive: []string{"own"},
			audit: slices.Concat([]AuditEntry{
				{KeyID: "own", Account: ownAccount, Action: "check-credentials", Result: "ok"},
			}, okSteps("own", ownAccount, "deploy-bot", respondReads...), []AuditEntry{
				{KeyID: "own", Account: ownAccount, User: "deploy-bot", Action: "check-status", Result: "ok"},
				{KeyID: "own", Account: ownAccount, User: "deploy-bot", Action: "deactivate", Result: "ok"},
				{KeyID: "own", Account: ownAccount, User: "deploy-bot", Action: "decision", Result: finding.ActionDeactivated},
			}),
		},
		{
			name:  "deactivate through a role",
			opts:  Options{OwnAccounts: []string{ownAccount, secondAccount}, RoleName: roleName, Deactivate: true},
			specs: []spec{{"second", pair}, {"second", alone}, {"foreign", pair}, {"foreign", alone}},
			want: map[string]decision{
				"second":  {finding.ActionDeactivated, secondAccount, "app"},
				"foreign": {finding.ActionSkip, foreignAccount, ""},
			},
			inactive: []string{"second"},
			audit: slices.Concat([]AuditEntry{
				{KeyID: "second", Account: secondAccount, Role: "arn:aws:iam::444455556666:role/" + roleName, Action: "assume-role", Result: "ok"},
			}, okSteps("second", secondAccount, "app", respondReads...), []AuditEntry{
				{KeyID: "second", Account: secondAccount, User: "app", Action: "check-status", Result: "ok"},
				{KeyID: "second", Account: secondAccount, User: "app", Action: "deactivate", Result: "ok"},
				{KeyID: "second", Account: secondAccount, User: "app", Action: "decision", Result: finding.ActionDeactivated},
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKeyring(t)
			path := filepath.Join(t.TempDir(), "state", "audit.jsonl")
			tt.opts.AuditLog = path
			sess := openSession(t, k.estate, tt.opts)
			fs := k.findings(t, tt.specs)
			before := map[string]string{}
			for name, c := range k.keys {
				before[name] = k.s.Status(c.KeyID)
			}
			sess.Process(context.Background(), fs)

			got := map[string]decision{}
			for i, f := range fs {
				name := k.name(f.KeyID)
				if f.Verification == nil || f.Verification.Status != finding.StatusVerified {
					t.Errorf("finding %d (%s): verification %+v", i, name, f.Verification)
				}
				if f.Remediation == nil {
					t.Errorf("finding %d (%s): no remediation", i, name)
					continue
				}
				d := decision{f.Remediation.Action, f.Remediation.Account, f.Remediation.User}
				if prev, ok := got[name]; ok && prev != d {
					t.Errorf("finding %d (%s): %+v, another finding of the key has %+v", i, name, d, prev)
				}
				got[name] = d
				if f.Remediation.Action == finding.ActionSkip && !strings.Contains(f.Remediation.Note, "not one of --own-accounts") {
					t.Errorf("finding %d (%s): skipped with note %q", i, name, f.Remediation.Note)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("remediation (-want +got):\n%s", diff)
			}
			for name, c := range k.keys {
				want := before[name]
				if slices.Contains(tt.inactive, name) {
					want = "Inactive"
				}
				if got := k.s.Status(c.KeyID); got != want {
					t.Errorf("%s is %s, want %s", name, got, want)
				}
			}

			foreign := k.keys["foreign"]
			for _, c := range k.s.Calls() {
				switch {
				case c.Action == "DeleteAccessKey":
					t.Error("DeleteAccessKey was called")
				case c.KeyID == foreign.KeyID && c.Action != "GetCallerIdentity",
					c.Params.Get("AccessKeyId") == foreign.KeyID, strings.Contains(c.Params.Get("RoleArn"), foreignAccount):
					t.Errorf("the foreign key was acted on: %s %v", c.Action, c.Params)
				case !tt.opts.Deactivate && changes[c.Action]:
					t.Errorf("a plan called %s", c.Action)
				}
			}
			if n := len(k.s.CallsBy(foreign.KeyID)); n != 1 {
				t.Errorf("the foreign key signed %d requests, want 1 (its verification)", n)
			}

			if got := sess.Summary().AuditLog; got != path {
				t.Errorf("summary's audit log %q, want %q", got, path)
			}
			if diff := cmp.Diff(tt.audit, k.auditNamed(t, sess)); diff != "" {
				t.Errorf("audit log (-want +got):\n%s", diff)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			k.checkNoSecretIn(t, "the audit log", string(raw))
		})
	}
}

// asReport returns fs as `keysweep remediate` reads them back from a
// report written with --format json: redacted unless noRedact, and each
// AWS finding claiming, as a scan with --verify --own-accounts writes,
// that the key is live in the user's account.
func asReport(t *testing.T, fs []finding.Finding, noRedact bool) []finding.Finding {
	t.Helper()
	for i := range fs {
		if fs[i].KeyID == "" {
			continue
		}
		fs[i].Verification = &finding.Verification{Status: finding.StatusVerified, Account: ownAccount,
			ARN: "arn:aws:iam::111122223333:user/ci/deploy-bot", UserID: "AIDA" + strings.Repeat("Q", 17)}
		fs[i].Remediation = &finding.Remediation{Action: finding.ActionWouldDeactivate, Account: ownAccount, User: "deploy-bot"}
	}
	raw, err := json.Marshal(finding.Redacted(fs, noRedact))
	if err != nil {
		t.Fatal(err)
	}
	read, err := finding.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return read
}

func TestSessionReverify(t *testing.T) {
	t.Parallel()
	// outcome is what this run says of a finding; no status is no
	// verification.
	type outcome struct{ Status, Action string }
	var (
		deactivated = outcome{finding.StatusVerified, finding.ActionDeactivated}
		planned     = outcome{finding.StatusVerified, finding.ActionWouldDeactivate}
		unsent      = outcome{finding.StatusUnknown, finding.ActionSkip}
		refused     = outcome{finding.StatusInvalid, finding.ActionSkip}
		untouched   = outcome{"", finding.ActionSkip}
	)
	tests := []struct {
		name       string
		deactivate bool
		redacted   bool // the report was written without --no-redact
		specs      []spec
		want       []outcome // by finding
		// warned are the keys warn is told about, each with a part of why.
		warned map[string]string
		// unsentWhy is what the verification of a key not sent says.
		unsentWhy string
		// redactedKeys is what Reverify returns.
		redactedKeys int
		// sent is how many GetCallerIdentity requests each key signs.
		sent     map[string]int
		inactive []string
	}{
		{
			name:       "secret in clear: verified again and deactivated",
			deactivate: true,
			specs:      []spec{{"own", pair}, {"own", alone}, {"second", pair}},
			want:       []outcome{deactivated, deactivated, deactivated},
			sent:       map[string]int{"own": 1, "second": 1},
			inactive:   []string{"own", "second"},
		},
		{
			name:  "secret in clear, dry run: planned",
			specs: []spec{{"own", alone}, {"own", pair}},
			want:  []outcome{planned, planned},
			sent:  map[string]int{"own": 1},
		},
		{
			name:         "redacted secrets: not sent, counted once a key",
			deactivate:   true,
			redacted:     true,
			specs:        []spec{{"own", pair}, {"own", alone}, {"own", pair}, {"second", alone}, {"second", pair}},
			want:         []outcome{unsent, unsent, unsent, unsent, unsent},
			warned:       map[string]string{"own": "secret is redacted", "second": "secret is redacted"},
			unsentWhy:    whyRedacted,
			redactedKeys: 2,
		},
		{
			name:       "a pair in clear besides a redacted one",
			deactivate: true,
			specs:      []spec{{"own", redactedPair}, {"own", pair}, {"own", alone}},
			want:       []outcome{deactivated, deactivated, deactivated},
			sent:       map[string]int{"own": 1},
			inactive:   []string{"own"},
		},
		{
			name:       "key id alone: no secret to prove the leak",
			deactivate: true,
			specs:      []spec{{"own", alone}, {"own", alone}},
			want:       []outcome{unsent, unsent},
			warned:     map[string]string{"own": "holds no secret"},
			unsentWhy:  whyAlone,
		},
		{
			name:       "foreign key: neither sent nor touched",
			deactivate: true,
			specs:      []spec{{"foreign", pair}, {"own", pair}, {"foreign", alone}},
			want:       []outcome{untouched, deactivated, untouched},
			sent:       map[string]int{"own": 1},
			inactive:   []string{"own"},
		},
		{
			// The wrong secret is asked twice (SignatureDoesNotMatch is
			// asked once more before it is believed).
			name:       "forged verification with a wrong secret",
			deactivate: true,
			specs:      []spec{{"own", wrongPair}, {"own", alone}},
			want:       []outcome{refused, refused},
			sent:       map[string]int{"own": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKeyring(t)
			sess := openSession(t, k.estate, Options{
				OwnAccounts: []string{ownAccount, secondAccount}, RoleName: roleName, Deactivate: tt.deactivate,
			})
			fs := asReport(t, k.findings(t, tt.specs), !tt.redacted)
			before := map[string]string{}
			for name, c := range k.keys {
				before[name] = k.s.Status(c.KeyID)
			}
			why := map[string]string{}
			told := map[string]int{}
			redacted := sess.Reverify(context.Background(), fs, func(keyID, w string) {
				told[k.name(keyID)]++
				why[k.name(keyID)] = w
			})

			var got []outcome
			for i, f := range fs {
				o := outcome{Action: "none"}
				if f.Verification != nil {
					o.Status = f.Verification.Status
				}
				if f.Remediation != nil {
					o.Action = f.Remediation.Action
				}
				got = append(got, o)
				name := k.name(f.KeyID)
				c := k.keys[name]
				if v := f.Verification; v != nil && v.Status == finding.StatusVerified {
					if account, _ := detectors.AccountID(c.KeyID); v.Account != account || v.UserID == "" || v.UserID == "AIDA"+strings.Repeat("Q", 17) {
						t.Errorf("finding %d (%s): verification %+v is not this run's", i, name, *v)
					}
				}
				if v := f.Verification; v != nil && v.Status == finding.StatusUnknown && v.Error != tt.unsentWhy {
					t.Errorf("finding %d (%s): not sent because %q, want %q", i, name, v.Error, tt.unsentWhy)
				}
				if w, ok := why[name]; ok && f.Remediation != nil && f.Remediation.Note != w {
					t.Errorf("finding %d (%s): note %q, want what warn was told: %q", i, name, f.Remediation.Note, w)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if redacted != tt.redactedKeys {
				t.Errorf("Reverify = %d redacted keys, want %d", redacted, tt.redactedKeys)
			}
			for name, n := range told {
				if n != 1 {
					t.Errorf("warn was told about %s %d times", name, n)
				}
				if part, ok := tt.warned[name]; !ok || !strings.Contains(why[name], part) {
					t.Errorf("warn was told about %s: %q, want %q in it", name, why[name], part)
				}
			}
			for name := range tt.warned {
				if told[name] == 0 {
					t.Errorf("warn was not told about %s", name)
				}
			}

			for name, c := range k.keys {
				if n := len(k.s.CallsBy(c.KeyID)); n != tt.sent[name] {
					t.Errorf("%s signed %d requests, want %d", name, n, tt.sent[name])
				}
				want := before[name]
				if slices.Contains(tt.inactive, name) {
					want = "Inactive"
				}
				if got := k.s.Status(c.KeyID); got != want {
					t.Errorf("%s is %s, want %s", name, got, want)
				}
			}
			if len(tt.inactive) == 0 {
				for _, c := range k.s.Calls() {
					if changes[c.Action] {
						t.Errorf("no key to deactivate, yet %s was called", c.Action)
					}
				}
			}
			foreign := k.keys["foreign"]
			for _, c := range k.s.Calls() {
				if c.Params.Get("AccessKeyId") == foreign.KeyID || strings.Contains(c.Params.Get("RoleArn"), foreignAccount) {
					t.Errorf("the foreign account was acted on: %s %v", c.Action, c.Params)
				}
			}
			for _, e := range k.auditNamed(t, sess) {
				if e.KeyID == "foreign" {
					t.Errorf("the foreign key is in the audit log: %+v", e)
				}
			}
			raw, err := os.ReadFile(sess.AuditLogPath())
			if err != nil {
				t.Fatal(err)
			}
			k.checkNoSecretIn(t, "the audit log", string(raw))
		})
	}
}

func TestSessionProcessConcurrently(t *testing.T) {
	t.Parallel()
	// No key has two secrets here: see signerCacheBug.
	specs := []spec{
		{"own", pair}, {"own", alone}, {"own", pair},
		{"second", alone}, {"second", pair},
		{"foreign", pair}, {"foreign", alone},
		{"root", pair},
		{"inactive", pair}, {"inactive", alone},
		{"asi", pair}, {"asi", alone},
		{"canary", pair}, {"canary", alone},
		{"", noKeyID}, {"", noKeyID},
	}
	// spread deals the findings out one at a time, so that a key's
	// findings land in several batches.
	spread := func(n int) [][]spec {
		out := make([][]spec, n)
		for i, sp := range specs {
			out[i%n] = append(out[i%n], sp)
		}
		return out
	}
	// byKey makes one batch of each key's findings, as a sweep makes one
	// of each repository's.
	byKey := func() [][]spec {
		var out [][]spec
		at := map[string]int{}
		for _, sp := range specs {
			i, ok := at[sp.key]
			if !ok {
				i, at[sp.key] = len(out), len(out)
				out = append(out, nil)
			}
			out[i] = append(out[i], sp)
		}
		return out
	}
	tests := []struct {
		name    string
		opts    Options
		batches [][]spec
	}{
		{"verification, a key's findings in several batches", Options{}, spread(5)},
		{"verification, one finding a batch", Options{}, spread(len(specs))},
		{"plan, each key's findings in one batch", Options{OwnAccounts: []string{ownAccount, secondAccount}}, byKey()},
		{
			"deactivation, each key's findings in one batch",
			Options{OwnAccounts: []string{ownAccount, secondAccount}, RoleName: roleName, Deactivate: true},
			byKey(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Each session gets its own stand-in, for deactivation
			// changes it.
			one, many := newKeyring(t), newKeyring(t)
			oneSess, manySess := openSession(t, one.estate, tt.opts), openSession(t, many.estate, tt.opts)
			oneSess.Process(context.Background(), one.findings(t, specs))

			var batches [][]finding.Finding
			for _, b := range tt.batches {
				batches = append(batches, many.findings(t, b))
			}
			var wg sync.WaitGroup
			for _, fs := range batches {
				wg.Go(func() { manySess.Process(context.Background(), fs) })
			}
			wg.Wait()

			want, got := oneSess.Summary(), manySess.Summary()
			if want.Verification[finding.StatusVerified] == 0 {
				t.Fatalf("one call verified nothing: %+v", want)
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Summary{}, "AuditLog")); diff != "" {
				t.Errorf("summary of concurrent calls (-one call +concurrent calls):\n%s", diff)
			}
			for _, action := range []string{"GetCallerIdentity", "AssumeRole", "ListAccessKeys", "UpdateAccessKey"} {
				if n, m := one.s.Count(action), many.s.Count(action); n != m {
					t.Errorf("%s: %d calls in one call, %d in concurrent calls", action, n, m)
				}
			}
		})
	}
}

// TestSessionProcessPairInALaterBatch: a key id found alone in one batch
// (one repository of a sweep) and with its secret in a later one is a live
// leak all the same.
func TestSessionProcessPairInALaterBatch(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	sess := openSession(t, k.estate, Options{OwnAccounts: []string{ownAccount}, Deactivate: true})
	earlier, later := k.findings(t, []spec{{"own", alone}}), k.findings(t, []spec{{"own", pair}})
	sess.Process(context.Background(), earlier)
	sess.Process(context.Background(), later)
	if r := later[0].Remediation; r == nil || r.Action != finding.ActionDeactivated {
		t.Errorf("the live pair's remediation: %+v, want deactivated", r)
	}
	if got := k.s.Status(k.own.KeyID); got != "Inactive" {
		t.Errorf("the live key is %s", got)
	}
	want := map[string]int{finding.ActionDeactivated: 1}
	if diff := cmp.Diff(want, sess.Summary().Remediation); diff != "" {
		t.Errorf("summary's remediation (-want +got):\n%s", diff)
	}
}

// TestSessionProcessIDAloneInALaterBatch: a key id verified through its
// pair in one batch, and found alone in a later one, shares the live
// result there without another call.
func TestSessionProcessIDAloneInALaterBatch(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	sess := openSession(t, k.estate, Options{})
	earlier, later := k.findings(t, []spec{{"own", pair}}), k.findings(t, []spec{{"own", alone}})
	sess.Process(context.Background(), earlier)
	sess.Process(context.Background(), later)
	if v := later[0].Verification; v == nil || v.Status != finding.StatusVerified || v.Account != ownAccount {
		t.Errorf("the key id alone: %+v, want the pair's live result", v)
	}
	if n := k.s.Count("GetCallerIdentity"); n != 1 {
		t.Errorf("the stand-in saw %d GetCallerIdentity calls, want 1", n)
	}
}
