package aws

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/notify"
)

// Leak is where and since when a key leaked, as the findings tell.
type Leak struct {
	// Since is the author date of the oldest commit holding the key; zero
	// when no history tells (a directory scan).
	Since time.Time
	// Public: the key is in a public repository, so taken as compromised.
	Public     bool
	Repository string
	Commit     string
	Path       string
	Line       int
	Link       string
	// Email is the commit author's, a recipient of last resort.
	Email string
}

// Incident is what incident response learned of a live key of an own
// account, with the user's credentials.
type Incident struct {
	Usage             *finding.Usage
	UsedAfterExposure finding.Maybe
	CloudTrail        *finding.CloudTrail
	BlastRadius       *finding.BlastRadius
}

// Response is what was decided about a key, and what was learned of it.
type Response struct {
	Remediation finding.Remediation
	Incident    Incident
}

// Notifier tells a key's owner what keysweep did or will do.
type Notifier interface {
	Notify(ctx context.Context, n notify.Notice) error
}

// usageRead is what IAM recorded of a key's last use, read before this
// run's verification: keysweep's own sts:GetCallerIdentity is recorded as
// a use, and IAM keeps only the last one.
type usageRead struct {
	usage *finding.Usage
	err   error
	// verified is when an earlier run verified the key, as the state had
	// it before this run's verification.
	verified time.Time
}

// ownUseWindow is how far a recorded use may lie from keysweep's own
// verification and still be taken for it (clock skew).
const ownUseWindow = 5 * time.Minute

// Before reads, for the key ids of keys about to be verified whose
// account is one of the own accounts, what IAM recorded of their last use,
// so that the verification does not hide it. Each key id is read once.
func (r *Remediator) Before(ctx context.Context, keyIDs []string) {
	for _, id := range keyIDs {
		if _, ok := r.before[id]; ok || !keyIDRe.MatchString(id) || strings.HasPrefix(id, "ASIA") {
			continue
		}
		account, ok := r.accountOf(ctx, id)
		if !ok || !r.own[account] {
			continue
		}
		read := &usageRead{}
		r.before[id] = read
		if r.opts.State != nil {
			if ks, err := r.opts.State.Get(id); err == nil {
				read.verified = ks.Verified
			}
		}
		c, err := r.client(ctx, id, account, "")
		if err != nil {
			read.err = err
			continue
		}
		read.usage, _, read.err = r.lastUsed(ctx, c.client, id, account)
	}
}

// accountOf returns the account keyID belongs to: decoded offline, or
// for an id that carries none (issued before 2019), as
// sts:GetAccessKeyInfo answers the user's default credentials.
func (r *Remediator) accountOf(ctx context.Context, keyID string) (string, bool) {
	if a, ok := detectors.AccountID(keyID); ok {
		return a, true
	}
	return r.infoAccount(ctx, keyID)
}

// infoAccount asks sts:GetAccessKeyInfo, once per key id, with the
// default credentials (never the key itself), whose key keyID is.
func (r *Remediator) infoAccount(ctx context.Context, keyID string) (string, bool) {
	if a, ok := r.infoAccounts[keyID]; ok {
		return a, a != ""
	}
	r.infoAccounts[keyID] = ""
	if !keyIDRe.MatchString(keyID) || strings.HasPrefix(keyID, "ASIA") {
		return "", false
	}
	err := r.defaultSecrets(ctx)
	account := ""
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		var out *sts.GetAccessKeyInfoOutput
		out, err = sts.NewFromConfig(r.cfg).GetAccessKeyInfo(cctx, &sts.GetAccessKeyInfoInput{AccessKeyId: awssdk.String(keyID)})
		cancel()
		if err == nil {
			if account = awssdk.ToString(out.Account); !accountRe.MatchString(account) {
				account, err = "", ownError("no account id in AWS's format in the answer")
			}
		}
	}
	// Only a key of an own account is recorded: another's is no concern
	// of the audit.
	if r.own[account] || err != nil {
		if r.record(AuditEntry{KeyID: keyID, Account: account, Action: "get-access-key-info"}, err) != nil {
			return "", false
		}
	}
	r.infoAccounts[keyID] = account
	return account, account != ""
}

