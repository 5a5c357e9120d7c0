package awstest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const testAccount = "111122223333"

func TestEvaluate(t *testing.T) {
	t.Parallel()
	const (
		admin    = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
		s3Only   = `{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}`
		denyIAM  = `{"Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
		notIAM   = `{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`
		bucket   = `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
		denyData = `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::data/*"}]}`
		denyAll  = `{"Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::public/*"}]}`
		getQ     = `{"Statement":[{"Effect":"Allow","Action":"s3:Get?bject","Resource":"*"}]}`
		condOK   = `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`
		condDeny = `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`
		condNull = `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}]}`
		condIP   = `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`
	)
	tests := []struct {
		name             string
		identity         []string
		boundary         string
		action, resource string
		want             string
	}{
		{"no policy", nil, "", "s3:GetObject", "*", decisionImplicitDeny},
		{"admin", []string{admin}, "", "iam:CreateUser", "*", decisionAllowed},
		{"action case ignored", []string{s3Only}, "", "S3:getobject", "*", decisionAllowed},
		{"other service", []string{s3Only}, "", "ec2:RunInstances", "*", decisionImplicitDeny},
		{"deny wins over allow", []string{admin, denyIAM}, "", "iam:CreateUser", "*", decisionExplicitDeny},
		{"deny of another service", []string{admin, denyIAM}, "", "s3:PutObject", "*", decisionAllowed},
		{"boundary limits", []string{admin}, s3Only, "iam:CreateUser", "*", decisionImplicitDeny},
		{"boundary lets through", []string{admin}, s3Only, "s3:DeleteBucket", "*", decisionAllowed},
		{"boundary alone grants nothing", nil, admin, "s3:GetObject", "*", decisionImplicitDeny},
		{"deny in boundary", []string{admin}, denyIAM, "iam:PassRole", "*", decisionExplicitDeny},
		{"NotAction allows the rest", []string{notIAM}, "", "sts:AssumeRole", "*", decisionAllowed},
		{"NotAction excludes", []string{notIAM}, "", "iam:CreateAccessKey", "*", decisionImplicitDeny},
		{"NotAction excludes, any case", []string{notIAM}, "", "Organizations:LeaveOrganization", "*", decisionImplicitDeny},
		{"one bucket, any resource", []string{bucket}, "", "s3:GetObject", "*", decisionAllowed},
		{"one bucket, that bucket", []string{bucket}, "", "s3:GetObject", "arn:aws:s3:::data/x.csv", decisionAllowed},
		{"one bucket, another", []string{bucket}, "", "s3:GetObject", "arn:aws:s3:::other/x.csv", decisionImplicitDeny},
		{"resource case matters", []string{bucket}, "", "s3:GetObject", "arn:aws:s3:::DATA/x.csv", decisionImplicitDeny},
		{"deny of some resources leaves the rest", []string{admin, denyData}, "", "s3:GetObject", "*", decisionAllowed},
		{"deny of some resources, one of them", []string{admin, denyData}, "", "s3:GetObject", "arn:aws:s3:::data/a", decisionExplicitDeny},
		{"deny with NotResource, outside", []string{admin, denyAll}, "", "s3:GetObject", "arn:aws:s3:::data/a", decisionExplicitDeny},
		{"deny with NotResource, inside", []string{admin, denyAll}, "", "s3:GetObject", "arn:aws:s3:::public/a", decisionAllowed},
		{"question mark", []string{getQ}, "", "s3:GetObject", "*", decisionAllowed},
		{"question mark is one character", []string{getQ}, "", "s3:GetObjects", "*", decisionImplicitDeny},
		{"conditional allow grants nothing without context", []string{condOK}, "", "s3:GetObject", "*", decisionImplicitDeny},
		{"IfExists deny holds without context", []string{admin, condDeny}, "", "s3:GetObject", "*", decisionExplicitDeny},
		{"Null true deny holds without context", []string{admin, condNull}, "", "s3:GetObject", "*", decisionExplicitDeny},
		{"conditional deny denies nothing without context", []string{admin, condIP}, "", "s3:GetObject", "*", decisionAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var identity []*policy
			for _, doc := range tt.identity {
				identity = append(identity, mustPolicyDoc(t, doc))
			}
			var boundary *policy
			if tt.boundary != "" {
				boundary = mustPolicyDoc(t, tt.boundary)
			}
			if got := evaluate(identity, boundary, tt.action, tt.resource); got != tt.want {
				t.Errorf("evaluate(%s on %s) = %s, want %s", tt.action, tt.resource, got, tt.want)
			}
		})
	}
}

