package aws

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// DefaultRegion is used when the environment names no region: STS and
// IAM answer there for the standard partition.
const DefaultRegion = "us-east-1"

// LoadConfig loads the AWS configuration the way the AWS CLI does: region,
// profile, endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL_IAM, or the shared config file), proxies
// (HTTPS_PROXY, NO_PROXY), retries (AWS_MAX_ATTEMPTS) and the default
// credential chain, which only remediation uses: verification signs with
// the keys it found.
//
// Throttling is retried with jittered exponential backoff, and without the
// SDK's client-side retry quota: a scan that verifies many keys must wait
// for AWS, not give up on its own.
func LoadConfig(ctx context.Context, opts ...func(*config.LoadOptions) error) (awssdk.Config, error) {
	opts = append([]func(*config.LoadOptions) error{
		retryer(backoff{base: 200 * time.Millisecond, max: 5 * time.Second}),
		// Every call says it is keysweep's ("app/keysweep" in the user
		// agent): CloudTrail then tells keysweep's own verification from
		// other use of a key.
		config.WithAppID("keysweep"),
	}, opts...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return awssdk.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}

// WithBackoff is an option of LoadConfig: retries wait what delay says
// for each retry (1 for the first) instead of the jittered exponential
// backoff. Tests pass one that returns 0, and so never sleep.
func WithBackoff(delay func(attempt int) time.Duration) func(*config.LoadOptions) error {
	return retryer(backoffFunc(delay))
}

func retryer(b retry.BackoffDelayer) func(*config.LoadOptions) error {
	return config.WithRetryer(func() awssdk.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = b
			o.RateLimiter = ratelimit.None
		})
	})
}

type backoffFunc func(attempt int) time.Duration

func (f backoffFunc) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	return f(attempt), nil
}

// backoff waits a random time up to base·2^(attempt-1), capped at max.
type backoff struct{ base, max time.Duration }

func (b backoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	d := b.max
	if attempt < 20 {
		d = min(b.base<<(attempt-1), b.max)
	}
	return d/2 + rand.N(d/2+1), nil
}

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
