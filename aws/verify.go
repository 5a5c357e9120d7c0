package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/limit"
)

// Key is an AWS credential found by a scan.
type Key struct {
	ID, Secret, SessionToken string
}

var (
	secretKeyRe    = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
	sessionTokenRe = regexp.MustCompile(`^[A-Za-z0-9+/]{16,}=*$`)
)

// IsSecretAccessKey reports whether s has the form of a secret access
// key: 40 characters of base64. A redacted one ("9dr/*****") has not.
func IsSecretAccessKey(s string) bool { return secretKeyRe.MatchString(s) }

// IsSessionToken reports whether s has the form of a session token: a
// long run of base64. A redacted one ("IQoJ*****") has not.
func IsSessionToken(s string) bool { return sessionTokenRe.MatchString(s) }

// lacks says why k cannot be verified, or "" when it can.
func (k Key) lacks() string {
	temporary := strings.HasPrefix(k.ID, "ASIA")
	switch {
	case k.Secret == "":
		return "no secret access key found with this key id: not sent to AWS"
	case !IsSecretAccessKey(k.Secret):
		return "the secret access key found with this key id is not 40 characters of base64 (redacted?): not sent to AWS"
	case temporary && k.SessionToken == "":
		return "temporary key id (ASIA) without its session token: not sent to AWS"
	case temporary && !IsSessionToken(k.SessionToken):
		return "the session token found with this key id is not base64 (redacted?): not sent to AWS"
	}
	return ""
}

// Result is what verification learned of a key. Every field is always
// written, so that consumers of the JSON see one shape.
type Result struct {
	Status  string `json:"status"`
	Account string `json:"account"`
	ARN     string `json:"arn"`
	UserID  string `json:"user_id"`
	Error   string `json:"error"`
	// Partition is the partition whose STS answered.
	Partition string `json:"partition,omitempty"`

	// fresh marks a result that a Verifier of this process made. A
	// result decoded from a report never is: a report proves nothing
	// (key ids are not secret; anyone can write one), so a Remediator
	// acts only on fresh results.
	fresh bool
	// code is the AWS error code behind an invalid status.
	code string
}

// Verification is the result as a finding carries it.
func (r *Result) Verification() *finding.Verification {
	if r == nil {
		return nil
	}
	return &finding.Verification{Status: r.Status, Account: r.Account, ARN: r.ARN, UserID: r.UserID, Error: r.Error, Partition: r.Partition}
}

// Partitions lists the AWS partitions keysweep knows, each with the
// region its global services (STS, IAM) answer in.
var partitionRegions = map[string]string{
	"aws":        "us-east-1",
	"aws-cn":     "cn-north-1",
	"aws-us-gov": "us-gov-west-1",
}

// Partitions are the partitions a key is tried in, in this order.
var Partitions = []string{"aws", "aws-cn", "aws-us-gov"}

