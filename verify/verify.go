package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"
)

// Verification statuses.
const (
	// StatusVerified: sts:GetCallerIdentity succeeded; the key is live.
	StatusVerified = "verified"
	// StatusInvalid: AWS says the key id does not exist or is inactive,
	// or that the secret does not belong to it.
	StatusInvalid = "invalid"
	// StatusUnknown: no definite answer (timeout, throttling, 5xx, no
	// network, nothing to sign with). Never to be read as invalid.
	StatusUnknown = "unknown"
	// StatusCanary: a canary token's key, deliberately never sent.
	StatusCanary = "canary"
)

// Key is an AWS credential found by a scan.
type Key struct {
	ID, Secret, SessionToken string
}

// Result is what verification learned of a key. Every field is always
// written, so that consumers of the JSON see one shape.
type Result struct {
	Status  string `json:"status"`
	Account string `json:"account"`
	ARN     string `json:"arn"`
	UserID  string `json:"user_id"`
	Error   string `json:"error"`
}

// Verifier checks keys with sts:GetCallerIdentity, each distinct key once.
// It is safe for concurrent use.
type Verifier struct {
	client  *sts.Client
	timeout time.Duration

	mu    sync.Mutex
	cache map[Key]*pending
}

type pending struct {
	done chan struct{}
	res  Result
}

// NewVerifier returns a Verifier that calls STS as cfg says (region,
// endpoint, proxy, retries), giving each call timeout, retries included.
func NewVerifier(cfg aws.Config, timeout time.Duration) *Verifier {
	return &Verifier{
		client:  sts.NewFromConfig(cfg),
		timeout: timeout,
		cache:   map[Key]*pending{},
	}
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
// without a secret, and temporary credentials without their session token
// are not sent: the first would set off the canary, the others cannot
// prove anything.
func (v *Verifier) Verify(ctx context.Context, k Key) Result {
	account, decoded := AccountID(k.ID)
	switch {
	case decoded && IsCanary(account):
		return Result{Status: StatusCanary, Account: account,
			Error: "key of a canary-token account: not sent to AWS, which would set off the alarm"}
	case k.Secret == "":
		return Result{Status: StatusUnknown, Error: "no secret access key found with this key id: not sent to AWS"}
	case strings.HasPrefix(k.ID, "ASIA") && k.SessionToken == "":
		return Result{Status: StatusUnknown, Error: "temporary key id (ASIA) without its session token: not sent to AWS"}
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
			return Result{Status: StatusUnknown, Error: "canceled"}
		}
	}
	p.res = v.call(ctx, k)
	close(p.done)
	return p.res
}

// call asks STS who k is. SignatureDoesNotMatch is asked once more before
// it is believed: it proves the key id exists with another secret, which
// is worth being sure of.
func (v *Verifier) call(ctx context.Context, k Key) Result {
	creds := credentials.NewStaticCredentialsProvider(k.ID, k.Secret, k.SessionToken)
	withKey := func(o *sts.Options) { o.Credentials = creds }
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, v.timeout)
		out, err := v.client.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{}, withKey)
		timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil {
			return Result{
				Status:  StatusVerified,
				Account: aws.ToString(out.Account),
				ARN:     aws.ToString(out.Arn),
				UserID:  aws.ToString(out.UserId),
			}
		}
		switch apiCode(err) {
		case "InvalidClientTokenId":
			return Result{Status: StatusInvalid, Error: "InvalidClientTokenId: the key id does not exist or is inactive"}
		case "ExpiredToken":
			return Result{Status: StatusInvalid, Error: "ExpiredToken: the session token has expired"}
		case "SignatureDoesNotMatch":
			if attempt == 1 {
				continue
			}
			return Result{Status: StatusInvalid,
				Error: "SignatureDoesNotMatch: the key id exists but the secret found with it is not its secret"}
		}
		msg := describe(err)
		if timedOut {
			msg = fmt.Sprintf("no answer from STS within %s", v.timeout)
		}
		return Result{Status: StatusUnknown, Error: scrub(msg, k)}
	}
}

// scrub removes k's secrets from msg, should an error ever echo them.
func scrub(msg string, k Key) string {
	for _, s := range []string{k.Secret, k.SessionToken} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "*****")
		}
	}
	return msg
}