// respond is incident response for a live key of an IAM user of an own
// account: its last use, what it can reach and did, then containment.
func (r *Remediator) respond(ctx context.Context, keyID string, rem finding.Remediation, a arn, leak Leak) Response {
	var inc Incident
	c, err := r.client(ctx, keyID, rem.Account, a.partition)
	if err != nil {
		return r.unreadable(rem, err)
	}
	if rem.User == "" {
		if rem.User, err = r.lookupUser(ctx, c.client, keyID, rem.Account); err != nil {
			return r.unreadable(rem, err)
		}
	}
	inc.Usage, inc.UsedAfterExposure = r.usage(ctx, c, keyID, rem.Account, leak)
	info := readUser(ctx, c.client, rem.User, a.String(), r.opts.Timeout, func(call string, err error) error {
		return r.step(keyID, rem.Account, rem.User, call, err)
	})
	inc.BlastRadius = info.Radius
	if r.opts.CloudTrail {
		inc.CloudTrail = r.trail(ctx, c, keyID, rem, leak)
		inc.UsedAfterExposure = usedPerTrail(inc.UsedAfterExposure, inc.CloudTrail, leak)
	}
	rem = r.contain(ctx, c, keyID, rem, inc, info, a.partition, leak)
	return Response{Remediation: rem, Incident: inc}
}

// unreadable is the response when no call can be made in the key's
// account: a plan still stands, an action fails.
func (r *Remediator) unreadable(rem finding.Remediation, err error) Response {
	if !r.opts.Deactivate {
		rem = r.plan(rem)
		rem.Note = strings.TrimSpace(rem.Note + " incident response could not read the account: " + err.Error())
		return Response{Remediation: rem}
	}
	rem.Action, rem.Error = finding.ActionFailed, err.Error()
	return Response{Remediation: rem}
}

// respondRoot is incident response for a root user's key: IAM can neither
// quarantine nor deactivate it, and it can do everything.
func (r *Remediator) respondRoot(ctx context.Context, keyID string, rem finding.Remediation, a arn, leak Leak) Response {
	rem.Action, rem.User = finding.ActionManual, "root"
	rem.Note = fmt.Sprintf("root user access key: IAM cannot deactivate it. Sign in to account %s as the root user and make the key "+
		"inactive under Security credentials, or, in an AWS Organization with centralized root access, act on the member's root "+
		"credentials from the management account (sts:AssumeRoot)", rem.Account)
	inc := Incident{BlastRadius: &finding.BlastRadius{User: "root", Admin: true, Approximate: true}}
	c, err := r.client(ctx, keyID, rem.Account, a.partition)
	if err != nil {
		inc.BlastRadius.Error = err.Error()
		return Response{Remediation: rem, Incident: inc}
	}
	inc.Usage, inc.UsedAfterExposure = r.usage(ctx, c, keyID, rem.Account, leak)
	if r.opts.CloudTrail {
		inc.CloudTrail = r.trail(ctx, c, keyID, rem, leak)
		inc.UsedAfterExposure = usedPerTrail(inc.UsedAfterExposure, inc.CloudTrail, leak)
	}
	if r.opts.Deactivate {
		rem = r.tell(ctx, keyID, rem, inc, a.partition, leak, nil, time.Time{})
	}
	return Response{Remediation: rem, Incident: inc}
}

