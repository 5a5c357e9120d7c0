// Package finding holds keysweep's one Finding: what every source produces,
// what verification and remediation fill in, and what every report writes
// and reads back (the JSON output contract). It owns a secret's identity:
// its fingerprint, the key that makes two findings one, and redaction.
// It is the lowest layer besides the detectors.
package finding

import (
	"errors"
	"strconv"
	"strings"
)

// Finding is a secret and where it was introduced. Secret holds the raw
// value until the finding is written: report redacts it unless asked not
// to. A finding read back from a report holds what the report held.
type Finding struct {
	// Repository names the repository of an organization sweep
	// (owner/name); empty for a single repository.
	Repository  string `json:"repository,omitempty"`
	RuleID      string `json:"rule_id"`
	Description string `json:"description"`
	Secret      string `json:"secret"`
	Commit      string `json:"commit"`
	Path        string `json:"path"`
	// Line and Column are 1-based; Column counts characters (code points).
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Author string `json:"author"`
	Email  string `json:"email"`
	// Date is the author date of Commit, RFC 3339.
	Date string `json:"date"`
	// Subject is the first line of Commit's message.
	Subject string `json:"subject,omitempty"`
	// Snippet is the line of the finding around it, clipped: the secret
	// (Match) is redacted with the rest of the finding.
	Snippet *Snippet `json:"snippet,omitempty"`
	// Fingerprint is empty until a Fingerprinter fills it in (filters
	// and reports do, when they need it).
	Fingerprint string `json:"fingerprint"`
	Blob        string `json:"blob,omitempty"`
	// KeyID and AccountID are set for AWS findings; AccountID is decoded
	// offline from the key id, "" for keys that carry none, and nil when
	// there is no key id.
	KeyID        string  `json:"key_id,omitempty"`
	AccountID    *string `json:"account_id,omitempty"`
	SessionToken string  `json:"session_token,omitempty"`
	// Canary marks a key of a canary-token account: never send it to AWS.
	Canary bool `json:"canary,omitempty"`
	// Decoded says how the secret was decoded from the text at the
	// location: "base64", "hex", "percent", "json-escape", "xml-entity",
	// "json" (a value of a structured file), chained with "+".
	Decoded string `json:"decoded,omitempty"`
	// Context is what the rule read beside the secret that verification
	// needs, not secret itself: "account" (an Azure storage account's
	// name), "endpoint_suffix".
	Context map[string]string `json:"context,omitempty"`
	// Source says what the secret was found in: SourceBlob (a file's
	// content in git), SourceFile (a file on disk), SourceCommitMessage or
	// SourceTagMessage (Path is then empty, Commit is the commit or tag,
	// and Line counts lines of the message). Reports written before it
	// existed have none: a blob. A sweep's --issues adds SourceIssue (an
	// issue's or a pull request's body), SourceIssueComment,
	// SourcePRReviewComment and SourcePRReview: Commit is then empty, Path
	// names the item in the repository as its address does below the
	// repository's page ("issues/12", "pull/7", "issues/12#issuecomment-345",
	// "pull/7#discussion_r678", "pull/7#pullrequestreview-99"), Line counts
	// lines of the text, Author is the login that wrote it, and Date when it
	// was created.
	Source string `json:"source,omitempty"`
	// URL is the address of the item a secret outside git was found in
	// (the issue, or the comment's anchor), as the forge gave it.
	URL string `json:"url,omitempty"`
	// Reach says how the commit or blob is reached when no ref reaches
	// it: ReachReflog (only a reflog entry does: a commit reset or rebased
	// away) or ReachUnreachable (nothing does: a dangling object a history
	// rewrite left behind, Commit empty for a blob no commit names).
	Reach string `json:"reach,omitempty"`
	// ShallowBoundary marks a finding at a commit where a shallow clone's
	// history stops: the secret may be older, in history not fetched.
	ShallowBoundary bool `json:"shallow_boundary,omitempty"`
	// TestPath marks a path under a test, testdata or fixtures directory
	// (or a test file).
	TestPath bool `json:"test_path,omitempty"`

	// Exposure says, for an AWS key, since when history has held it and
	// whether the default branch still does.
	Exposure *Exposure `json:"exposure,omitempty"`
	// Public says, for an AWS key an organization sweep found, whether
	// the repository is public: a key there is to be taken as compromised.
	Public *bool `json:"public,omitempty"`

	// Verification and Remediation are filled in after the scan, for AWS
	// findings, when the user asks for them.
	Verification *Verification `json:"verification,omitempty"`

	// Usage, UsedAfterExposure, CloudTrail and BlastRadius are the
	// incident response of a live key of an own account, read with the
	// user's credentials (never the leaked key's).
	Usage *Usage `json:"usage,omitempty"`
	// UsedAfterExposure says whether the key was used after Exposure.Since:
	// null when it was never used or nothing tells; not written when
	// usage was not looked up.
	UsedAfterExposure Maybe        `json:"used_after_exposure,omitzero"`
	CloudTrail        *CloudTrail  `json:"cloudtrail,omitempty"`
	BlastRadius       *BlastRadius `json:"blast_radius,omitempty"`

	Remediation *Remediation `json:"remediation,omitempty"`

	// Marked is set, when the scan keeps them, for a secret whose line
	// carries the keysweep:allow marker. It is never written.
	Marked bool `json:"-"`
}