func mustPolicyDoc(t *testing.T, doc string) *policy {
	t.Helper()
	p, err := parsePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParsePolicyRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"not JSON", `{`, "policy document"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"unknown key", `{"Statement":[],"Extra":1}`, `unknown key "Extra"`},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "neither Allow nor Deny"},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "no Action"},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"*"}}`, "no Resource"},
		{"both action kinds", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}}`, "both Action and NotAction"},
		{"principal", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, `unexpected key "Principal"`},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "empty array"},
		{"action of the wrong type", `{"Statement":{"Effect":"Allow","Action":7,"Resource":"*"}}`, "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parsePolicy(tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parsePolicy: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"s3:Get*", "s3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*Object", "s3:GetObject", true},
		{"arn:aws:s3:::data/*", "arn:aws:s3:::data/x/y", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
	// Linear-ish, not exponential, on a pattern made to backtrack.
	if glob(strings.Repeat("a*", 50)+"b", strings.Repeat("a", 5000)) {
		t.Error("matched without b")
	}
}

// iamClient is an IAM client of the SDK that reaches only s, signing
// with creds, without retries.
func iamClient(s *Server, creds Credentials, region string) *iam.Client {
	return iam.New(iam.Options{
		Region:           region,
		BaseEndpoint:     awssdk.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(creds.KeyID, creds.Secret, creds.SessionToken),
		RetryMaxAttempts: 1,
	})
}

// apiFailure returns the HTTP status and AWS error code of err.
func apiFailure(err error) (int, string) {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	status, code := 0, ""
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	return status, code
}

func TestIAMUser(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	s.AddUserKey(testAccount, "ci/deploy", false)
	boundary := s.CreatePolicy(testAccount, "boundaries/s3-only", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	s.SetBoundary(testAccount, "ci/deploy", boundary)
	s.TagUser(testAccount, "ci/deploy", "owner", "team-a")
	s.TagUser(testAccount, "ci/deploy", "email", "a@example.com")
	s.AddUserToGroup(testAccount, "ci/deploy", "deployers")
	s.AttachUserPolicy(testAccount, "ci/deploy", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	s.AttachUserPolicy(testAccount, "ci/deploy", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	s.PutUserPolicy(testAccount, "ci/deploy", "inline", `{"Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`)
	client := iamClient(s, admin, "us-east-1")
	ctx := context.Background()

	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: awssdk.String("deploy")})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if got := []string{*u.UserName, *u.Path, *u.Arn, *u.PermissionsBoundary.PermissionsBoundaryArn, string(u.PermissionsBoundary.PermissionsBoundaryType)}; !slices.Equal(got, []string{
		"deploy", "/ci/", "arn:aws:iam::111122223333:user/ci/deploy", "arn:aws:iam::111122223333:policy/boundaries/s3-only", "PermissionsBoundaryPolicy",
	}) {
		t.Errorf("GetUser: %q", got)
	}
	if !strings.HasPrefix(*u.UserId, "AIDA") || u.CreateDate == nil {
		t.Errorf("GetUser: user id %q, create date %v", *u.UserId, u.CreateDate)
	}
	var tags []string
	for _, tg := range u.Tags {
		tags = append(tags, *tg.Key+"="+*tg.Value)
	}
	if diff := cmp.Diff([]string{"owner=team-a", "email=a@example.com"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	groups, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: awssdk.String("deploy")})
	if err != nil || len(groups.Groups) != 1 || *groups.Groups[0].GroupName != "deployers" || *groups.Groups[0].Arn != "arn:aws:iam::111122223333:group/deployers" {
		t.Errorf("ListGroupsForUser: %+v, %v", groups, err)
	}
	attached, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: awssdk.String("deploy")})
	if err != nil || len(attached.AttachedPolicies) != 1 || *attached.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/ReadOnlyAccess" || attached.IsTruncated {
		t.Errorf("ListAttachedUserPolicies: %+v, %v", attached, err)
	}
	inline, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: awssdk.String("deploy"), PolicyName: awssdk.String("inline")})
	if err != nil {
		t.Fatal(err)
	}
	// IAM answers documents URL-encoded (RFC 3986), and the SDK leaves
	// them so.
	if !strings.HasPrefix(*inline.PolicyDocument, "%7B%22Statement%22%3A") {
		t.Errorf("GetUserPolicy: document %q is not URL-encoded", *inline.PolicyDocument)
	}
	if doc, err := url.PathUnescape(*inline.PolicyDocument); err != nil || !strings.Contains(doc, `"Action":"s3:PutObject"`) {
		t.Errorf("GetUserPolicy: document %q, %v", doc, err)
	}

	// What does not exist is NoSuchEntity, with a 404.
	missing := []struct {
		name string
		call func() error
	}{
		{"unknown user", func() error {
			_, err := client.GetUser(ctx, &iam.GetUserInput{UserName: awssdk.String("nobody")})
			return err
		}},
		{"user of another account", func() error {
			s.AddUserKey("444455556666", "elsewhere", false)
			_, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: awssdk.String("elsewhere")})
			return err
		}},
		{"unknown inline policy", func() error {
			_, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: awssdk.String("deploy"), PolicyName: awssdk.String("nope")})
			return err
		}},
		{"unknown group", func() error {
			_, err := client.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: awssdk.String("nope")})
			return err
		}},
		{"unknown policy", func() error {
			_, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: awssdk.String("arn:aws:iam::aws:policy/Nope")})
			return err
		}},
		{"policy of another partition", func() error {
			_, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: awssdk.String("arn:aws-cn:iam::aws:policy/ReadOnlyAccess")})
			return err
		}},
		{"unknown version", func() error {
			_, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: awssdk.String(boundary), VersionId: awssdk.String("v2")})
			return err
		}},
	}
	for _, m := range missing {
		if status, code := apiFailure(m.call()); status != http.StatusNotFound || code != "NoSuchEntity" {
			t.Errorf("%s: HTTP %d %s, want 404 NoSuchEntity", m.name, status, code)
		}
	}

	// Only an admin key may read IAM.
	reader := iamClient(s, s.AddUserKey(testAccount, "reader", false), "us-east-1")
	if _, err := reader.GetUser(ctx, &iam.GetUserInput{UserName: awssdk.String("deploy")}); err == nil {
		t.Error("GetUser with a key that is not an admin's worked")
	} else if status, code := apiFailure(err); status != http.StatusForbidden || code != "AccessDenied" {
		t.Errorf("GetUser with a key that is not an admin's: HTTP %d %s", status, code)
	}
}

