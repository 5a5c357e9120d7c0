package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keysweep/keysweep/finding"
)

// blastActions are the high-impact actions simulated, in the order
// BlastRadius lists them: taking over IAM, leaving the organization,
// spending money, reading and destroying data, blinding CloudTrail.
var blastActions = []string{
	"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:PassRole",
	"sts:AssumeRole", "organizations:LeaveOrganization", "ec2:RunInstances", "lambda:CreateFunction",
	"s3:GetObject", "s3:PutObject", "s3:DeleteBucket", "kms:Decrypt", "secretsmanager:GetSecretValue",
	"ssm:GetParameter", "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "dynamodb:Scan", "rds:DeleteDBInstance",
}

// What IAM answers about a user is read as hostile input (see scrub.go):
// names and ARNs are kept only in IAM's own character set, lists are
// capped a little above IAM's quotas, and paging stops after a few pages.
const (
	maxUserGroups       = 10 // IAM's limit of groups per user
	maxAttachedPolicies = 20 // IAM's highest quota of managed policies per user or group
	maxInlinePolicies   = 20 // IAM limits inline policies by size, which leaves room for about this many
	maxUserTags         = 50 // IAM's limit of tags per user
	maxListPages        = 5  // pages of any one list
	listPageItems       = 100
	// maxPolicyDocument bounds a policy document read: IAM's largest (a
	// managed policy) is 6,144 characters, and URL-encoding triples that
	// at most.
	maxPolicyDocument = 32 << 10
	maxARNLength      = 2048
)

var (
	iamNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	// managedPolicyARNRe matches a managed policy's ARN, AWS's or an account's,
	// with its path: the groups are the partition and the account. ARNs
	// are also held to IAM's 2,048 characters (maxARNLength).
	managedPolicyARNRe = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):iam::([0-9]{12}|aws):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}$`)
	// iamUserARNRe matches an IAM user's ARN: partition, account, name.
	iamUserARNRe    = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):iam::([0-9]{12}):user/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	quarantineARNRe = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::aws:policy/AWSCompromisedKeyQuarantine(?:V[0-9]{1,4})?$`)
	versionIDRe     = regexp.MustCompile(`^v[1-9][0-9]{0,5}$`)
	tagKeyRe        = regexp.MustCompile(`^[\p{L}\p{N} _.:/=+@-]{1,128}$`)
	tagValueRe      = regexp.MustCompile(`^[\p{L}\p{N} _.:/=+@-]{0,256}$`)
	errNotIAMUser   = ownError("the user's name or ARN is not in IAM's format: not read")
)

// userInfo is what readUser learned of an IAM user.
type userInfo struct {
	Radius *finding.BlastRadius
	Tags   map[string]string // the IAM user's tags (keysweep reads "email" and "owner")
	// Quarantined is the ARN of an AWSCompromisedKeyQuarantine* policy
	// attached to the user (or, failing that, to one of its groups), ""
	// if none.
	Quarantined string
}

