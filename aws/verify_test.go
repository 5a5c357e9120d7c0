package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

const (
	ownAccount     = "111122223333"
	secondAccount  = "444455556666"
	foreignAccount = "999988887777"
	canaryAccount  = "052310077262" // a canarytokens.org account
)

// testConfig is an AWS configuration that reaches only the stand-in, with
// creds as the default credentials, whatever the machine's environment.
// Retries do not wait, unless opts say otherwise.
func testConfig(t testing.TB, s *awstest.Server, creds awstest.Credentials, opts ...func(*config.LoadOptions) error) awssdk.Config {
	t.Helper()
	cfg, err := LoadConfig(context.Background(), append(standIn(s, creds), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestVerify(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	cfg := testConfig(t, s, admin)

	live := s.AddUserKey(ownAccount, "ci/deploy-bot", false)
	root := s.AddRootKey(secondAccount)
	session := s.AddSessionKey(ownAccount, "deployer", "build-42")
	inactive := s.AddUserKey(ownAccount, "former-intern", false)
	s.SetActive(inactive.KeyID, false)
	throttled := s.AddUserKey(foreignAccount, "app", false)
	s.Throttle(throttled.KeyID, 2)
	broken := s.AddUserKey(foreignAccount, "app2", false)
	s.Fail(broken.KeyID, 100)
	slow := s.AddUserKey(foreignAccount, "app3", false)
	s.Delay(slow.KeyID, 5*time.Second)
	canary := s.AddUserKey(canaryAccount, "canary", false)
	unknownID := awstest.KeyID("AKIA", foreignAccount, 4000)

	tests := []struct {
		name  string
		key   Key
		want  Result
		calls int // requests the stand-in should see for the key
	}{
		{"live user key", Key{ID: live.KeyID, Secret: live.Secret},
			Result{Status: finding.StatusVerified, Account: ownAccount, ARN: "arn:aws:iam::111122223333:user/ci/deploy-bot", Partition: "aws"}, 1},
		{"root key", Key{ID: root.KeyID, Secret: root.Secret},
			Result{Status: finding.StatusVerified, Account: secondAccount, ARN: "arn:aws:iam::444455556666:root", UserID: secondAccount, Partition: "aws"}, 1},
		{"session credentials", Key{ID: session.KeyID, Secret: session.Secret, SessionToken: session.SessionToken},
			Result{Status: finding.StatusVerified, Account: ownAccount, ARN: "arn:aws:sts::111122223333:assumed-role/deployer/build-42", Partition: "aws"}, 1},
		{"wrong secret, asked twice", Key{ID: live.KeyID, Secret: strings.ToUpper(live.Secret)},
			Result{Status: finding.StatusInvalid, Error: "SignatureDoesNotMatch: the key id exists but the secret found with it is not its secret", Partition: "aws"}, 2},
		{"unknown key id", Key{ID: unknownID, Secret: live.Secret},
			Result{Status: finding.StatusInvalid, Error: "InvalidClientTokenId: the key id does not exist or is inactive (in partitions aws, aws-cn, aws-us-gov)"}, 3},
		{"inactive key", Key{ID: inactive.KeyID, Secret: inactive.Secret},
			Result{Status: finding.StatusInvalid, Error: "InvalidClientTokenId: the key id does not exist or is inactive (in partitions aws, aws-cn, aws-us-gov)"}, 3},
		{"throttled twice, then answered", Key{ID: throttled.KeyID, Secret: throttled.Secret},
			Result{Status: finding.StatusVerified, Account: foreignAccount, ARN: "arn:aws:iam::999988887777:user/app", Partition: "aws"}, 3},
		{"server errors", Key{ID: broken.KeyID, Secret: broken.Secret},
			Result{Status: finding.StatusUnknown, Error: "HTTP 500 InternalFailure: AWS internal error"}, 5},
		{"no answer in time", Key{ID: slow.KeyID, Secret: slow.Secret},
			Result{Status: finding.StatusUnknown, Error: "no answer from STS within 300ms"}, -1},
		{"canary key: never sent", Key{ID: canary.KeyID, Secret: canary.Secret},
			Result{Status: finding.StatusCanary, Account: canaryAccount, Error: "key of a canary-token account: not sent to AWS, which would set off the alarm"}, 0},
		{"key id alone: not sent", Key{ID: root.KeyID},
			Result{Status: finding.StatusUnknown, Error: "no secret access key found with this key id: not sent to AWS"}, -1},
		{"session key without its token: not sent", Key{ID: session.KeyID, Secret: session.Secret},
			Result{Status: finding.StatusUnknown, Error: "temporary key id (ASIA) without its session token: not sent to AWS"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := 10 * time.Second
			if tt.key.ID == slow.KeyID {
				timeout = 300 * time.Millisecond
			}
			v := NewVerifier(cfg, timeout)
			// Not parallel: calls are counted per key id, and some tests
			// share one.
			before := len(s.CallsBy(tt.key.ID))
			got := v.Verify(context.Background(), tt.key)
			if got.Status == finding.StatusVerified {
				if !strings.HasPrefix(got.UserID, "AIDA") && !strings.HasPrefix(got.UserID, "AROA") && got.UserID != tt.want.UserID {
					t.Errorf("user id %q", got.UserID)
				}
				got.UserID = tt.want.UserID
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(Result{})); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
			if tt.calls >= 0 {
				if n := len(s.CallsBy(tt.key.ID)) - before; n != tt.calls {
					t.Errorf("the stand-in saw %d calls for the key, want %d", n, tt.calls)
				}
			}
			if tt.key.Secret != "" && strings.Contains(got.Error, tt.key.Secret) {
				t.Error("the error holds the secret")
			}
		})
	}
	if n := len(s.CallsBy(canary.KeyID)); n != 0 {
		t.Errorf("the canary key was sent to AWS %d times", n)
	}
	if n := s.Count("GetCallerIdentity"); n != len(s.Calls()) {
		t.Errorf("verification made calls other than GetCallerIdentity: %d of %d: %+v", len(s.Calls())-n, len(s.Calls()), s.Calls())
	}
}

func TestVerifyAllCallsOncePerKey(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	cfg := testConfig(t, s, s.AddUserKey(ownAccount, "admin", true))
	a := s.AddUserKey(ownAccount, "a", false)
	b := s.AddUserKey(secondAccount, "b", false)
	s.Delay(a.KeyID, 100*time.Millisecond) // so that duplicates wait for the first call
	var keys []Key
	for range 10 {
		keys = append(keys, Key{ID: a.KeyID, Secret: a.Secret}, Key{ID: b.KeyID, Secret: b.Secret})
	}
	v := NewVerifier(cfg, 5*time.Second)
	results := v.VerifyAll(context.Background(), keys, 4)
	for i, r := range results {
		want := ownAccount
		if keys[i].ID == b.KeyID {
			want = secondAccount
		}
		if r.Status != finding.StatusVerified || r.Account != want {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	for _, id := range []string{a.KeyID, b.KeyID} {
		if n := len(s.CallsBy(id)); n != 1 {
			t.Errorf("%s was sent %d times, want once", id, n)
		}
	}
}

func TestVerifyAllBoundsConcurrency(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	cfg := testConfig(t, s, s.AddUserKey(ownAccount, "admin", true))
	var keys []Key
	for i := range 12 {
		c := s.AddUserKey(ownAccount, fmt.Sprintf("user%d", i), false)
		s.Delay(c.KeyID, 50*time.Millisecond)
		keys = append(keys, Key{ID: c.KeyID, Secret: c.Secret})
	}
	for _, workers := range []int{1, 3} {
		results := NewVerifier(cfg, 5*time.Second).VerifyAll(context.Background(), keys, workers)
		for i, r := range results {
			if r.Status != finding.StatusVerified {
				t.Errorf("key %d: %+v", i, r)
			}
		}
		if got := s.MaxInFlight(); got > workers {
			t.Errorf("%d workers: %d calls in flight at once", workers, got)
		}
	}
	if got := s.MaxInFlight(); got < 2 {
		t.Errorf("3 workers never overlapped (max %d in flight)", got)
	}
}

func TestVerifyWithoutNetwork(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(context.Background(),
		config.WithBaseEndpoint("http://127.0.0.1:1"), // nothing listens on port 1
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		WithBackoff(func(int) time.Duration { return 0 }),
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != DefaultRegion && cfg.Region != "" {
		t.Logf("region from the environment: %s", cfg.Region)
	}
	secret := "s3cr3t/" + strings.Repeat("x", 33)
	v := NewVerifier(cfg, 5*time.Second)
	got := v.Verify(context.Background(), Key{ID: awstest.KeyID("AKIA", ownAccount, 1), Secret: secret})
	if want := "request to 127.0.0.1:1 failed: connection refused"; got.Status != finding.StatusUnknown || got.Error != want {
		t.Errorf("got %+v, want unknown with %q", got, want)
	}
}

// TestVerifyTriesEachPartition checks that a key STS refuses as unknown
// in the standard partition is asked in China and GovCloud (each once,
// in the region of the partition's STS) before it is called invalid, and
// that the partition that knows it is recorded.
func TestVerifyTriesEachPartition(t *testing.T) {
	t.Parallel()
	s := awstest.New(t)
	cfg := testConfig(t, s, s.AddUserKey(ownAccount, "admin", true))
	gov := s.AddUserKey(secondAccount, "gov-deployer", false)
	s.SetPartition(gov.KeyID, "aws-us-gov")
	cn := s.AddUserKey(ownAccount, "cn-app", false)
	s.SetPartition(cn.KeyID, "aws-cn")

	tests := []struct {
		name       string
		key        awstest.Credentials
		partitions []string
		want       Result
		regions    []string // of the calls the key signed, in order
	}{
		{"GovCloud key, all partitions", gov, nil,
			Result{Status: finding.StatusVerified, Account: secondAccount, ARN: "arn:aws-us-gov:iam::444455556666:user/gov-deployer", Partition: "aws-us-gov"},
			[]string{"eu-west-1", "cn-north-1", "us-gov-west-1"}},
		{"China key, all partitions", cn, nil,
			Result{Status: finding.StatusVerified, Account: ownAccount, ARN: "arn:aws-cn:iam::111122223333:user/cn-app", Partition: "aws-cn"},
			[]string{"eu-west-1", "cn-north-1"}},
		{"GovCloud key, GovCloud only", gov, []string{"aws-us-gov"},
			Result{Status: finding.StatusVerified, Account: secondAccount, ARN: "arn:aws-us-gov:iam::444455556666:user/gov-deployer", Partition: "aws-us-gov"},
			[]string{"us-gov-west-1"}},
		{"GovCloud key, GovCloud not asked", gov, []string{"aws", "aws-cn"},
			Result{Status: finding.StatusInvalid, Error: "InvalidClientTokenId: the key id does not exist or is inactive (in partitions aws, aws-cn)"},
			[]string{"eu-west-1", "cn-north-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.CallsBy(tt.key.KeyID))
			got := NewVerifier(cfg, 10*time.Second, tt.partitions...).Verify(context.Background(), Key{ID: tt.key.KeyID, Secret: tt.key.Secret})
			got.UserID = ""
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(Result{})); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
			var regions []string
			for _, c := range s.CallsBy(tt.key.KeyID)[before:] {
				regions = append(regions, c.Region)
			}
			if !slices.Equal(regions, tt.regions) {
				t.Errorf("calls in regions %v, want %v", regions, tt.regions)
			}
		})
	}
}

func TestParsePartitions(t *testing.T) {
	t.Parallel()
	got, err := ParsePartitions([]string{"aws-us-gov, aws", "aws"})
	if err != nil || !slices.Equal(got, []string{"aws-us-gov", "aws"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParsePartitions([]string{"aws-iso"}); err == nil || !strings.Contains(err.Error(), `unknown AWS partition "aws-iso"`) {
		t.Errorf("aws-iso: %v", err)
	}
}