// Sources of findings.
const (
	SourceBlob          = "blob"
	SourceFile          = "file"
	SourceCommitMessage = "commit-message"
	SourceTagMessage    = "tag-message"
	// The texts of a forge's discussions (a sweep's --issues): an issue's
	// or a pull request's body, a comment on either, a comment on a pull
	// request's diff, and a pull request review's body.
	SourceIssue           = "issue"
	SourceIssueComment    = "issue-comment"
	SourcePRReviewComment = "pr-review-comment"
	SourcePRReview        = "pr-review"
	// What a sweep reads beside a repository's code: its wiki (a git
	// repository of its own), the gists of an organization's members,
	// and the logs of its workflow runs.
	SourceWiki       = "wiki"
	SourceGist       = "gist"
	SourceActionsLog = "actions-log"
)

// How findings are reached when no ref reaches them.
const (
	ReachReflog      = "reflog"
	ReachUnreachable = "unreachable"
)

// InMessage reports whether the secret was found in a commit's or a tag's
// message rather than in a file.
func (f *Finding) InMessage() bool {
	return f.Source == SourceCommitMessage || f.Source == SourceTagMessage
}

// Account returns the AWS account decoded from the key id, or "".
func (f *Finding) Account() string {
	if f.AccountID == nil {
		return ""
	}
	return *f.AccountID
}

// Identity is what makes two findings the same secret, wherever they are.
func (f *Finding) Identity() string { return f.RuleID + "\x00" + f.KeyID + "\x00" + f.Secret }

// Key is what makes two findings of reports the same: the same
// repository, secret (by fingerprint), path and commit. Merging shards
// keeps one finding per key.
func (f *Finding) Key() string {
	return f.Repository + "\x00" + f.Fingerprint + "\x00" + f.Path + "\x00" + f.Commit
}

// Location names where a finding is, for people: its path, or the
// message it is in.
func (f *Finding) Location() string {
	switch {
	case f.Source == SourceCommitMessage:
		return "commit message"
	case f.Source == SourceTagMessage:
		return "tag message"
	case f.Path == "" && f.Blob != "":
		return "blob " + f.Blob
	}
	return f.Path
}

// Snippet is a finding's line: what comes before the match on its line,
// the match (its first line), and what follows, each clipped.
type Snippet struct {
	Before string `json:"before"`
	Match  string `json:"match"`
	After  string `json:"after"`
}

// Exposure is how long a key has been exposed in a repository's history.
type Exposure struct {
	// Since is the author date (RFC 3339) of the oldest commit the scan
	// found the key in, Commit that commit.
	Since  string `json:"since"`
	Commit string `json:"commit"`
	// StillInHead says whether a file of the default branch's tip still
	// holds the key id: removing it is still to do. Null when that could
	// not be told (objects of HEAD's tree are missing).
	StillInHead *bool `json:"still_in_head"`
}

// Maybe is a yes, a no, or "cannot tell" (JSON null). Its zero value is
// "not asked", which a field tagged omitzero does not write.
type Maybe struct {
	Asked bool
	// Value is nil when the answer cannot be told.
	Value *bool
}

// Yes is the answer yes.
func Yes() Maybe { t := true; return Maybe{Asked: true, Value: &t} }

