package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

const (
	adminPolicy    = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyPolicy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	deployARN      = "arn:aws:iam::111122223333:user/ci/deploy"
)

// decided splits blastActions into those allowed (in blastActions'
// order) and the rest.
func decided(allowed ...string) (allow, deny []string) {
	allow, deny = []string{}, []string{}
	for _, a := range blastActions {
		if slices.Contains(allowed, a) {
			allow = append(allow, a)
		} else {
			deny = append(deny, a)
		}
	}
	return allow, deny
}

// except returns blastActions but those given.
func except(denied ...string) []string {
	var out []string
	for _, a := range blastActions {
		if !slices.Contains(denied, a) {
			out = append(out, a)
		}
	}
	return out
}

func radius(groups, policies []string, boundary string, admin bool, allowed []string, errMsg string) *finding.BlastRadius {
	allow, deny := decided(allowed...)
	if groups == nil {
		groups = []string{}
	}
	if policies == nil {
		policies = []string{}
	}
	return &finding.BlastRadius{User: "deploy", Groups: groups, Policies: policies, Boundary: boundary, Admin: admin,
		Allowed: allow, Denied: deny, Approximate: true, Error: errMsg}
}

// undecided is r before any simulation: no action allowed or denied.
func undecided(r *finding.BlastRadius) *finding.BlastRadius {
	r.Allowed, r.Denied = []string{}, []string{}
	return r
}