func TestIAMPolicyVersions(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	arn := s.CreatePolicy(testAccount, "app", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`)
	if v := s.SetPolicyVersion(arn, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`); v != "v2" {
		t.Fatalf("SetPolicyVersion: %s", v)
	}
	client := iamClient(s, admin, "us-east-1")
	ctx := context.Background()
	p, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: awssdk.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if *p.Policy.DefaultVersionId != "v2" || *p.Policy.PolicyName != "app" || *p.Policy.Arn != arn || !strings.HasPrefix(*p.Policy.PolicyId, "ANPA") {
		t.Errorf("GetPolicy: %+v", p.Policy)
	}
	for v, want := range map[string]string{"v1": `"s3:GetObject"`, "v2": `"s3:*"`} {
		out, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: awssdk.String(arn), VersionId: awssdk.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.PathUnescape(*out.PolicyVersion.Document)
		if !strings.Contains(doc, want) || out.PolicyVersion.IsDefaultVersion != (v == "v2") {
			t.Errorf("GetPolicyVersion %s: %s, default %v", v, doc, out.PolicyVersion.IsDefaultVersion)
		}
	}
}

func TestListPoliciesPages(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	local := s.CreatePolicy(testAccount, "mine", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	s.CreatePolicy("444455556666", "theirs", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	client := iamClient(s, admin, "us-east-1")
	ctx := context.Background()

	list := func(scope types.PolicyScopeType, maxItems int32) (arns []string, pages int) {
		t.Helper()
		in := &iam.ListPoliciesInput{Scope: scope}
		if maxItems > 0 {
			in.MaxItems = awssdk.Int32(maxItems)
		}
		for {
			out, err := client.ListPolicies(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if n := len(out.Policies); maxItems > 0 && n > int(maxItems) || maxItems == 0 && n > 100 {
				t.Fatalf("a page of %d policies", n)
			}
			for _, p := range out.Policies {
				arns = append(arns, *p.Arn)
			}
			if !out.IsTruncated {
				return arns, pages
			}
			in.Marker = out.Marker
		}
	}
	aws, pages := list(types.PolicyScopeTypeAws, 0)
	if pages < 3 {
		t.Errorf("Scope AWS took %d pages of AWS's default 100, want several", pages)
	}
	for _, want := range []string{"AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3"} {
		if !slices.Contains(aws, "arn:aws:iam::aws:policy/"+want) {
			t.Errorf("Scope AWS lacks %s", want)
		}
	}
	if slices.Contains(aws, local) {
		t.Error("Scope AWS lists the account's policy")
	}
	if got, _ := list(types.PolicyScopeTypeLocal, 0); !slices.Equal(got, []string{local}) {
		t.Errorf("Scope Local: %q", got)
	}
	all, pages := list(types.PolicyScopeTypeAll, 7)
	if len(all) != len(aws)+1 || pages != (len(all)+6)/7 {
		t.Errorf("Scope All by 7: %d policies in %d pages, want %d", len(all), pages, len(aws)+1)
	}
	if _, err := client.ListPolicies(ctx, &iam.ListPoliciesInput{Marker: awssdk.String("forged")}); err == nil {
		t.Error("a forged marker was taken")
	}
	if _, err := client.ListPolicies(ctx, &iam.ListPoliciesInput{MaxItems: awssdk.Int32(1001)}); err == nil {
		t.Error("MaxItems 1001 was taken")
	}
}

// TestQuarantineVersions: a test chooses which versions of AWS's
// quarantine policy exist, so that "the newest one" is whatever the
// stand-in lists.
func TestQuarantineVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		versions []int
		want     []string
	}{
		{nil, []string{"AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3"}},
		{[]int{1, 2}, []string{"AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2"}},
		{[]int{2, 3, 4}, []string{"AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3", "AWSCompromisedKeyQuarantineV4"}},
		{[]int{}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.want, ","), func(t *testing.T) {
			t.Parallel()
			s := New(t)
			admin := s.AddUserKey(testAccount, "security-admin", true)
			if tt.versions != nil {
				s.SetQuarantinePolicies(tt.versions...)
			}
			out, err := iamClient(s, admin, "us-east-1").ListPolicies(context.Background(), &iam.ListPoliciesInput{
				Scope: types.PolicyScopeTypeAws, MaxItems: awssdk.Int32(1000),
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range out.Policies {
				if strings.HasPrefix(*p.PolicyName, "AWSCompromisedKeyQuarantine") {
					got = append(got, *p.PolicyName)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("quarantine policies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttachUserPolicy(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	s.AddUserKey(testAccount, "ci/deploy", false)
	client := iamClient(s, admin, "us-east-1")
	ctx := context.Background()
	const quarantine = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
	for range 2 { // attaching again is a no-op, as in AWS
		if _, err := client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: awssdk.String("deploy"), PolicyArn: awssdk.String(quarantine)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.AttachedUserPolicies(testAccount, "deploy"); !slices.Equal(got, []string{quarantine}) {
		t.Errorf("AttachedUserPolicies: %q", got)
	}
	p, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: awssdk.String(quarantine)})
	if err != nil || *p.Policy.AttachmentCount != 1 {
		t.Errorf("GetPolicy: %+v, %v", p, err)
	}
	for _, in := range []*iam.AttachUserPolicyInput{
		{UserName: awssdk.String("deploy"), PolicyArn: awssdk.String("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV9")},
		{UserName: awssdk.String("nobody"), PolicyArn: awssdk.String(quarantine)},
		{UserName: awssdk.String("deploy"), PolicyArn: awssdk.String("arn:aws:iam::444455556666:policy/theirs")},
	} {
		_, err := client.AttachUserPolicy(ctx, in)
		if status, code := apiFailure(err); status != http.StatusNotFound || code != "NoSuchEntity" {
			t.Errorf("AttachUserPolicy(%s, %s): HTTP %d %s, want 404 NoSuchEntity", *in.UserName, *in.PolicyArn, status, code)
		}
	}
	if got := s.AttachedUserPolicies(testAccount, "deploy"); len(got) != 1 {
		t.Errorf("after refusals: %q", got)
	}
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	s.AddUserKey(testAccount, "ci/deploy", false)
	s.AttachGroupPolicy(testAccount, "deployers", "arn:aws:iam::aws:policy/AdministratorAccess")
	s.AddUserToGroup(testAccount, "ci/deploy", "deployers")
	s.PutGroupPolicy(testAccount, "deployers", "no-iam-users", `{"Statement":{"Effect":"Deny","Action":"iam:*User*","Resource":"*"}}`)
	s.SetBoundary(testAccount, "ci/deploy", "arn:aws:iam::aws:policy/PowerUserAccess")
	client := iamClient(s, admin, "us-east-1")
	ctx := context.Background()

	out, err := client.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: awssdk.String("arn:aws:iam::111122223333:user/ci/deploy"),
		ActionNames:     []string{"iam:CreateUser", "iam:PassRole", "sts:AssumeRole", "s3:GetObject"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range out.EvaluationResults {
		got[*r.EvalActionName] = string(r.EvalDecision)
		if *r.EvalResourceName != "*" {
			t.Errorf("%s: resource %q", *r.EvalActionName, *r.EvalResourceName)
		}
	}
	want := map[string]string{"iam:CreateUser": "explicitDeny", "iam:PassRole": "implicitDeny", "sts:AssumeRole": "allowed", "s3:GetObject": "allowed"}
	if diff := cmp.Diff(want, got); diff != "" || out.IsTruncated {
		t.Errorf("decisions (-want +got):\n%s(truncated %v)", diff, out.IsTruncated)
	}

	for _, source := range []string{
		"arn:aws:iam::111122223333:user/deploy", // the wrong path
		"arn:aws:iam::111122223333:user/nobody",
		"arn:aws:iam::444455556666:user/ci/deploy",
		"arn:aws:iam::111122223333:role/deploy",
	} {
		if _, err := client.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: awssdk.String(source), ActionNames: []string{"s3:GetObject"},
		}); err == nil {
			t.Errorf("simulated %s", source)
		}
	}
}

// TestIAMPartition: a caller of the China partition sees its account's
// users and AWS's policies at ARNs of its partition.
func TestIAMPartition(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	s.SetPartition(admin.KeyID, "aws-cn")
	user := s.AddUserKey(testAccount, "app", false)
	s.SetPartition(user.KeyID, "aws-cn")
	s.AttachUserPolicy(testAccount, "app", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	client := iamClient(s, admin, "cn-north-1")
	ctx := context.Background()
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: awssdk.String("app")})
	if err != nil || *out.User.Arn != "arn:aws-cn:iam::111122223333:user/app" {
		t.Fatalf("GetUser: %+v, %v", out, err)
	}
	attached, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: awssdk.String("app")})
	if err != nil || *attached.AttachedPolicies[0].PolicyArn != "arn:aws-cn:iam::aws:policy/ReadOnlyAccess" {
		t.Fatalf("ListAttachedUserPolicies: %+v, %v", attached, err)
	}
	if _, err := client.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: awssdk.String("arn:aws:iam::111122223333:user/app"), ActionNames: []string{"s3:GetObject"},
	}); err == nil {
		t.Error("simulated a user at an ARN of another partition")
	}
}

func TestIAMHostileKnobs(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(testAccount, "security-admin", true)
	s.AddUserKey(testAccount, "app", false)
	for _, g := range []string{"a", "b", "c"} {
		s.AddUserToGroup(testAccount, "app", g)
	}
	client := iamClient(s, admin, "us-east-1")
	ctx := context.Background()

	s.SetPageSize(2)
	out, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: awssdk.String("app"), MaxItems: awssdk.Int32(100)})
	if err != nil || len(out.Groups) != 2 || !out.IsTruncated || out.Marker == nil {
		t.Errorf("page size 2: %+v, %v", out, err)
	}
	s.SetPageSize(0)

	s.SetAnswer("ListGroupsForUser", "<Groups><member><GroupName>x\u202ey</GroupName></member></Groups><IsTruncated>false</IsTruncated>")
	out, err = client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: awssdk.String("app")})
	if err != nil || len(out.Groups) != 1 || *out.Groups[0].GroupName != "x\u202ey" {
		t.Errorf("SetAnswer: %+v, %v", out, err)
	}
	s.SetAnswer("ListGroupsForUser", "")

	s.DenyIAM("ListGroupsForUser")
	_, err = client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: awssdk.String("app")})
	if status, code := apiFailure(err); status != http.StatusForbidden || code != "AccessDenied" {
		t.Errorf("DenyIAM: HTTP %d %s", status, code)
	}
	if n := s.Count("ListGroupsForUser"); n != 3 {
		t.Errorf("recorded %d calls, want 3", n)
	}
}
