package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
)

// RemediateOptions say whose keys may be touched and how.
type RemediateOptions struct {
	// OwnAccounts are the user's accounts: no other account's key is ever
	// touched.
	OwnAccounts []string
	// RoleName, if set, is assumed in each own account
	// (arn:aws:iam::<account>:role/<RoleName>) to act there; otherwise the
	// default credentials act, and must belong to the key's account.
	RoleName string
	// Deactivate acts; without it only the plan is made.
	Deactivate bool
	// Timeout bounds each AWS call, retries included.
	Timeout time.Duration
	// Audit receives every step.
	Audit *AuditLog

	// Contain lists the containment steps, in order: ContainQuarantine,
	// ContainDeactivate. Nil is deactivate alone.
	Contain []string
	// Grace, when set, warns the owner first and contains the key on the
	// first run after it, if the key is still active. State remembers the
	// warnings; Webhook and Mail send them.
	Grace   time.Duration
	State   State
	Webhook Notifier
	Mail    Notifier
	// NotifyEmail gets the notices when the IAM user has no email or
	// owner tag and the commit author's email is not valid.
	NotifyEmail string
	// CloudTrail looks up the key's events (slow); Trail says where.
	CloudTrail bool
	Trail      TrailOptions
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// The containment steps.
const (
	ContainQuarantine = "quarantine"
	ContainDeactivate = "deactivate"
)

// ParseContain reads --contain: quarantine, deactivate, or both in the
// order they are to be taken.
func ParseContain(list []string) ([]string, error) {
	var out []string
	for _, c := range splitList(list) {
		switch {
		case c != ContainQuarantine && c != ContainDeactivate:
			return nil, fmt.Errorf("unknown containment %q (want quarantine, deactivate, or quarantine,deactivate)", c)
		case !slices.Contains(out, c):
			out = append(out, c)
		}
	}
	return out, nil
}

var (
	accountRe  = regexp.MustCompile(`^[0-9]{12}$`)
	roleNameRe = regexp.MustCompile(`^[\w+=,.@/-]{1,512}$`)
	keyIDRe    = regexp.MustCompile(`^A[A-Z0-9]{3}[A-Z0-9]{16}$`)
)

// ParseAccounts reads a comma-separated list of 12-digit account ids.
func ParseAccounts(list []string) ([]string, error) {
	out := splitList(list)
	for _, a := range out {
		if !accountRe.MatchString(a) {
			return nil, fmt.Errorf("invalid AWS account id %q (want 12 digits)", a)
		}
	}
	return out, nil
}

// CheckRoleName says what is wrong with an IAM role name, if anything;
// "" is no role.
func CheckRoleName(name string) error {
	if name != "" && !roleNameRe.MatchString(name) {
		return fmt.Errorf("invalid role name %q", name)
	}
	return nil
}

// Remediator deactivates live keys of the user's own accounts. It is not
// safe for concurrent use: remediation goes one key at a time, on purpose.
type Remediator struct {
	cfg  awssdk.Config
	opts RemediateOptions
	own  map[string]bool

	clients map[string]*iamClient // by partition and account
	done    map[string]finding.Remediation
	// incidents hold what incident response learned of each key id.
	incidents map[string]Incident
	// before holds the last use IAM recorded of each own key before this
	// run verified it; infoAccounts the accounts sts:GetAccessKeyInfo
	// gave for key ids that carry none.
	before       map[string]*usageRead
	infoAccounts map[string]string
	// quarantine holds the newest quarantine policy found in each
	// partition and account.
	quarantine map[string]string
	// pacers space the CloudTrail lookups of each account.
	pacers map[string]*Pacers
	// decidedLive holds the key ids decided on a live result.
	decidedLive map[string]bool
	// secrets are those of the credentials remediation acts with: an
	// endpoint's answer that holds one is not written out.
	secrets     []string
	haveDefault bool
}

// iamClient is how remediation acts in one account: an IAM client and
// the credentials behind it (the default ones, or a role's).
type iamClient struct {
	client *iam.Client
	creds  awssdk.CredentialsProvider
	region string
	err    error
}

// NewRemediator returns a Remediator acting with cfg's default credentials.
func NewRemediator(cfg awssdk.Config, opts RemediateOptions) (*Remediator, error) {
	if len(opts.OwnAccounts) == 0 {
		return nil, errors.New("no own accounts given")
	}
	if err := CheckRoleName(opts.RoleName); err != nil {
		return nil, err
	}
	if opts.Audit == nil {
		return nil, errors.New("remediation needs an audit log")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	own := map[string]bool{}
	for _, a := range opts.OwnAccounts {
		if !accountRe.MatchString(a) {
			return nil, fmt.Errorf("invalid AWS account id %q (want 12 digits)", a)
		}
		own[a] = true
	}
	contain, err := ParseContain(opts.Contain)
	if err != nil {
		return nil, err
	}
	if len(contain) == 0 {
		contain = []string{ContainDeactivate}
	}
	opts.Contain = contain
	if opts.Grace > 0 && opts.State == nil {
		return nil, errors.New("a grace period needs a state to remember its warnings in")
	}
	if opts.Grace > 0 && opts.Webhook == nil && opts.Mail == nil {
		return nil, errors.New("a grace period warns the owner first: give --notify-webhook or --smtp-url")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Remediator{cfg: cfg, opts: opts, own: own, clients: map[string]*iamClient{}, done: map[string]finding.Remediation{},
		incidents: map[string]Incident{}, before: map[string]*usageRead{}, infoAccounts: map[string]string{},
		quarantine: map[string]string{}, pacers: map[string]*Pacers{}, decidedLive: map[string]bool{}}, nil
}

// Remediate decides about, and with Deactivate acts on, the key keyID
// given what a Verifier of this process learned of it just now (nil when
// it was not verified). A result read from a report (JSON) is never acted
// on: a report proves nothing, since anyone can write one naming a key id.
//
// A key is deactivated only when it was verified live, its key id decodes
// to one of the own accounts, STS answered for that same account, and
// IAM, asked again just before, still lists it as active. Keys are never
// deleted. Each key id is dealt with once.
//
// A decision made without a live result (the key id was found alone, or
// its verification was unknown) is made again when a live result comes:
// a sweep meets a key id alone in one repository and its secret in
// another.
func (r *Remediator) Remediate(ctx context.Context, keyID string, v *Result) finding.Remediation {
	return r.Respond(ctx, keyID, v, Leak{}).Remediation
}

// Respond is Remediate for a key that leaked as leak says: for a live key
// of an own account it also reads, with the user's credentials, when the
// key was last used, what it can reach and (with CloudTrail) what it did,
// and with a grace period warns the owner before containing it.
func (r *Remediator) Respond(ctx context.Context, keyID string, v *Result, leak Leak) Response {
	live := v != nil && v.fresh && v.Status == finding.StatusVerified
	if rem, ok := r.done[keyID]; ok && (r.decidedLive[keyID] || !live) {
		return Response{Remediation: rem, Incident: r.incidents[keyID]}
	}
	if live {
		r.decidedLive[keyID] = true
	}
	resp := r.remediate(ctx, keyID, v, leak)
	resp.Remediation = r.decided(keyID, resp.Remediation)
	r.incidents[keyID] = resp.Incident
	return resp
}

// Skip records that keyID is left alone, for the reason note, without
// asking AWS anything: for a key that cannot be verified again.
func (r *Remediator) Skip(keyID, note string) finding.Remediation {
	if rem, ok := r.done[keyID]; ok {
		return rem
	}
	account, _ := detectors.AccountID(keyID)
	if !keyIDRe.MatchString(keyID) {
		account = ""
	}
	return r.decided(keyID, finding.Remediation{Action: finding.ActionSkip, Account: account, Note: note})
}

// decided records the decision about an own account's key in the audit
// log, and remembers it.
func (r *Remediator) decided(keyID string, rem finding.Remediation) finding.Remediation {
	if rem.Action != finding.ActionSkip || r.own[rem.Account] {
		if err := r.audit(keyID, rem.Account, rem.User, "decision", rem.Action, rem.Error); err != nil && rem.Action != finding.ActionFailed {
			rem.Action, rem.Error = finding.ActionFailed, err.Error()
		}
	}
	r.done[keyID] = rem
	return rem
}

func (r *Remediator) remediate(ctx context.Context, keyID string, v *Result, leak Leak) Response {
	rem, arn, ok := r.gate(ctx, keyID, v)
	if !ok {
		return Response{Remediation: rem}
	}
	switch {
	case strings.HasPrefix(keyID, "ASIA"):
		rem.Action, rem.User, rem.Note = finding.ActionManual, arn.name(), temporaryAdvice(arn)
		return Response{Remediation: rem}
	case arn.resource == "root":
		return r.respondRoot(ctx, keyID, rem, arn, leak)
	}
	rem.User = arn.userName()
	return r.respond(ctx, keyID, rem, arn, leak)
}

// gate decides whether keyID may be looked at beyond verification: a
// live key whose account is one of the own accounts, both by its key id
// (decoded offline, or sts:GetAccessKeyInfo for an id that carries none)
// and by STS's answer this run. Otherwise it says why not.
func (r *Remediator) gate(ctx context.Context, keyID string, v *Result) (finding.Remediation, arn, bool) {
	decoded, hasDecoded := detectors.AccountID(keyID)
	if !hasDecoded {
		decoded, hasDecoded = r.infoAccount(ctx, keyID)
	}
	account := decoded
	if !hasDecoded && v != nil && v.fresh && v.Status == finding.StatusVerified {
		account = v.Account
	}
	rem := finding.Remediation{Account: account}
	skip := func(note string) (finding.Remediation, arn, bool) {
		rem.Action, rem.Note = finding.ActionSkip, note
		return rem, arn{}, false
	}
	if !r.own[account] {
		if account == "" {
			return skip("the key's account is unknown: not one of --own-accounts")
		}
		return skip(fmt.Sprintf("account %s is not one of --own-accounts: never touched", account))
	}
	if v != nil && !v.fresh {
		return skip("a verification read from a report proves nothing: not touched; the key must be verified again with its secret")
	}
	switch status := verification(v); status {
	case finding.StatusVerified:
	case finding.StatusInvalid:
		// Only InvalidClientTokenId may mean an inactive key; after
		// SignatureDoesNotMatch or ExpiredToken IAM has nothing to say.
		if r.opts.Deactivate && hasDecoded && v.code == "InvalidClientTokenId" {
			return r.checkInactive(ctx, keyID, rem, v), arn{}, false
		}
		return skip("not live (" + v.Error + "): nothing to deactivate")
	case "":
		return skip("not verified: scan again with --verify to know whether it is live")
	default:
		return skip(fmt.Sprintf("verification was %s (%s): not touched; verify again", status, v.Error))
	}
	if hasDecoded && decoded != v.Account {
		return skip(fmt.Sprintf("the key id decodes to account %s but STS answered for account %s: not touched", decoded, v.Account))
	}
	a := parseARN(v.ARN)
	if !hasDecoded {
		// Only STS says whose key it is: not enough to act on.
		rem.Action, rem.User = finding.ActionManual, a.name()
		rem.Note = fmt.Sprintf("the key id carries no account (issued before 2019) and sts:GetAccessKeyInfo did not tell it, so STS's answer "+
			"cannot be checked against it: if %s in account %s is yours, make the key inactive yourself (IAM console, or aws iam "+
			"update-access-key --access-key-id %s --status Inactive --user-name %s)", a.name(), account, keyID, a.name())
		return rem, arn{}, false
	}
	return rem, a, true
}

func verification(v *Result) string {
	if v == nil {
		return ""
	}
	return v.Status
}

// deactivate sets keyID Inactive in rem.Account, unless IAM already lists
// it as inactive, and says which it was.
func (r *Remediator) deactivate(ctx context.Context, client *iam.Client, keyID string, rem finding.Remediation) finding.Remediation {
	status, err := r.keyStatus(ctx, client, keyID, rem.Account, rem.User)
	if err != nil {
		rem.Action, rem.Error = finding.ActionFailed, err.Error()
		return rem
	}
	if status == types.StatusTypeInactive {
		return withStep(rem, finding.ActionAlreadyInactive)
	}

	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	_, err = client.UpdateAccessKey(cctx, &iam.UpdateAccessKeyInput{
		AccessKeyId: awssdk.String(keyID),
		UserName:    awssdk.String(rem.User),
		Status:      types.StatusTypeInactive,
	})
	cancel()
	if err := r.step(keyID, rem.Account, rem.User, "deactivate", err); err != nil {
		rem.Action, rem.Error = finding.ActionFailed, "iam:UpdateAccessKey: "+err.Error()
		return rem
	}
	return withStep(rem, finding.ActionDeactivated)
}

// checkInactive looks up an own key that STS refused: if IAM lists it as
// inactive, it is reported so; otherwise there is nothing to do.
func (r *Remediator) checkInactive(ctx context.Context, keyID string, rem finding.Remediation, v *Result) finding.Remediation {
	rem.Action, rem.Note = finding.ActionSkip, "not live ("+v.Error+"): nothing to deactivate"
	c, err := r.client(ctx, keyID, rem.Account, "")
	if err != nil {
		return rem
	}
	user, err := r.lookupUser(ctx, c.client, keyID, rem.Account)
	if err != nil {
		return rem
	}
	status, err := r.keyStatus(ctx, c.client, keyID, rem.Account, user)
	if err == nil && status == types.StatusTypeInactive {
		rem.Action, rem.User, rem.Note = finding.ActionAlreadyInactive, user, ""
	}
	return rem
}

func (r *Remediator) lookupUser(ctx context.Context, client *iam.Client, keyID, account string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	out, err := client.GetAccessKeyLastUsed(cctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: awssdk.String(keyID)})
	cancel()
	user := ""
	if err == nil {
		if user = shaped(awssdk.ToString(out.UserName), userNameRe, r.secrets); user == "" {
			err = ownError("no user name in AWS's format in the answer")
		}
	}
	if err := r.step(keyID, account, user, "lookup-user", err); err != nil {
		return "", fmt.Errorf("iam:GetAccessKeyLastUsed: %w", err)
	}
	return user, nil
}

func (r *Remediator) keyStatus(ctx context.Context, client *iam.Client, keyID, account, user string) (types.StatusType, error) {
	var status types.StatusType
	var marker *string
	err := func() error {
		// A user has at most two access keys: an endpoint that pages on
		// and on is not believed.
		const maxPages = 10
		for page := 1; ; page++ {
			cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
			out, err := client.ListAccessKeys(cctx, &iam.ListAccessKeysInput{UserName: awssdk.String(user), Marker: marker})
			cancel()
			if err != nil {
				return err
			}
			for _, k := range out.AccessKeyMetadata {
				if awssdk.ToString(k.AccessKeyId) == keyID {
					status = k.Status
					return nil
				}
			}
			if !out.IsTruncated || page >= maxPages {
				return ownError(fmt.Sprintf("user %s has no access key %s", user, keyID))
			}
			marker = out.Marker
		}
	}()
	if err := r.step(keyID, account, user, "check-status", err); err != nil {
		return "", fmt.Errorf("iam:ListAccessKeys: %w", err)
	}
	return status, nil
}

// client returns how to act in account of partition: through the role
// when one is named, else with the default credentials after checking
// that they belong to account.
func (r *Remediator) client(ctx context.Context, keyID, account, partition string) (*iamClient, error) {
	if partition == "" {
		partition = partitionOf(r.cfg.Region)
	}
	id := partition + "/" + account
	if c, ok := r.clients[id]; ok {
		return c, c.err
	}
	c := &iamClient{region: regionIn(r.cfg, partition)}
	c.err = r.newClient(ctx, c, keyID, account, partition)
	r.clients[id] = c
	return c, c.err
}

func (r *Remediator) newClient(ctx context.Context, c *iamClient, keyID, account, partition string) error {
	err := r.defaultSecrets(ctx)
	inRegion := func(o *sts.Options) { o.Region = c.region }
	stsClient := sts.NewFromConfig(r.cfg, inRegion)
	if r.opts.RoleName == "" {
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
			var out *sts.GetCallerIdentityOutput
			out, err = stsClient.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
			cancel()
			switch {
			case err != nil:
			case !accountRe.MatchString(awssdk.ToString(out.Account)):
				err = ownError(errMalformedIdentity)
			case awssdk.ToString(out.Account) != account:
				err = ownError(fmt.Sprintf("the default credentials belong to account %s, not %s: give --role-name to act through a role in %s",
					awssdk.ToString(out.Account), account, account))
			}
		}
		if err := r.step(keyID, account, "", "check-credentials", err); err != nil {
			return fmt.Errorf("default credentials: %w", err)
		}
		c.creds = r.cfg.Credentials
		c.client = iam.NewFromConfig(r.cfg, func(o *iam.Options) { o.Region = c.region })
		return nil
	}

	roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, r.opts.RoleName)
	var out *sts.AssumeRoleOutput
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		out, err = stsClient.AssumeRole(cctx, &sts.AssumeRoleInput{
			RoleArn:         awssdk.String(roleARN),
			RoleSessionName: awssdk.String("keysweep-remediation"),
			DurationSeconds: awssdk.Int32(900),
		})
		cancel()
		if err == nil && out.Credentials == nil {
			err = ownError("no credentials in the answer")
		}
	}
	if err := r.stepRole(keyID, account, roleARN, err); err != nil {
		return fmt.Errorf("assume %s: %w", roleARN, err)
	}
	rc := out.Credentials
	r.secrets = append(r.secrets, awssdk.ToString(rc.SecretAccessKey), awssdk.ToString(rc.SessionToken))
	c.creds = awssdk.NewCredentialsCache(credentials.NewStaticCredentialsProvider(awssdk.ToString(rc.AccessKeyId),
		awssdk.ToString(rc.SecretAccessKey), awssdk.ToString(rc.SessionToken)))
	c.client = iam.NewFromConfig(r.cfg, func(o *iam.Options) { o.Credentials, o.Region = c.creds, c.region })
	return nil
}

