package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
func LoadConfig(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts = append([]func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.Backoff = backoff{base: 200 * time.Millisecond, max: 5 * time.Second}
				o.RateLimiter = ratelimit.None
			})
		}),
	}, opts...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
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

// describe turns an AWS SDK error into one short line for a report: the
// API error code and message, the HTTP status, or the network failure.
// It never includes request parameters, so no secret can leak through it.
func describe(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.ErrorCode()
		if m := apiErr.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
			msg = fmt.Sprintf("HTTP %d %s", re.HTTPStatusCode(), msg)
		}
		return msg
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return fmt.Sprintf("HTTP %d from AWS", re.HTTPStatusCode())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "request failed: " + ue.Error()
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