// No is the answer no.
func No() Maybe { f := false; return Maybe{Asked: true, Value: &f} }

// Unknown is the answer "cannot tell".
func Unknown() Maybe { return Maybe{Asked: true} }

// IsZero reports whether m was not asked.
func (m Maybe) IsZero() bool { return !m.Asked }

// True reports whether the answer is yes.
func (m Maybe) True() bool { return m.Value != nil && *m.Value }

// MarshalJSON writes true, false or null.
func (m Maybe) MarshalJSON() ([]byte, error) {
	switch {
	case m.Value == nil:
		return []byte("null"), nil
	case *m.Value:
		return []byte("true"), nil
	}
	return []byte("false"), nil
}

// UnmarshalJSON reads true, false or null.
func (m *Maybe) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*m = Unknown()
	case "true":
		*m = Yes()
	case "false":
		*m = No()
	default:
		return errors.New("want true, false or null")
	}
	return nil
}

// Usage is what IAM recorded of an access key's last use
// (iam:GetAccessKeyLastUsed).
type Usage struct {
	// LastUsed is RFC 3339, "" when the key was never used (or not since
	// IAM began tracking, April 2015).
	LastUsed string `json:"last_used"`
	Service  string `json:"service"`
	Region   string `json:"region"`
	// Note says what the record cannot tell, e.g. that the last use is
	// keysweep's own verification.
	Note string `json:"note,omitempty"`
}

// CloudTrail summarises the CloudTrail events an access key made
// (LookupEvents by AccessKeyId) from its exposure, at most 90 days back.
type CloudTrail struct {
	// From and To bound the lookup (RFC 3339). Clipped says the exposure
	// is older than the 90 days CloudTrail keeps: From is 90 days back.
	From    string `json:"from"`
	To      string `json:"to"`
	Clipped bool   `json:"clipped,omitempty"`
	// Regions are the regions looked in; Failed those that could not be
	// read whole (the summary then undercounts).
	Regions []string `json:"regions"`
	Failed  []string `json:"failed_regions,omitempty"`
	Events  int      `json:"events"`
	First   string   `json:"first,omitempty"`
	Last    string   `json:"last,omitempty"`
	// EventNames are the ten most frequent, most frequent first.
	EventNames   []Count  `json:"event_names"`
	EventRegions []string `json:"event_regions"`
	SourceIPs    []string `json:"source_ips"`
	UserAgents   []string `json:"user_agents"`
	// Unexpected counts the events outside --expected-regions, in
	// UnexpectedRegions.
	Unexpected        int      `json:"unexpected"`
	UnexpectedRegions []string `json:"unexpected_regions,omitempty"`
	// Own counts the events of keysweep's own verification
	// (sts:GetCallerIdentity with keysweep's user agent), left out of the
	// rest.
	Own   int    `json:"own_verification"`
	Error string `json:"error,omitempty"`
}

// Count is a name and how often it was seen.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// BlastRadius is what an IAM user's key can reach, read from its policies
// and iam:SimulatePrincipalPolicy. It is approximate: the simulation
// ignores resource policies and service control policies.
type BlastRadius struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
	// Policies are managed policies by ARN and inline ones as
	// "user/NAME" or "group/GROUP/NAME".
	Policies []string `json:"policies"`
	Boundary string   `json:"permissions_boundary,omitempty"`
	// Admin: every action on every resource is allowed (root keys are).
	Admin bool `json:"admin"`
	// Allowed and Denied split the high-impact actions simulated.
	Allowed     []string `json:"allowed"`
	Denied      []string `json:"denied"`
	Approximate bool     `json:"approximate"`
	Error       string   `json:"error,omitempty"`
}

// Verification statuses.
const (
	StatusVerified = "verified" // the key works: a live leak
	StatusInvalid  = "invalid"  // AWS rejected the key
	StatusUnknown  = "unknown"  // could not tell (network, throttling, partial key)
	StatusCanary   = "canary"   // a canary token: never sent
)

