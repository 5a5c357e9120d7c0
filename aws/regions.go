package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// regionRe is the shape of an AWS region's name: it goes into host names.
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

const (
	// maxRegions bounds the regions an answer of EC2 may name (AWS has
	// about 40).
	maxRegions = 64
	// ec2Query is the whole of a DescribeRegions request: without
	// AllRegions, EC2 lists only the regions enabled for the account.
	ec2Query = "Action=DescribeRegions&Version=2016-11-15"
)

// IsRegion reports whether s has the shape of an AWS region's name.
func IsRegion(s string) bool { return regionRe.MatchString(s) }

// ParseRegions reads comma-separated lists of region names (repeated
// flags, each possibly a list), sorted and without duplicates.
func ParseRegions(list []string) ([]string, error) {
	out := splitList(list)
	for _, r := range out {
		if !IsRegion(r) {
			return nil, fmt.Errorf("invalid AWS region %q (want a name like eu-west-1)", r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// describeRegionsResponse is EC2's answer, in EC2's namespace.
type describeRegionsResponse struct {
	XMLName   xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeRegionsResponse"`
	RequestID string   `xml:"requestId"`
	Regions   []struct {
		Name     string `xml:"regionName"`
		Endpoint string `xml:"regionEndpoint"`
		OptIn    string `xml:"optInStatus"`
	} `xml:"regionInfo>item"`
}

// ec2ErrorResponse is EC2's error answer.
type ec2ErrorResponse struct {
	XMLName xml.Name `xml:"Response"`
	Errors  []struct {
		Code string `xml:"Code"`
	} `xml:"Errors>Error"`
}

// describeRegions lists the regions enabled for the account of creds,
// asking EC2 in region. It speaks EC2's Query protocol itself (one
// request, signed with the SDK's signer), which spares keysweep the EC2
// client's size. Throttling and server errors are retried as cfg's
// retryer says, waiting with sleep; timeout bounds the whole, retries
// included.
func describeRegions(ctx context.Context, cfg awssdk.Config, creds awssdk.CredentialsProvider, region string,
	timeout time.Duration, sleep func(context.Context, time.Duration) error) ([]string, error) {
	if !IsRegion(region) {
		return nil, ownError("no valid region to ask EC2 in: set AWS_REGION")
	}
	endpoint, err := ec2Endpoint(ctx, cfg, region)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	client := cfg.HTTPClient
	if client == nil {
		client = awshttp.NewBuildableClient()
	}
	retryer := newRetryer(cfg)
	signer := v4.NewSigner()
	for attempt := 1; ; attempt++ {
		regions, err := describeRegionsOnce(ctx, client, signer, creds, endpoint, region, cfg.AppID)
		if err == nil || attempt >= retryer.MaxAttempts() || !retryer.IsErrorRetryable(err) || ctx.Err() != nil {
			return regions, err
		}
		d, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		if d > 0 {
			if serr := sleep(ctx, d); serr != nil {
				return nil, err
			}
		}
	}
}

// newRetryer is the retryer cfg's SDK clients use, with AWS_MAX_ATTEMPTS
// applied as they apply it.
func newRetryer(cfg awssdk.Config) awssdk.Retryer {
	var r awssdk.Retryer
	if cfg.Retryer != nil {
		r = cfg.Retryer()
	}
	if r == nil {
		r = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts > 0 {
		r = retry.AddWithMaxAttempts(r, cfg.RetryMaxAttempts)
	}
	return r
}

func describeRegionsOnce(ctx context.Context, client awssdk.HTTPClient, signer *v4.Signer, creds awssdk.CredentialsProvider,
	endpoint, region, appID string) ([]string, error) {
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, ownError("the credentials to call EC2 with could not be loaded")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(ec2Query))
	if err != nil {
		return nil, ownError("the EC2 endpoint is not a URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	ua := "keysweep"
	if appID != "" {
		ua += " app/" + appID
	}
	req.Header.Set("User-Agent", ua)
	sum := sha256.Sum256([]byte(ec2Query))
	if err := signer.SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), "ec2", region, time.Now().UTC()); err != nil {
		return nil, ownError("the EC2 request could not be signed")
	}
	resp, err := client.Do(req)
	if err != nil {
		// Wrapped as the SDK wraps transport errors, so that the
		// retryer sees a retryable connection error and describe the
		// kind of failure.
		return nil, &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeRegions", Err: &smithyhttp.RequestSendError{Err: err}}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeRegions", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, ec2Failure(resp, body)
	}
	return parseRegions(body)
}

// ec2Failure is the error of an EC2 error answer: its HTTP status and its
// code, which the retryer and describe read. The message is not kept.
func ec2Failure(resp *http.Response, body []byte) error {
	var e ec2ErrorResponse
	code := ""
	if strictXML(body, &e) == nil && len(e.Errors) > 0 {
		code = e.Errors[0].Code
	}
	var err error = &smithy.GenericAPIError{Code: code}
	if code == "" {
		err = &smithy.DeserializationError{Err: errors.New("not an EC2 error answer")}
	}
	return &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeRegions", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: err},
	}}
}

// parseRegions reads a DescribeRegions answer and keeps the names of
// region shape, sorted, without duplicates.
func parseRegions(body []byte) ([]string, error) {
	var r describeRegionsResponse
	if err := strictXML(body, &r); err != nil {
		return nil, ownError("EC2 answered DescribeRegions with a document not in its format")
	}
	var out []string
	for _, item := range r.Regions {
		if IsRegion(item.Name) {
			out = append(out, item.Name)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, ownError("EC2 answered DescribeRegions with no region")
	}
	if len(out) > maxRegions {
		return nil, ownError(fmt.Sprintf("EC2 answered DescribeRegions with more than %d regions", maxRegions))
	}
	return out, nil
}

// strictXML decodes one XML document into v, refusing trailing content.
func strictXML(body []byte, v any) error {
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	dec.Strict = true
	if err := dec.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) != 0 {
				return errors.New("content after the document")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errors.New("content after the document")
		}
	}
}

// ec2Endpoint is where EC2 answers in region: the endpoint configured for
// EC2 (AWS_ENDPOINT_URL_EC2, or the shared config's services section),
// else cfg's (AWS_ENDPOINT_URL), else AWS's own, as the SDK's clients
// resolve it.
func ec2Endpoint(ctx context.Context, cfg awssdk.Config, region string) (string, error) {
	type serviceEndpoint interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	type ignoreEndpoints interface {
		GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
	}
	endpoint := ""
	if cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	}
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, own := os.LookupEnv("AWS_ENDPOINT_URL_EC2")
	ignore := false
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(ignoreEndpoints); ok {
			if v, found, err := p.GetIgnoreConfiguredEndpoints(ctx); err == nil && found {
				ignore = v
				break
			}
		}
	}
	if !ignore && (!global || own) {
		for _, src := range cfg.ConfigSources {
			if p, ok := src.(serviceEndpoint); ok {
				if v, found, err := p.GetServiceBaseEndpoint(ctx, "EC2"); err == nil && found {
					endpoint = v
					break
				}
			}
		}
	}
	if endpoint != "" {
		return endpoint, nil
	}
	host := "ec2." + region + ".amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		host += ".cn"
	}
	return "https://" + host, nil
}