// readUser reads user's groups, policies (attached and inline, of the
// user and its groups), permissions boundary and tags, then simulates
// blastActions on the user (iam:SimulatePrincipalPolicy, PolicySourceArn
// userARN), with client, which acts with the user's own credentials and
// never with a leaked key. Policy documents are read only when the
// simulation allowed every action, to tell whether some policy grants
// every action on every resource (Admin); the first that does ends the
// reading.
//
// step is called after every AWS call with a short name of the call
// ("get-user", "list-groups", "list-attached-user-policies",
// "list-user-policies", "list-attached-group-policies",
// "list-group-policies", "simulate", "get-user-policy",
// "get-group-policy", "get-policy", "get-policy-version") and its error
// (nil, the SDK's, or an ownError for an answer not in AWS's format);
// when step returns an error, readUser stops and records it in
// Radius.Error, and when it returns nil after a failed call, readUser
// goes on without what that call would have told. A nil step stops at
// the first failure. Each call gets timeout (30s when not positive).
//
// A failed read never panics and never returns a nil Radius.
func readUser(ctx context.Context, client *iam.Client, user, userARN string, timeout time.Duration, step func(call string, err error) error) userInfo {
	info := userInfo{
		Radius: &finding.BlastRadius{User: user, Groups: []string{}, Policies: []string{}, Allowed: []string{}, Denied: []string{}, Approximate: true},
		Tags:   map[string]string{},
	}
	m := iamUserARNRe.FindStringSubmatch(userARN)
	if len(userARN) > maxARNLength || !userNameRe.MatchString(user) || m == nil || m[3] != user {
		info.Radius.Error = string(errNotIAMUser)
		return info
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if step == nil {
		step = func(call string, err error) error { return err }
	}
	if client == nil {
		info.Radius.Error = "no IAM client"
		return info
	}
	r := &userReader{ctx: ctx, client: client, user: user, userARN: userARN, partition: m[1], account: m[2],
		timeout: timeout, step: step, info: &info}
	r.read()
	if r.stopped != "" {
		info.Radius.Error = r.stopped
	}
	return info
}

// readUserAPIs are the IAM operations behind the calls' short names.
var readUserAPIs = map[string]string{
	"get-user":                     "iam:GetUser",
	"list-groups":                  "iam:ListGroupsForUser",
	"list-attached-user-policies":  "iam:ListAttachedUserPolicies",
	"list-user-policies":           "iam:ListUserPolicies",
	"list-attached-group-policies": "iam:ListAttachedGroupPolicies",
	"list-group-policies":          "iam:ListGroupPolicies",
	"simulate":                     "iam:SimulatePrincipalPolicy",
	"get-user-policy":              "iam:GetUserPolicy",
	"get-group-policy":             "iam:GetGroupPolicy",
	"get-policy":                   "iam:GetPolicy",
	"get-policy-version":           "iam:GetPolicyVersion",
}

type userReader struct {
	ctx                context.Context
	client             *iam.Client
	user, userARN      string
	partition, account string
	timeout            time.Duration
	step               func(call string, err error) error
	info               *userInfo
	// stopped is why the read stopped ("" while it goes on): step
	// refused to go on after a call.
	stopped                     string
	userManaged, groupManaged   []string            // managed policy ARNs, of the user and of its groups
	userInline                  []string            // inline policy names of the user
	groupInline                 map[string][]string // by group
	seenGroups, seenPolicyNames map[string]bool
}

// call runs one AWS call with the timeout and reports it to step, which
// may stop the read; it reports whether the call worked and the read
// goes on. Once stopped, no call is made.
func (r *userReader) call(name string, f func(ctx context.Context) error) bool {
	if r.stopped != "" {
		return false
	}
	cctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	err := f(cctx)
	cancel()
	if serr := r.step(name, err); serr != nil {
		r.stopped = fmt.Sprintf("%s: %s", readUserAPIs[name], blastStepError(serr))
		return false
	}
	return err == nil
}

// blastStepError is err's message, or describe's words for an error of the SDK
// (whose message may hold what the endpoint wrote).
func blastStepError(err error) string {
	var own ownError
	if errors.As(err, &own) {
		return string(own)
	}
	return describe(err, nil)
}

func (r *userReader) read() {
	r.seenGroups, r.seenPolicyNames, r.groupInline = map[string]bool{}, map[string]bool{}, map[string][]string{}
	r.getUser()
	r.listGroups()
	r.userManaged = r.listAttached("list-attached-user-policies", func(ctx context.Context, marker *string) (*iamPage[types.AttachedPolicy], error) {
		out, err := r.client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: &r.user, Marker: marker, MaxItems: awssdk.Int32(listPageItems)})
		if err != nil {
			return nil, err
		}
		return &iamPage[types.AttachedPolicy]{out.AttachedPolicies, out.IsTruncated, out.Marker}, nil
	})
	r.userInline = r.listInline("list-user-policies", func(ctx context.Context, marker *string) (*iamPage[string], error) {
		out, err := r.client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: &r.user, Marker: marker, MaxItems: awssdk.Int32(listPageItems)})
		if err != nil {
			return nil, err
		}
		return &iamPage[string]{out.PolicyNames, out.IsTruncated, out.Marker}, nil
	})
	r.addManaged(r.userManaged)
	for _, name := range r.userInline {
		r.addPolicy("user/" + name)
	}
	for _, g := range r.info.Radius.Groups {
		if r.stopped != "" {
			return
		}
		managed := r.listAttached("list-attached-group-policies", func(ctx context.Context, marker *string) (*iamPage[types.AttachedPolicy], error) {
			out, err := r.client.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: &g, Marker: marker, MaxItems: awssdk.Int32(listPageItems)})
			if err != nil {
				return nil, err
			}
			return &iamPage[types.AttachedPolicy]{out.AttachedPolicies, out.IsTruncated, out.Marker}, nil
		})
		inline := r.listInline("list-group-policies", func(ctx context.Context, marker *string) (*iamPage[string], error) {
			out, err := r.client.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: &g, Marker: marker, MaxItems: awssdk.Int32(listPageItems)})
			if err != nil {
				return nil, err
			}
			return &iamPage[string]{out.PolicyNames, out.IsTruncated, out.Marker}, nil
		})
		r.groupManaged = append(r.groupManaged, managed...)
		r.addManaged(managed)
		r.groupInline[g] = inline
		for _, name := range inline {
			r.addPolicy("group/" + g + "/" + name)
		}
	}
	r.info.Quarantined = attachedQuarantine(r.userManaged)
	if r.info.Quarantined == "" {
		r.info.Quarantined = attachedQuarantine(r.groupManaged)
	}
	if r.stopped != "" {
		return
	}
	if r.simulate() && r.grantsEverything() {
		r.info.Radius.Admin = true
	}
}