// ParsePartitions reads a comma-separated list of partitions.
func ParsePartitions(list []string) ([]string, error) {
	var out []string
	for _, p := range splitList(list) {
		if _, ok := partitionRegions[p]; !ok {
			return nil, fmt.Errorf("unknown AWS partition %q (want aws, aws-cn or aws-us-gov)", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// splitList returns the items of comma-separated lists (a flag given
// several times), trimmed, empty ones left out.
func splitList(list []string) []string {
	var out []string
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// partitionOf returns the partition of region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// regionIn returns the region to call partition's global services in:
// the configured one when it lies in partition.
func regionIn(cfg awssdk.Config, partition string) string {
	if partition == "" || partitionOf(cfg.Region) == partition {
		return cfg.Region
	}
	return partitionRegions[partition]
}

// Verifier checks keys with sts:GetCallerIdentity, each distinct key once.
// It is safe for concurrent use.
type Verifier struct {
	cfg     awssdk.Config
	timeout time.Duration
	// partitions are tried in order, the configured region's first.
	partitions []string
	limit      limit.Limiter

	mu    sync.Mutex
	cache map[Key]*pending
}

type pending struct {
	done chan struct{}
	res  Result
}

// NewVerifier returns a Verifier that calls STS as cfg says (region,
// endpoint, proxy, retries), giving each call timeout, retries included.
// A key STS refuses as unknown (InvalidClientTokenId) is tried once in
// each other partition of partitions (nil: all), so that a China or
// GovCloud key is not reported invalid.
func NewVerifier(cfg awssdk.Config, timeout time.Duration, partitions ...string) *Verifier {
	if len(partitions) == 0 {
		partitions = Partitions
	}
	home := partitionOf(cfg.Region)
	order := []string{}
	if slices.Contains(partitions, home) {
		order = append(order, home)
	}
	for _, p := range partitions {
		if p != home {
			order = append(order, p)
		}
	}
	return &Verifier{
		cfg:        cfg,
		timeout:    timeout,
		partitions: order,
		cache:      map[Key]*pending{},
	}
}

// limited makes v wait for a place in l before each key's calls.
func (v *Verifier) limited(l limit.Limiter) *Verifier {
	v.limit = l
	return v
}

// VerifyAll verifies keys with at most workers calls in flight and returns
// the results in the order of keys.
func (v *Verifier) VerifyAll(ctx context.Context, keys []Key, workers int) []Result {
	out := make([]Result, len(keys))
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for i, k := range keys {
		g.Go(func() error {
			out[i] = v.Verify(ctx, k)
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// Verify checks one key. A key of a canary-token account, a key id
// without a secret (or with a redacted one), and temporary credentials
// without their session token are not sent: the first would set off the
// canary, the others cannot prove anything.
func (v *Verifier) Verify(ctx context.Context, k Key) Result {
	r := v.verify(ctx, k)
	r.fresh = true
	return r
}

func (v *Verifier) verify(ctx context.Context, k Key) Result {
	account, decoded := detectors.AccountID(k.ID)
	if decoded && detectors.IsCanary(account) {
		return Result{Status: finding.StatusCanary, Account: account,
			Error: "key of a canary-token account: not sent to AWS, which would set off the alarm"}
	}
	if why := k.lacks(); why != "" {
		return Result{Status: finding.StatusUnknown, Error: why}
	}

	v.mu.Lock()
	p, ok := v.cache[k]
	if !ok {
		p = &pending{done: make(chan struct{})}
		v.cache[k] = p
	}
	v.mu.Unlock()
	if ok {
		select {
		case <-p.done:
			return p.res
		case <-ctx.Done():
			return Result{Status: finding.StatusUnknown, Error: "canceled"}
		}
	}
	if err := v.limit.Acquire(ctx); err != nil {
		p.res = Result{Status: finding.StatusUnknown, Error: "canceled"}
	} else {
		p.res = v.call(ctx, k)
		v.limit.Release()
	}
	close(p.done)
	return p.res
}

// call asks STS who k is, in each partition until one knows the key.
func (v *Verifier) call(ctx context.Context, k Key) Result {
	var first Result
	for i, p := range v.partitions {
		r := v.callIn(ctx, k, p)
		if r.code != "InvalidClientTokenId" {
			if r.Status == finding.StatusVerified || r.Status == finding.StatusInvalid {
				r.Partition = p
			}
			return r
		}
		if i == 0 {
			first = r
		}
	}
	if len(v.partitions) > 1 {
		first.Error = fmt.Sprintf("InvalidClientTokenId: the key id does not exist or is inactive (in partitions %s)", strings.Join(v.partitions, ", "))
	}
	return first
}

// callIn asks partition's STS who k is. SignatureDoesNotMatch is asked
// once more before it is believed: it proves the key id exists with
// another secret, which is worth being sure of. The answer is kept only
// when it has AWS's shape and holds no form of k's secrets (see
// describe).
func (v *Verifier) callIn(ctx context.Context, k Key, partition string) Result {
	secrets := []string{k.Secret, k.SessionToken}
	creds := credentials.NewStaticCredentialsProvider(k.ID, k.Secret, k.SessionToken)
	region := regionIn(v.cfg, partition)
	withKey := func(o *sts.Options) { o.Credentials, o.Region = creds, region }
	// A client, and so a signer, of its own for each key: the SDK's signer
	// caches the key it derives by access key id and day, not by secret
	// (aws/aws-sdk-go-v2#3350), so a second secret found with the same key
	// id would be signed with the first one's key: a live key reported
	// invalid, or a wrong secret verified.
	client := sts.NewFromConfig(v.cfg)
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, v.timeout)
		out, err := client.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{}, withKey)
		timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil {
			r := Result{
				Status:  finding.StatusVerified,
				Account: awssdk.ToString(out.Account),
				ARN:     awssdk.ToString(out.Arn),
				UserID:  awssdk.ToString(out.UserId),
			}
			if !identity(r.Account, r.ARN, r.UserID, secrets) {
				return Result{Status: finding.StatusUnknown, Error: errMalformedIdentity}
			}
			return r
		}
		switch apiCode(err) {
		case "InvalidClientTokenId":
			return Result{Status: finding.StatusInvalid, Error: "InvalidClientTokenId: the key id does not exist or is inactive", code: "InvalidClientTokenId"}
		case "ExpiredToken":
			return Result{Status: finding.StatusInvalid, Error: "ExpiredToken: the session token has expired"}
		case "SignatureDoesNotMatch":
			if attempt == 1 {
				continue
			}
			return Result{Status: finding.StatusInvalid,
				Error: "SignatureDoesNotMatch: the key id exists but the secret found with it is not its secret"}
		}
		msg := describe(err, secrets)
		if timedOut {
			msg = fmt.Sprintf("no answer from STS within %s", v.timeout)
		}
		return Result{Status: finding.StatusUnknown, Error: msg}
	}
}