// usage is what IAM recorded of the key's last use, and whether that use
// came after the leak. The record read before this run's verification
// is used; a recorded use that is keysweep's own verification (of this
// run or an earlier one) tells nothing of other use.
func (r *Remediator) usage(ctx context.Context, c *iamClient, keyID, account string, leak Leak) (*finding.Usage, finding.Maybe) {
	read := r.before[keyID]
	var ownSince time.Time // uses from then on may be keysweep's own
	if read == nil || read.err != nil {
		read = &usageRead{}
		read.usage, _, read.err = r.lastUsed(ctx, c.client, keyID, account)
		ownSince = r.opts.Now().Add(-ownUseWindow)
	}
	if read.err != nil {
		return &finding.Usage{Note: "iam:GetAccessKeyLastUsed: " + read.err.Error()}, finding.Unknown()
	}
	u := *read.usage
	if u.LastUsed == "" {
		return &u, finding.Unknown()
	}
	last, err := time.Parse(time.RFC3339, u.LastUsed)
	if err != nil {
		return &u, finding.Unknown()
	}
	if u.Service == "sts" {
		own := !ownSince.IsZero() && !last.Before(ownSince) ||
			!read.verified.IsZero() && absDuration(last.Sub(read.verified)) <= ownUseWindow
		if own {
			u.Note = "the last use IAM recorded is keysweep's own verification (sts:GetCallerIdentity), and IAM keeps only the last: " +
				"earlier use cannot be told from it (look it up with --cloudtrail)"
			return &u, finding.Unknown()
		}
	}
	if leak.Since.IsZero() {
		return &u, finding.Unknown()
	}
	if last.After(leak.Since) {
		return &u, finding.Yes()
	}
	return &u, finding.No()
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// usedPerTrail is what CloudTrail adds to the usage: an event after the
// leak is a use after it; a complete lookup from the leak on with no
// event but keysweep's own is none.
func usedPerTrail(used finding.Maybe, ct *finding.CloudTrail, leak Leak) finding.Maybe {
	if ct == nil || ct.Error != "" || leak.Since.IsZero() {
		return used
	}
	if ct.Events > 0 {
		return finding.Yes()
	}
	if used.Value == nil && len(ct.Failed) == 0 && !ct.Clipped {
		return finding.No()
	}
	return used
}

// trail looks the key's events up in CloudTrail with the account's
// credentials, recording every call.
func (r *Remediator) trail(ctx context.Context, c *iamClient, keyID string, rem finding.Remediation, leak Leak) *finding.CloudTrail {
	cfg := r.cfg.Copy()
	cfg.Region = c.region
	opts := r.opts.Trail
	if r.pacers[c.region+"/"+rem.Account] == nil {
		r.pacers[c.region+"/"+rem.Account] = &Pacers{}
	}
	opts.Pacers = r.pacers[c.region+"/"+rem.Account]
	if opts.Now == nil {
		opts.Now = r.opts.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = r.opts.Timeout
	}
	return lookupTrail(ctx, cfg, c.creds, keyID, leak.Since, opts, func(call, region string, err error) error {
		return r.record(AuditEntry{KeyID: keyID, Account: rem.Account, User: rem.User, Action: call, Region: region}, err)
	})
}

// lastUsed reads iam:GetAccessKeyLastUsed: the key's last use, and its
// user's name.
func (r *Remediator) lastUsed(ctx context.Context, client *iam.Client, keyID, account string) (*finding.Usage, string, error) {
	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	out, err := client.GetAccessKeyLastUsed(cctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: awssdk.String(keyID)})
	cancel()
	u := &finding.Usage{}
	user := ""
	if err == nil {
		user = shaped(awssdk.ToString(out.UserName), userNameRe, r.secrets)
		if last := out.AccessKeyLastUsed; last != nil {
			if last.LastUsedDate != nil {
				u.LastUsed = last.LastUsedDate.UTC().Format(time.RFC3339)
			}
			// "N/A" is IAM's word for none.
			u.Service = shaped(strings.TrimPrefix(awssdk.ToString(last.ServiceName), "N/A"), serviceRe, r.secrets)
			u.Region = shaped(strings.TrimPrefix(awssdk.ToString(last.Region), "N/A"), regionRe, r.secrets)
		}
	}
	if err := r.step(keyID, account, user, "last-used", err); err != nil {
		return nil, "", fmt.Errorf("iam:GetAccessKeyLastUsed: %w", err)
	}
	return u, user, nil
}