// defaultSecrets learns the secrets of the default credentials, which
// every call signed with them carries (the session token in clear), so
// that no answer echoing them is written out.
func (r *Remediator) defaultSecrets(ctx context.Context) error {
	if r.haveDefault {
		return nil
	}
	if r.cfg.Credentials == nil {
		return ownError("no AWS credentials: configure the default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, or a role of the machine)")
	}
	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	creds, err := r.cfg.Credentials.Retrieve(cctx)
	cancel()
	if err != nil {
		return ownError("no AWS credentials could be loaded from the default credential chain: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run where a role is attached")
	}
	r.secrets = append(r.secrets, creds.SecretAccessKey, creds.SessionToken)
	r.haveDefault = true
	return nil
}

// step records the outcome of an AWS call in the audit log and returns
// the call's error in one line, or the audit log's own failure: a step
// that cannot be recorded is not followed by another.
func (r *Remediator) step(keyID, account, user, action string, err error) error {
	return r.record(AuditEntry{KeyID: keyID, Account: account, User: user, Action: action}, err)
}

func (r *Remediator) stepRole(keyID, account, role string, err error) error {
	return r.record(AuditEntry{KeyID: keyID, Account: account, Role: role, Action: "assume-role"}, err)
}

func (r *Remediator) record(e AuditEntry, err error) error {
	e.Result = "ok"
	if err != nil {
		e.Result, e.Error = "failed", describe(err, r.secrets)
	}
	if aerr := r.opts.Audit.Record(e); aerr != nil {
		return aerr
	}
	if err != nil {
		return ownError(e.Error)
	}
	return nil
}