// hostilePage is a Result of a list that holds n members made by member,
// truncated with a marker when more is true.
func hostilePage(list string, n int, member func(i int) string, more bool) string {
	var b strings.Builder
	b.WriteString("<" + list + ">")
	for i := range n {
		b.WriteString("<member>" + member(i) + "</member>")
	}
	b.WriteString("</" + list + ">")
	if more {
		b.WriteString("<IsTruncated>true</IsTruncated><Marker>again</Marker>")
	} else {
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	return b.String()
}

func TestReadUser(t *testing.T) {
	t.Parallel()
	const (
		s3Only  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
		denyIAM = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*"}}`
		extra   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}`
	)
	// every allows each action by name: all allowed, yet no policy
	// grants everything, so every document is read and Admin is false.
	every := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["` + strings.Join(blastActions, `","`) + `"],"Resource":"*"}}`
	s3Actions := []string{"s3:GetObject", "s3:PutObject", "s3:DeleteBucket"}
	iamActions := []string{"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:PassRole"}
	quarantined := []string{"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:PassRole",
		"ec2:RunInstances", "lambda:CreateFunction"}

	tests := []struct {
		name  string
		setup func(s *awstest.Server)
		// tolerate makes step go on after a failed call.
		tolerate        bool
		want            *finding.BlastRadius
		tags            map[string]string
		quarantine      string
		steps           []string
		count           map[string]int // calls per action, when a case checks them
		user, userARN   string         // the user read, deploy by default
		wantStepFailure bool
	}{
		{
			name:  "admin attached",
			setup: func(s *awstest.Server) { s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy) },
			want:  radius(nil, []string{adminPolicy}, "", true, blastActions, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate", "get-policy", "get-policy-version"},
		},
		{
			name: "admin through a group",
			setup: func(s *awstest.Server) {
				s.AddUserToGroup(ownAccount, "ci/deploy", "admins")
				s.AttachGroupPolicy(ownAccount, "admins", adminPolicy)
			},
			want: radius([]string{"admins"}, []string{adminPolicy}, "", true, blastActions, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies",
				"list-attached-group-policies", "list-group-policies", "simulate", "get-policy", "get-policy-version"},
		},
		{
			name: "admin in an inline policy, read first",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", readOnlyPolicy)
				s.PutUserPolicy(ownAccount, "ci/deploy", "break-glass", `{"Statement":[{"Effect":"Allow","Action":"*:*","Resource":["*"]}]}`)
			},
			want:  radius(nil, []string{readOnlyPolicy, "user/break-glass"}, "", true, blastActions, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate", "get-user-policy"},
		},
		{
			name:  "read-only: only reads allowed",
			setup: func(s *awstest.Server) { s.AttachUserPolicy(ownAccount, "ci/deploy", readOnlyPolicy) },
			want:  radius(nil, []string{readOnlyPolicy}, "", false, []string{"s3:GetObject", "ssm:GetParameter", "dynamodb:Scan"}, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "admin policy under a boundary of s3 only",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
				s.SetBoundary(ownAccount, "ci/deploy", s.CreatePolicy(ownAccount, "boundaries/s3-only", s3Only))
			},
			want:  radius(nil, []string{adminPolicy}, "arn:aws:iam::111122223333:policy/boundaries/s3-only", false, s3Actions, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "an explicit deny in a group's inline policy wins",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
				s.AddUserToGroup(ownAccount, "ci/deploy", "guarded")
				s.PutGroupPolicy(ownAccount, "guarded", "no-iam", denyIAM)
			},
			want: radius([]string{"guarded"}, []string{adminPolicy, "group/guarded/no-iam"}, "", false, except(iamActions...), ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies",
				"list-attached-group-policies", "list-group-policies", "simulate"},
		},
		{
			name: "a typical user: one group, two attached and one inline policy, every document read",
			setup: func(s *awstest.Server) {
				s.AddUserToGroup(ownAccount, "ci/deploy", "developers")
				s.AttachUserPolicy(ownAccount, "ci/deploy", s.CreatePolicy(ownAccount, "everything-by-name", every))
				s.AttachGroupPolicy(ownAccount, "developers", readOnlyPolicy)
				s.PutUserPolicy(ownAccount, "ci/deploy", "queue", extra)
			},
			want: radius([]string{"developers"}, []string{"arn:aws:iam::111122223333:policy/everything-by-name", "user/queue", readOnlyPolicy}, "", false, blastActions, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies",
				"list-attached-group-policies", "list-group-policies", "simulate",
				"get-user-policy", "get-policy", "get-policy-version", "get-policy", "get-policy-version"},
		},
		{
			name: "the default version of a managed policy is read",
			setup: func(s *awstest.Server) {
				arn := s.CreatePolicy(ownAccount, "grows", every)
				s.SetPolicyVersion(arn, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
				s.AttachUserPolicy(ownAccount, "ci/deploy", arn)
			},
			want:  radius(nil, []string{"arn:aws:iam::111122223333:policy/grows"}, "", true, blastActions, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate", "get-policy", "get-policy-version"},
			count: map[string]int{"GetPolicyVersion": 1},
		},
		{
			name: "quarantined by AWS",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
				s.AttachUserPolicy(ownAccount, "ci/deploy", "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
			},
			want:       radius(nil, []string{adminPolicy, "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}, "", false, except(quarantined...), ""),
			quarantine: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
			steps:      []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "tags: those in IAM's character set",
			setup: func(s *awstest.Server) {
				s.AddUser(ownAccount, "ci/deploy")
				s.TagUser(ownAccount, "ci/deploy", "email", "dev@example.com")
				s.TagUser(ownAccount, "ci/deploy", "owner", "Team Ünïcode")
				s.TagUser(ownAccount, "ci/deploy", "note", "line\nbreak")
				s.TagUser(ownAccount, "ci/deploy", "\u202eevil", "x")
			},
			want:  radius(nil, nil, "", false, nil, ""),
			tags:  map[string]string{"email": "dev@example.com", "owner": "Team Ünïcode"},
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "names IAM would refuse are dropped",
			setup: func(s *awstest.Server) {
				s.PutUserPolicy(ownAccount, "ci/deploy", "bad\x01name", extra)
				s.PutUserPolicy(ownAccount, "ci/deploy", "bad\u202ename", extra)
				s.PutUserPolicy(ownAccount, "ci/deploy", "ok", extra)
				s.AddUserToGroup(ownAccount, "ci/deploy", "team\x1b[31m")
			},
			want: radius(nil, []string{"user/ok"}, "", false, nil, ""),
			// The group's name was dropped: nothing is asked of it.
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "10,000 groups: ten kept, no second page",
			setup: func(s *awstest.Server) {
				for i := range 10 {
					s.AddGroup(ownAccount, fmt.Sprintf("g%d", i))
				}
				s.SetAnswer("ListGroupsForUser", hostilePage("Groups", 10000, func(i int) string {
					return fmt.Sprintf("<GroupName>g%d</GroupName>", i)
				}, true))
			},
			want: radius([]string{"g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9"}, nil, "", false, nil, ""),
			steps: append(append([]string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies"},
				slices.Repeat([]string{"list-attached-group-policies", "list-group-policies"}, 10)...), "simulate"),
			count: map[string]int{"ListGroupsForUser": 1},
		},
		{
			name: "10,000 attached policies, some not the user's: capped, foreign ones dropped",
			setup: func(s *awstest.Server) {
				s.SetAnswer("ListAttachedUserPolicies", hostilePage("AttachedPolicies", 10000, func(i int) string {
					switch i {
					case 0:
						return "<PolicyArn>arn:aws:iam::444455556666:policy/theirs</PolicyArn>"
					case 1:
						return "<PolicyArn>arn:aws-cn:iam::aws:policy/ReadOnlyAccess</PolicyArn>"
					case 2:
						return "<PolicyArn>arn:aws:iam::aws:policy/a\x7fb</PolicyArn>"
					}
					return fmt.Sprintf("<PolicyArn>arn:aws:iam::111122223333:policy/p%d</PolicyArn>", i)
				}, false))
			},
			want: radius(nil, func() []string {
				var out []string
				for i := 3; i < 3+maxAttachedPolicies; i++ {
					out = append(out, fmt.Sprintf("arn:aws:iam::111122223333:policy/p%d", i))
				}
				return out
			}(), "", false, nil, ""),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "an endpoint that pages forever is not believed",
			setup: func(s *awstest.Server) {
				s.SetAnswer("ListUserPolicies", hostilePage("PolicyNames", 1, func(int) string { return "same" }, true))
			},
			want: radius(nil, []string{"user/same"}, "", false, nil, ""),
			steps: append(append([]string{"get-user", "list-groups", "list-attached-user-policies"},
				slices.Repeat([]string{"list-user-policies"}, maxListPages)...), "simulate"),
			count: map[string]int{"ListUserPolicies": maxListPages},
		},
		{
			name: "a simulation that decides some actions only",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
				s.SetAnswer("SimulatePrincipalPolicy", hostilePage("EvaluationResults", 3, func(i int) string {
					name := []string{"iam:CreateUser", "ec2:RunInstances", "x:Injected"}[i]
					return "<EvalActionName>" + name + "</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>allowed</EvalDecision>"
				}, false))
			},
			want: func() *finding.BlastRadius {
				r := radius(nil, []string{adminPolicy}, "", false, []string{"iam:CreateUser", "ec2:RunInstances"}, "the simulation did not decide every action")
				r.Denied = []string{}
				return r
			}(),
			steps: []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate"},
		},
		{
			name: "AccessDenied stops the read, step says",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
				s.DenyIAM("ListGroupsForUser")
			},
			want:            undecided(radius(nil, nil, "", false, nil, "iam:ListGroupsForUser: HTTP 403 AccessDenied: not authorized")),
			steps:           []string{"get-user", "list-groups"},
			wantStepFailure: true,
		},
		{
			name: "AccessDenied on one call, step goes on",
			setup: func(s *awstest.Server) {
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
				s.DenyIAM("GetPolicyVersion")
			},
			tolerate:        true,
			want:            radius(nil, []string{adminPolicy}, "", false, blastActions, ""),
			steps:           []string{"get-user", "list-groups", "list-attached-user-policies", "list-user-policies", "simulate", "get-policy", "get-policy-version"},
			wantStepFailure: true,
		},
		{
			name:  "an unknown user",
			setup: func(s *awstest.Server) {},
			user:  "ghost", userARN: "arn:aws:iam::111122223333:user/ghost",
			want: func() *finding.BlastRadius {
				r := undecided(radius(nil, nil, "", false, nil, "iam:GetUser: HTTP 404 NoSuchEntity: not found"))
				r.User = "ghost"
				return r
			}(),
			steps:           []string{"get-user"},
			wantStepFailure: true,
		},
		{
			name:  "a name not in IAM's format: nothing asked",
			setup: func(s *awstest.Server) {},
			user:  "de\nploy", userARN: "arn:aws:iam::111122223333:user/de\nploy",
			want: func() *finding.BlastRadius {
				r := undecided(radius(nil, nil, "", false, nil, string(errNotIAMUser)))
				r.User = "de\nploy"
				return r
			}(),
		},
		{
			name:  "an ARN that names another user: nothing asked",
			setup: func(s *awstest.Server) {},
			user:  "deploy", userARN: "arn:aws:iam::111122223333:user/ci/other",
			want: func() *finding.BlastRadius {
				return undecided(radius(nil, nil, "", false, nil, string(errNotIAMUser)))
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := awstest.New(t)
			admin := s.AddUserKey(ownAccount, "security-admin", true)
			s.AddUserKey(ownAccount, "ci/deploy", false)
			tt.setup(s)
			client := iam.NewFromConfig(testConfig(t, s, admin))
			user, userARN := "deploy", deployARN
			if tt.user != "" {
				user, userARN = tt.user, tt.userARN
			}
			before := len(s.Calls())

			var steps []string
			failed := false
			got := readUser(context.Background(), client, user, userARN, 10*time.Second, func(call string, err error) error {
				steps = append(steps, call)
				if err == nil {
					return nil
				}
				failed = true
				if tt.tolerate {
					return nil
				}
				return ownError(describe(err, nil))
			})

			if got.Radius == nil {
				t.Fatal("nil Radius")
			}
			if diff := cmp.Diff(tt.want, got.Radius); diff != "" {
				t.Errorf("Radius (-want +got):\n%s", diff)
			}
			wantTags := tt.tags
			if wantTags == nil {
				wantTags = map[string]string{}
			}
			if diff := cmp.Diff(wantTags, got.Tags); diff != "" {
				t.Errorf("Tags (-want +got):\n%s", diff)
			}
			if got.Quarantined != tt.quarantine {
				t.Errorf("Quarantined %q, want %q", got.Quarantined, tt.quarantine)
			}
			if diff := cmp.Diff(tt.steps, steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if failed != tt.wantStepFailure {
				t.Errorf("a step failed: %v, want %v", failed, tt.wantStepFailure)
			}
			// One AWS call per step, each signed with the user's own
			// credentials, none retried.
			calls := s.Calls()[before:]
			if len(calls) != len(tt.steps) {
				t.Errorf("the stand-in saw %d calls, want %d", len(calls), len(tt.steps))
			}
			for _, c := range calls {
				if c.KeyID != admin.KeyID {
					t.Errorf("%s signed with %s, not the user's own key", c.Action, c.KeyID)
				}
			}
			for action, n := range tt.count {
				if got := s.Count(action); got != n {
					t.Errorf("%s called %d times, want %d", action, got, n)
				}
			}
		})
	}
}

// TestReadUserTypicalCost: the calls a typical user (one group, two
// attached policies and one inline) costs, whether or not the simulation
// allows everything.
func TestReadUserTypicalCost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		admin bool
		calls int
	}{
		{"not everything allowed: no document read", false, 7},
		{"everything allowed: documents read until one grants it all", true, 12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := awstest.New(t)
			admin := s.AddUserKey(ownAccount, "security-admin", true)
			s.AddUserKey(ownAccount, "ci/deploy", false)
			s.AddUserToGroup(ownAccount, "ci/deploy", "developers")
			s.PutUserPolicy(ownAccount, "ci/deploy", "iam", `{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`)
			s.AttachUserPolicy(ownAccount, "ci/deploy", readOnlyPolicy)
			if tt.admin {
				// Last of all: every other document is read before it.
				s.AttachUserPolicy(ownAccount, "ci/deploy", adminPolicy)
			} else {
				s.AttachUserPolicy(ownAccount, "ci/deploy", "arn:aws:iam::aws:policy/PowerUserAccess")
			}
			got := readUser(context.Background(), iam.NewFromConfig(testConfig(t, s, admin)), "deploy", deployARN, 10*time.Second,
				func(string, error) error { return nil })
			if got.Radius.Admin != tt.admin {
				t.Errorf("Admin %v, want %v", got.Radius.Admin, tt.admin)
			}
			if n := len(s.Calls()); n != tt.calls {
				t.Errorf("%d calls, want %d", n, tt.calls)
			}
		})
	}
}

func TestReadUserCanceled(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	s.AddUserKey(ownAccount, "ci/deploy", false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := readUser(ctx, iam.NewFromConfig(testConfig(t, s, admin)), "deploy", deployARN, time.Second, nil)
	if got.Radius == nil || got.Radius.Error != "iam:GetUser: canceled" || len(s.Calls()) != 0 {
		t.Errorf("Radius %+v, %d calls", got.Radius, len(s.Calls()))
	}
}

func TestAllowsEverything(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want bool
	}{
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, true},
		{`{"Statement":[{"Effect":"Allow","Action":["s3:*","*:*"],"Resource":["arn:aws:s3:::x","*"]}]}`, true},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::*"}}`, false},
		{`{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`, false},
		{`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`, false},
		{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`, false},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`, false},
		{`not json`, false},
		{`{"Statement":7}`, false},
	}
	for _, tt := range tests {
		// As IAM answers it: URL-encoded.
		encoded := strings.ReplaceAll(strings.ReplaceAll(tt.doc, `"`, "%22"), " ", "%20")
		if got := allowsEverything(encoded); got != tt.want {
			t.Errorf("allowsEverything(%s) = %v, want %v", tt.doc, got, tt.want)
		}
	}
	if allowsEverything(strings.Repeat("%20", maxPolicyDocument) + `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`) {
		t.Error("an oversized document was read")
	}
}