var (
	serviceRe = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	// quarantineRe names AWS's managed quarantine policies:
	// AWSCompromisedKeyQuarantine, then V2, V3, ...
	quarantineRe = regexp.MustCompile(`^AWSCompromisedKeyQuarantine(?:V([1-9][0-9]{0,3}))?$`)
)

// contain decides about, and with Deactivate acts on, a live key of an
// IAM user: warn first when a grace period is given and the key is not
// exposed beyond doubt, else quarantine and deactivate as asked.
func (r *Remediator) contain(ctx context.Context, c *iamClient, keyID string, rem finding.Remediation, inc Incident, info userInfo, partition string, leak Leak) finding.Remediation {
	graced := r.opts.Grace > 0 && !leak.Public && !inc.UsedAfterExposure.True()
	if !r.opts.Deactivate {
		if graced {
			rem.Action = finding.ActionWouldWarn
			rem.Note = fmt.Sprintf("with --deactivate: the owner is warned, and the key contained (%s) %s later if still active",
				strings.Join(r.opts.Contain, ", "), r.opts.Grace)
			return rem
		}
		return r.plan(rem)
	}
	now := r.opts.Now().UTC()
	if graced {
		ks, err := r.opts.State.Get(keyID)
		if err != nil {
			rem.Action, rem.Error = finding.ActionFailed, "read state: "+err.Error()
			return rem
		}
		if ks.Warned.IsZero() || now.Before(ks.Due) {
			return r.warn(ctx, keyID, rem, inc, info, partition, leak, ks, now)
		}
		rem.Warned, rem.Due = stamp(ks.Warned), stamp(ks.Due)
	}
	for _, step := range r.opts.Contain {
		switch step {
		case ContainQuarantine:
			rem = r.quarantineUser(ctx, c, keyID, rem, info, partition)
		case ContainDeactivate:
			rem = r.deactivate(ctx, c.client, keyID, rem)
		}
		if rem.Action == finding.ActionFailed {
			return rem
		}
	}
	return r.tell(ctx, keyID, rem, inc, partition, leak, info.Tags, time.Time{})
}

// plan is what would be done without --deactivate.
func (r *Remediator) plan(rem finding.Remediation) finding.Remediation {
	rem.Steps = nil
	for _, step := range r.opts.Contain {
		switch step {
		case ContainQuarantine:
			rem = withStep(rem, finding.ActionWouldQuarantine)
		case ContainDeactivate:
			rem = withStep(rem, finding.ActionWouldDeactivate)
		}
	}
	return rem
}

// withStep adds a containment step to rem, which becomes its action.
func withStep(rem finding.Remediation, action string) finding.Remediation {
	rem.Steps = append(rem.Steps, action)
	rem.Action = action
	return rem
}