// addPolicy lists a policy once in Radius.Policies.
func (r *userReader) addPolicy(name string) {
	if !r.seenPolicyNames[name] {
		r.seenPolicyNames[name] = true
		r.info.Radius.Policies = append(r.info.Radius.Policies, name)
	}
}

func (r *userReader) addManaged(arns []string) {
	for _, a := range arns {
		r.addPolicy(a)
	}
}

func attachedQuarantine(arns []string) string {
	for _, a := range arns {
		if quarantineARNRe.MatchString(a) {
			return a
		}
	}
	return ""
}

func (r *userReader) getUser() {
	var out *iam.GetUserOutput
	ok := r.call("get-user", func(ctx context.Context) (err error) {
		out, err = r.client.GetUser(ctx, &iam.GetUserInput{UserName: &r.user})
		if err == nil && out.User == nil {
			err = ownError("no user in the answer")
		}
		return err
	})
	if !ok {
		return
	}
	if b := out.User.PermissionsBoundary; b != nil {
		if arn := awssdk.ToString(b.PermissionsBoundaryArn); r.ownPolicy(arn) {
			r.info.Radius.Boundary = arn
		}
	}
	for _, t := range out.User.Tags {
		k, v := awssdk.ToString(t.Key), awssdk.ToString(t.Value)
		if len(r.info.Tags) >= maxUserTags {
			break
		}
		if tagKeyRe.MatchString(k) && tagValueRe.MatchString(v) {
			r.info.Tags[k] = v
		}
	}
}

// ownPolicy reports whether arn is a managed policy's ARN that the user
// can have: AWS's or its account's, in its partition.
func (r *userReader) ownPolicy(arn string) bool {
	if len(arn) > maxARNLength {
		return false
	}
	m := managedPolicyARNRe.FindStringSubmatch(arn)
	return m != nil && m[1] == r.partition && (m[2] == "aws" || m[2] == r.account)
}

// iamPage is one page of an IAM list.
type iamPage[T any] struct {
	items     []T
	truncated bool
	marker    *string
}