func (r *Remediator) audit(keyID, account, user, action, result, errMsg string) error {
	return r.opts.Audit.Record(AuditEntry{KeyID: keyID, Account: account, User: user, Action: action, Result: result, Error: errMsg})
}

// arn is a parsed ARN: arn:partition:service:region:account:resource.
type arn struct {
	partition, service, account, resource string
}

func parseARN(s string) arn {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return arn{}
	}
	return arn{partition: parts[1], service: parts[2], account: parts[4], resource: parts[5]}
}

// String is the ARN.
func (a arn) String() string {
	if a.partition == "" {
		return ""
	}
	return "arn:" + a.partition + ":" + a.service + "::" + a.account + ":" + a.resource
}

// userName is the IAM user's name, without its path, of a user ARN.
func (a arn) userName() string {
	if a.service != "iam" || !strings.HasPrefix(a.resource, "user/") {
		return ""
	}
	return a.resource[strings.LastIndexByte(a.resource, '/')+1:]
}

// name is the principal's name for any ARN: user, role or federated user.
func (a arn) name() string {
	if n := a.userName(); n != "" {
		return n
	}
	if kind, rest, ok := strings.Cut(a.resource, "/"); ok {
		if kind == "assumed-role" {
			role, _, _ := strings.Cut(rest, "/")
			return role
		}
		return rest
	}
	return a.resource
}

// temporaryAdvice says how to cut off temporary credentials, which IAM
// cannot deactivate: they stay valid until they expire unless the
// principal that issued them is denied.
func temporaryAdvice(a arn) string {
	kind, rest, _ := strings.Cut(a.resource, "/")
	switch kind {
	case "assumed-role":
		role, session, _ := strings.Cut(rest, "/")
		return fmt.Sprintf("temporary credentials (session %q of role %s) cannot be deactivated: revoke the role's active sessions "+
			"(IAM console, role %s, Revoke active sessions, which denies credentials issued before now), then find and fix what leaked them", session, role, role)
	case "federated-user":
		return fmt.Sprintf("temporary credentials of federated user %s cannot be deactivated: deny the IAM user that called "+
			"sts:GetFederationToken with a policy on aws:TokenIssueTime, or deactivate that user's access key", rest)
	case "user":
		return fmt.Sprintf("temporary credentials of IAM user %s cannot be deactivated: attach a policy to the user denying "+
			"everything with a condition on aws:TokenIssueTime before now, or deactivate the user's long-term key that issued them", a.userName())
	}
	return "temporary credentials cannot be deactivated: deny the principal that issued them (a policy on aws:TokenIssueTime) until they expire"
}