// warn warns the owner the first time, and reminds them on later runs
// before the grace period ends. A warning that reached no one is not
// remembered: the next run warns again, and the period starts then.
func (r *Remediator) warn(ctx context.Context, keyID string, rem finding.Remediation, inc Incident, info userInfo, partition string, leak Leak, ks KeyState, now time.Time) finding.Remediation {
	action := finding.ActionReminded
	if ks.Warned.IsZero() {
		action = finding.ActionWarned
		ks.Warned, ks.Due = now, now.Add(r.opts.Grace)
	} else {
		ks.Reminded = now
	}
	rem.Action, rem.Warned, rem.Due = action, stamp(ks.Warned), stamp(ks.Due)
	rem = r.tell(ctx, keyID, rem, inc, partition, leak, info.Tags, ks.Due)
	if len(rem.Notified) == 0 {
		rem.Action = finding.ActionFailed
		if rem.Error == "" {
			rem.Error = "the owner could not be warned"
		}
		return rem
	}
	err := r.opts.State.Put(keyID, ks)
	if err := r.step(keyID, rem.Account, rem.User, action, err); err != nil {
		rem.Action, rem.Error = finding.ActionFailed, err.Error()
	}
	return rem
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// tell sends the owner a notice of rem (due, when containment is still to
// come), by webhook and by mail, and records where it went. A notice that
// fails is recorded in the audit log and in rem's error.
func (r *Remediator) tell(ctx context.Context, keyID string, rem finding.Remediation, inc Incident, partition string, leak Leak, tags map[string]string, due time.Time) finding.Remediation {
	n := notify.Notice{
		KeyID: keyID, Account: rem.Account, User: rem.User, Partition: partition,
		Repository: leak.Repository, Commit: leak.Commit, Path: leak.Path, Line: leak.Line, Link: leak.Link,
		ExposedSince: stamp(leak.Since), Action: rem.Action, Steps: rem.Steps, Due: due,
	}
	if inc.Usage != nil {
		n.LastUsed = inc.Usage.LastUsed
	}
	switch {
	case inc.UsedAfterExposure.IsZero():
	case inc.UsedAfterExposure.Value == nil:
		n.UsedAfterExposure = "unknown"
	case *inc.UsedAfterExposure.Value:
		n.UsedAfterExposure = "yes"
	default:
		n.UsedAfterExposure = "no"
	}
	var failures []string
	if r.opts.Webhook != nil {
		err := r.opts.Webhook.Notify(ctx, n)
		if r.step(keyID, rem.Account, rem.User, "notify-webhook", err) == nil {
			rem.Notified = append(rem.Notified, "webhook")
		} else {
			failures = append(failures, "webhook: "+describe(err, r.secrets))
		}
	}
	if r.opts.Mail != nil {
		if to := recipient(tags, leak.Email, r.opts.NotifyEmail); to != "" {
			n.To = []string{to}
			err := r.opts.Mail.Notify(ctx, n)
			if r.step(keyID, rem.Account, rem.User, "notify-email", err) == nil {
				rem.Notified = append(rem.Notified, "email:"+to)
			} else {
				failures = append(failures, "email: "+describe(err, r.secrets))
			}
		} else {
			failures = append(failures, "email: no recipient (no email or owner tag on the user, no valid author email, no --notify-email)")
		}
	}
	if len(failures) > 0 {
		rem.Note = strings.TrimSpace(rem.Note + " notice not sent: " + strings.Join(failures, "; "))
	}
	return rem
}

// recipient is who is mailed about a key: the IAM user's email or owner
// tag, else the commit author, else the address given; each only when it
// is a bare, valid address.
func recipient(tags map[string]string, author, fallback string) string {
	for _, a := range []string{tags["email"], tags["owner"], author, fallback} {
		if addr, err := mail.ParseAddress(a); err == nil && addr.Name == "" && addr.Address == a && !strings.ContainsAny(a, "\r\n") {
			return a
		}
	}
	return ""
}

// quarantineUser attaches AWS's newest AWSCompromisedKeyQuarantine policy
// to the key's user, unless one is attached already.
func (r *Remediator) quarantineUser(ctx context.Context, c *iamClient, keyID string, rem finding.Remediation, info userInfo, partition string) finding.Remediation {
	attached, err := r.attachedQuarantine(ctx, c.client, keyID, rem)
	if err != nil {
		rem.Action, rem.Error = finding.ActionFailed, err.Error()
		return rem
	}
	if attached != "" {
		rem.Policy = attached
		return withStep(rem, finding.ActionAlreadyQuarantined)
	}
	policy, err := r.quarantinePolicy(ctx, c.client, keyID, rem, partition)
	if err != nil {
		rem.Action, rem.Error = finding.ActionFailed, err.Error()
		return rem
	}
	cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	_, err = c.client.AttachUserPolicy(cctx, &iam.AttachUserPolicyInput{UserName: awssdk.String(rem.User), PolicyArn: awssdk.String(policy)})
	cancel()
	if err := r.record(AuditEntry{KeyID: keyID, Account: rem.Account, User: rem.User, Action: "quarantine", Policy: policy}, err); err != nil {
		rem.Action, rem.Error = finding.ActionFailed, "iam:AttachUserPolicy: "+err.Error()
		return rem
	}
	rem.Policy = policy
	return withStep(rem, finding.ActionQuarantined)
}

// maxPolicyPages bounds the pages of a policy listing: AWS has some 1,400
// managed policies, 2 pages of 1,000.
const maxPolicyPages = 20

// attachedQuarantine returns the quarantine policy attached to the key's
// user, "" if none.
func (r *Remediator) attachedQuarantine(ctx context.Context, client *iam.Client, keyID string, rem finding.Remediation) (string, error) {
	found := ""
	var marker *string
	err := func() error {
		for page := 1; page <= maxPolicyPages; page++ {
			cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
			out, err := client.ListAttachedUserPolicies(cctx, &iam.ListAttachedUserPoliciesInput{UserName: awssdk.String(rem.User), Marker: marker})
			cancel()
			if err != nil {
				return err
			}
			for _, p := range out.AttachedPolicies {
				if a := awssdk.ToString(p.PolicyArn); quarantineARNRe.MatchString(a) {
					found = a
					return nil
				}
			}
			if !out.IsTruncated {
				return nil
			}
			marker = out.Marker
		}
		return ownError("the attached policies never end: answer not believed")
	}()
	if err := r.step(keyID, rem.Account, rem.User, "check-quarantine", err); err != nil {
		return "", fmt.Errorf("iam:ListAttachedUserPolicies: %w", err)
	}
	return found, nil
}

// quarantinePolicy finds AWS's newest quarantine policy in the partition
// (iam:ListPolicies, AWS scope), once per partition and account: AWS
// publishes new versions (V2, V3, ...) and none is written in keysweep.
func (r *Remediator) quarantinePolicy(ctx context.Context, client *iam.Client, keyID string, rem finding.Remediation, partition string) (string, error) {
	id := partition + "/" + rem.Account
	if p, ok := r.quarantine[id]; ok {
		return p, nil
	}
	best, bestVersion := "", 0
	var marker *string
	err := func() error {
		for page := 1; page <= maxPolicyPages; page++ {
			cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
			out, err := client.ListPolicies(cctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: awssdk.Int32(1000), Marker: marker})
			cancel()
			if err != nil {
				return err
			}
			for _, p := range out.Policies {
				m := quarantineRe.FindStringSubmatch(awssdk.ToString(p.PolicyName))
				a := awssdk.ToString(p.Arn)
				if m == nil || !quarantineARNRe.MatchString(a) || !strings.HasPrefix(a, "arn:"+partition+":") {
					continue
				}
				v := 1
				if m[1] != "" {
					v, _ = strconv.Atoi(m[1])
				}
				if v > bestVersion {
					best, bestVersion = a, v
				}
			}
			if !out.IsTruncated {
				if best == "" {
					return ownError("AWS lists no AWSCompromisedKeyQuarantine policy in partition " + partition)
				}
				return nil
			}
			marker = out.Marker
		}
		return ownError("the policy listing never ends: answer not believed")
	}()
	if err := r.record(AuditEntry{KeyID: keyID, Account: rem.Account, User: rem.User, Action: "find-quarantine-policy", Policy: best}, err); err != nil {
		return "", fmt.Errorf("iam:ListPolicies: %w", err)
	}
	r.quarantine[id] = best
	return best, nil
}