// paginateIAM calls next for page after page, at most maxListPages, handing
// each page's items to keep until keep says it has enough.
func paginateIAM[T any](r *userReader, name string, next func(ctx context.Context, marker *string) (*iamPage[T], error), keep func(T) bool) {
	var marker *string
	for range maxListPages {
		var page *iamPage[T]
		ok := r.call(name, func(ctx context.Context) (err error) {
			page, err = next(ctx, marker)
			return err
		})
		if !ok {
			return
		}
		for _, item := range page.items {
			if !keep(item) {
				return
			}
		}
		if !page.truncated || awssdk.ToString(page.marker) == "" {
			return
		}
		marker = page.marker
	}
}

func (r *userReader) listGroups() {
	paginateIAM(r, "list-groups", func(ctx context.Context, marker *string) (*iamPage[types.Group], error) {
		out, err := r.client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: &r.user, Marker: marker, MaxItems: awssdk.Int32(listPageItems)})
		if err != nil {
			return nil, err
		}
		return &iamPage[types.Group]{out.Groups, out.IsTruncated, out.Marker}, nil
	}, func(g types.Group) bool {
		name := awssdk.ToString(g.GroupName)
		if iamNameRe.MatchString(name) && !r.seenGroups[name] {
			r.seenGroups[name] = true
			r.info.Radius.Groups = append(r.info.Radius.Groups, name)
		}
		return len(r.info.Radius.Groups) < maxUserGroups
	})
}

func (r *userReader) listAttached(name string, next func(ctx context.Context, marker *string) (*iamPage[types.AttachedPolicy], error)) []string {
	var arns []string
	paginateIAM(r, name, next, func(p types.AttachedPolicy) bool {
		if arn := awssdk.ToString(p.PolicyArn); r.ownPolicy(arn) && !slices.Contains(arns, arn) {
			arns = append(arns, arn)
		}
		return len(arns) < maxAttachedPolicies
	})
	return arns
}

func (r *userReader) listInline(name string, next func(ctx context.Context, marker *string) (*iamPage[string], error)) []string {
	var names []string
	paginateIAM(r, name, next, func(n string) bool {
		if iamNameRe.MatchString(n) && !slices.Contains(names, n) {
			names = append(names, n)
		}
		return len(names) < maxInlinePolicies
	})
	return names
}

// simulate asks IAM to decide blastActions for the user, and fills in
// Allowed and Denied; it reports whether every action was allowed.
func (r *userReader) simulate() bool {
	decided := map[string]string{}
	answered := false
	paginateIAM(r, "simulate", func(ctx context.Context, marker *string) (*iamPage[types.EvaluationResult], error) {
		out, err := r.client.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: &r.userARN, ActionNames: blastActions, Marker: marker, MaxItems: awssdk.Int32(listPageItems),
		})
		if err != nil {
			return nil, err
		}
		answered = true
		return &iamPage[types.EvaluationResult]{out.EvaluationResults, out.IsTruncated, out.Marker}, nil
	}, func(e types.EvaluationResult) bool {
		// Only the actions asked about, each once; the most restrictive
		// decision wins when an answer repeats one.
		a := awssdk.ToString(e.EvalActionName)
		if !slices.Contains(blastActions, a) {
			return true
		}
		switch d := string(e.EvalDecision); {
		case d == string(types.PolicyEvaluationDecisionTypeAllowed) && decided[a] == "":
			decided[a] = d
		case d == string(types.PolicyEvaluationDecisionTypeExplicitDeny), d == string(types.PolicyEvaluationDecisionTypeImplicitDeny):
			decided[a] = "denied"
		}
		return true
	})
	if r.stopped != "" {
		return false
	}
	all := true
	for _, a := range blastActions {
		switch decided[a] {
		case string(types.PolicyEvaluationDecisionTypeAllowed):
			r.info.Radius.Allowed = append(r.info.Radius.Allowed, a)
		case "denied":
			r.info.Radius.Denied = append(r.info.Radius.Denied, a)
		default:
			all = false
		}
	}
	if answered && len(r.info.Radius.Allowed)+len(r.info.Radius.Denied) < len(blastActions) {
		r.info.Radius.Error = "the simulation did not decide every action"
	}
	return all && len(r.info.Radius.Denied) == 0
}