// Verification is what verification learned of a key. Every field is
// always written, so that consumers of the JSON see one shape.
type Verification struct {
	Status  string `json:"status"`
	Account string `json:"account"`
	ARN     string `json:"arn"`
	UserID  string `json:"user_id"`
	Error   string `json:"error"`
	// Partition is the AWS partition that answered (aws, aws-cn,
	// aws-us-gov), when one did.
	Partition string `json:"partition,omitempty"`
	// Provider names the service asked about a secret other than an AWS
	// key (github, slack, ...); Identity is what it said of the owner
	// ("login octocat"), Scopes what the secret may do.
	Provider string   `json:"provider,omitempty"`
	Identity string   `json:"identity,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// Checked is when the sweep last verified the secret (RFC 3339): a
	// nightly sweep verifies again what is older than --reverify-after.
	Checked string `json:"checked,omitempty"`
}

// Rank orders verification results by what they prove: a live key, then
// a rejected one, a canary, anything else, and no result at all.
func (v *Verification) Rank() int {
	if v == nil {
		return 0
	}
	switch v.Status {
	case StatusVerified:
		return 4
	case StatusInvalid:
		return 3
	case StatusCanary:
		return 2
	default:
		return 1
	}
}

// Remediation actions.
const (
	// ActionWouldDeactivate is the plan for a live key of an own account.
	ActionWouldDeactivate = "would-deactivate"
	// ActionDeactivated: the key was set Inactive with iam:UpdateAccessKey.
	ActionDeactivated = "deactivated"
	// ActionAlreadyInactive: the key was found inactive; nothing changed.
	ActionAlreadyInactive = "already-inactive"
	// ActionManual: the key cannot be deactivated through IAM (root user,
	// temporary credentials); Note says what to do.
	ActionManual = "manual"
	// ActionSkip: the key is not to be touched; Note says why.
	ActionSkip = "skip"
	// ActionFailed: a step failed; Error says which and why.
	ActionFailed = "failed"
	// ActionQuarantined: AWS's newest AWSCompromisedKeyQuarantine policy
	// was attached to the key's user; ActionAlreadyQuarantined: one was
	// attached already (AWS may have done it); ActionWouldQuarantine is
	// the plan.
	ActionQuarantined        = "quarantined"
	ActionAlreadyQuarantined = "already-quarantined"
	ActionWouldQuarantine    = "would-quarantine"
	// ActionWarned: the owner was told, containment is due at Due;
	// ActionReminded: told again, before Due; ActionWouldWarn is the plan.
	ActionWarned    = "warned"
	ActionReminded  = "reminded"
	ActionWouldWarn = "would-warn"
)

// Remediation is what was done, or would be done, about a key.
type Remediation struct {
	Action  string `json:"action"`
	Account string `json:"account"`
	User    string `json:"user"`
	Note    string `json:"note,omitempty"`
	Error   string `json:"error"`
	// Steps are the containment steps done or planned, in order, each an
	// action (quarantined, deactivated, would-quarantine, ...); Action is
	// the last, or failed.
	Steps []string `json:"steps,omitempty"`
	// Policy is the quarantine policy's ARN.
	Policy string `json:"policy,omitempty"`
	// Warned is when the owner was first warned, Due when the key is
	// contained if still active (RFC 3339), for a key given --grace.
	Warned string `json:"warned,omitempty"`
	Due    string `json:"due,omitempty"`
	// Notified are where notices went ("slack", "email:ADDRESS").
	Notified []string `json:"notified,omitempty"`
}

// Redact hides a secret, keeping what identifies its kind: the header of
// a private key, or a few leading characters of a long token.
func Redact(s string) string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		if i := strings.Index(s[5:], "-----"); i >= 0 {
			return s[:i+10] + redactedMark
		}
	}
	keep := 0
	switch {
	case len(s) >= 20:
		keep = 4
	case len(s) >= 12:
		keep = 2
	}
	return s[:keep] + redactedMark
}

const redactedMark = "*****"

// IsRedacted reports whether s has the shape Redact gives: what it kept
// of the secret (nothing, 2 or 4 characters, or a private key's header)
// and the mark. Such a value, read back from a report, tells no more
// than it did there.
func IsRedacted(s string) bool {
	kept, ok := strings.CutSuffix(s, redactedMark)
	if !ok {
		return false
	}
	if strings.HasPrefix(kept, "-----BEGIN") {
		return strings.HasSuffix(kept, "-----") && !strings.ContainsAny(kept, "\n*")
	}
	return (len(kept) == 0 || len(kept) == 2 || len(kept) == 4) && !strings.Contains(kept, "*")
}

// Redacted returns fs as written: secrets and session tokens redacted
// unless noRedact, in a copy (fs is left as it is). A value redacted
// already, read back from a report, is left as it was.
func Redacted(fs []Finding, noRedact bool) []Finding {
	out := make([]Finding, len(fs))
	copy(out, fs)
	if noRedact {
		return out
	}
	// A line may hold several secrets: each finding's snippet hides them
	// all, not only its own.
	onLine := map[string][]string{}
	for _, f := range fs {
		if f.Snippet != nil {
			k := lineKey(&f)
			onLine[k] = append(onLine[k], f.Secret, f.SessionToken)
		}
	}
	for i := range out {
		f := &out[i]
		if sn := f.Snippet; sn != nil {
			f.Snippet = redactSnippet(*sn, f, onLine[lineKey(f)])
		}
		for _, v := range []*string{&f.Secret, &f.SessionToken} {
			if !IsRedacted(*v) {
				*v = Redact(*v)
			}
		}
	}
	return out
}

// lineKey names the line a finding is on, in its blob or file.
func lineKey(f *Finding) string {
	return f.Blob + "\x00" + f.Commit + "\x00" + f.Path + "\x00" + f.Source + "\x00" + strconv.Itoa(f.Line)
}

// redactSnippet hides f's secrets in its snippet: the match (unless it is
// the key id, which is shown, as everywhere), and any copy before or after
// it of the secrets found on its line (f's secret and session token among
// them).
func redactSnippet(sn Snippet, f *Finding, secrets []string) *Snippet {
	if sn.Match != f.KeyID && !IsRedacted(sn.Match) {
		sn.Match = Redact(sn.Match)
	}
	for _, secret := range append([]string{f.Secret, f.SessionToken}, secrets...) {
		if len(secret) < 8 || IsRedacted(secret) {
			continue
		}
		sn.Before = strings.ReplaceAll(sn.Before, secret, Redact(secret))
		sn.After = strings.ReplaceAll(sn.After, secret, Redact(secret))
		// A copy the clip cut: the start of the secret ending what
		// follows, its end starting what precedes.
		for k := min(len(secret), len(sn.After)); k >= 8; k-- {
			if strings.HasSuffix(sn.After, secret[:k]) {
				sn.After = sn.After[:len(sn.After)-k] + Redact(secret[:k])
				break
			}
		}
		for k := min(len(secret), len(sn.Before)); k >= 8; k-- {
			if strings.HasPrefix(sn.Before, secret[len(secret)-k:]) {
				sn.Before = redactedMark + sn.Before[k:]
				break
			}
		}
	}
	return &sn
}

// testDirs are directory names that hold tests and their fixtures.
var testDirs = map[string]bool{
	"test": true, "tests": true, "testdata": true, "test-data": true, "test_data": true, "testing": true,
	"fixtures": true, "fixture": true, "__tests__": true, "__fixtures__": true, "spec": true, "specs": true,
	"testfixtures": true, "test-fixtures": true, "test_fixtures": true, "mocks": true, "e2e": true,
	"examples": true, "example": true,
}

// IsTestPath reports whether path is a test or fixture file, or lies
// under a directory of tests, fixtures or examples.
func IsTestPath(p string) bool {
	parts := strings.Split(p, "/")
	for _, d := range parts[:len(parts)-1] {
		if testDirs[strings.ToLower(d)] {
			return true
		}
	}
	base := strings.ToLower(parts[len(parts)-1])
	for _, suffix := range []string{"_test.go", "_test.py", "_spec.rb", "_test.rb", ".test.js", ".test.ts", ".spec.js", ".spec.ts", ".test.tsx", ".spec.tsx", "test.java", "tests.cs", "_test.exs"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	return strings.HasPrefix(base, "test_") && strings.HasSuffix(base, ".py") || strings.HasPrefix(base, "fixture")
}

// The outcomes every command maps to its exit code, whichever package
// ends the run.
var (
	// ErrFindings ends a run that reported findings, or refused a push for
	// them: exit code 1.
	ErrFindings = errors.New("findings reported")
	// ErrInterrupted ends a run cut short by Ctrl-C or SIGTERM: exit code
	// 2, with what was completed saved.
	ErrInterrupted = errors.New("interrupted")
)