// grantsEverything reads the user's policy documents, inline first, until
// one allows every action on every resource.
func (r *userReader) grantsEverything() bool {
	for _, name := range r.userInline {
		var out *iam.GetUserPolicyOutput
		if r.call("get-user-policy", func(ctx context.Context) (err error) {
			out, err = r.client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &r.user, PolicyName: awssdk.String(name)})
			return err
		}) && allowsEverything(awssdk.ToString(out.PolicyDocument)) {
			return true
		}
	}
	for _, g := range r.info.Radius.Groups {
		for _, name := range r.groupInline[g] {
			var out *iam.GetGroupPolicyOutput
			if r.call("get-group-policy", func(ctx context.Context) (err error) {
				out, err = r.client.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: awssdk.String(g), PolicyName: awssdk.String(name)})
				return err
			}) && allowsEverything(awssdk.ToString(out.PolicyDocument)) {
				return true
			}
		}
	}
	seen := map[string]bool{}
	for _, arn := range append(slices.Clone(r.userManaged), r.groupManaged...) {
		if seen[arn] {
			continue
		}
		seen[arn] = true
		if r.managedGrantsAll(arn) {
			return true
		}
	}
	return false
}

// managedGrantsAll reads the default version of the managed policy arn
// (iam:GetPolicy, then iam:GetPolicyVersion).
func (r *userReader) managedGrantsAll(arn string) bool {
	var version string
	if !r.call("get-policy", func(ctx context.Context) error {
		out, err := r.client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: awssdk.String(arn)})
		if err != nil {
			return err
		}
		if out.Policy == nil || !versionIDRe.MatchString(awssdk.ToString(out.Policy.DefaultVersionId)) {
			return ownError("no default version id in AWS's format in the answer")
		}
		version = *out.Policy.DefaultVersionId
		return nil
	}) {
		return false
	}
	var doc string
	if !r.call("get-policy-version", func(ctx context.Context) error {
		out, err := r.client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: awssdk.String(arn), VersionId: awssdk.String(version)})
		if err != nil {
			return err
		}
		if out.PolicyVersion == nil {
			return ownError("no policy version in the answer")
		}
		doc = awssdk.ToString(out.PolicyVersion.Document)
		return nil
	}) {
		return false
	}
	return allowsEverything(doc)
}

// allowsEverything reports whether a policy document, URL-encoded as IAM
// answers it, has an unconditional Allow of every action ("*" or "*:*")
// on every resource ("*"). A document that does not decode grants
// nothing here.
func allowsEverything(encoded string) bool {
	if len(encoded) > maxPolicyDocument {
		return false
	}
	doc, err := url.PathUnescape(encoded)
	if err != nil {
		return false
	}
	var top struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &top) != nil {
		return false
	}
	var statements []json.RawMessage
	if json.Unmarshal(top.Statement, &statements) != nil {
		statements = []json.RawMessage{top.Statement}
	}
	for _, raw := range statements {
		var st struct {
			Effect    string
			Action    json.RawMessage
			Resource  json.RawMessage
			Condition json.RawMessage
		}
		if json.Unmarshal(raw, &st) != nil || st.Effect != "Allow" || len(st.Condition) > 0 {
			continue
		}
		if slices.ContainsFunc(policyStrings(st.Action), func(a string) bool { return a == "*" || a == "*:*" }) &&
			slices.Contains(policyStrings(st.Resource), "*") {
			return true
		}
	}
	return false
}

// policyStrings reads a policy element that is a string or an array of
// them; nil when it is neither.
func policyStrings(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}
