package awstest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const (
	ownAccount   = "111122223333"
	otherAccount = "444455556666"
)

// trailClient is a CloudTrail client of the stand-in signing with c in
// region, without retries.
func trailClient(s *Server, c Credentials, region string) *cloudtrail.Client {
	return cloudtrail.New(cloudtrail.Options{
		Region:       region,
		BaseEndpoint: awssdk.String(s.URL),
		Credentials: awssdk.NewCredentialsCache(awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{AccessKeyID: c.KeyID, SecretAccessKey: c.Secret, SessionToken: c.SessionToken}, nil
		})),
		Retryer: awssdk.NopRetryer{},
	})
}

func byKey(id string, max int32) *cloudtrail.LookupEventsInput {
	return &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: awssdk.String(id)}},
		MaxResults:       awssdk.Int32(max),
	}
}

func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestLookupEventsPages(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	leaked := s.AddUserKey(ownAccount, "ci/deploy-bot", false)
	other := s.AddUserKey(ownAccount, "someone-else", false)
	foreign := s.AddUserKey(otherAccount, "app", false)
	now := time.Now()
	var want []string
	for i := range 120 {
		// Two events each second: pages must not split or repeat them.
		at := now.Add(-time.Duration(i/2) * time.Minute)
		want = append(want, s.AddEvent(Event{KeyID: leaked.KeyID, Region: "eu-west-1", Name: "ListBuckets", Source: "s3.amazonaws.com", Time: at, SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15"}))
	}
	s.AddEvent(Event{KeyID: leaked.KeyID, Region: "us-east-1", Name: "ListBuckets", Source: "s3.amazonaws.com", Time: now})
	s.AddEvent(Event{KeyID: leaked.KeyID, Region: "eu-west-1", Name: "Old", Source: "s3.amazonaws.com", Time: now.Add(-100 * 24 * time.Hour)})
	s.AddEvent(Event{KeyID: other.KeyID, Region: "eu-west-1", Name: "ListBuckets", Source: "s3.amazonaws.com", Time: now})
	// The same key id in another account's trail is another account's business.
	s.AddEvent(Event{KeyID: leaked.KeyID, Account: otherAccount, Region: "eu-west-1", Name: "ListBuckets", Source: "s3.amazonaws.com", Time: now})
	s.AddEvent(Event{KeyID: foreign.KeyID, Region: "eu-west-1", Name: "ListBuckets", Source: "s3.amazonaws.com", Time: now})

	client := trailClient(s, admin, "eu-west-1")
	var got []string
	var pages []int
	in := byKey(leaked.KeyID, 50)
	in.StartTime = awssdk.Time(now.Add(-120 * 24 * time.Hour))
	for {
		out, err := client.LookupEvents(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.Events))
		for _, e := range out.Events {
			if *e.AccessKeyId != leaked.KeyID || *e.EventName != "ListBuckets" {
				t.Errorf("event %s %s", *e.AccessKeyId, *e.EventName)
			}
			var rec struct{ SourceIPAddress, UserAgent, AwsRegion string }
			if err := json.Unmarshal([]byte(*e.CloudTrailEvent), &rec); err != nil || rec.SourceIPAddress != "203.0.113.7" || rec.UserAgent != "aws-cli/2.15" || rec.AwsRegion != "eu-west-1" {
				t.Errorf("CloudTrailEvent %s: %v", *e.CloudTrailEvent, err)
			}
			got = append(got, *e.EventId)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if diff := cmp.Diff([]int{50, 50, 20}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := s.Count("LookupEvents"); n != 3 {
		t.Errorf("%d LookupEvents calls, want 3", n)
	}
	for _, c := range s.Calls() {
		if c.Params.Get("AttributeValue") != leaked.KeyID || c.KeyID != admin.KeyID || c.Region != "eu-west-1" {
			t.Errorf("call %+v", c)
		}
	}
}

func TestLookupEventsNewestFirst(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	leaked := s.AddUserKey(ownAccount, "ci/deploy-bot", false)
	now := time.Now().Truncate(time.Second)
	for _, d := range []time.Duration{5, 1, 3, 2, 4} {
		s.AddEvent(Event{KeyID: leaked.KeyID, Region: "us-east-1", Name: "E", Source: "s3.amazonaws.com", Time: now.Add(-d * time.Hour)})
	}
	in := byKey(leaked.KeyID, 2)
	in.StartTime, in.EndTime = awssdk.Time(now.Add(-4*time.Hour)), awssdk.Time(now.Add(-2*time.Hour))
	var got []time.Time
	for {
		out, err := trailClient(s, admin, "us-east-1").LookupEvents(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			got = append(got, *e.EventTime)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	want := []time.Time{now.Add(-2 * time.Hour), now.Add(-3 * time.Hour), now.Add(-4 * time.Hour)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestLookupEventsErrors(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	leaked := s.AddUserKey(ownAccount, "ci/deploy-bot", false)
	for range 3 {
		s.AddEvent(Event{KeyID: leaked.KeyID, Region: "eu-west-1", Name: "E", Source: "s3.amazonaws.com", Time: time.Now()})
		s.AddEvent(Event{KeyID: leaked.KeyID, Region: "us-east-1", Name: "E", Source: "s3.amazonaws.com", Time: time.Now()})
	}
	first, err := trailClient(s, admin, "eu-west-1").LookupEvents(context.Background(), byKey(leaked.KeyID, 1))
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	token := *first.NextToken
	wrongSecret := admin
	wrongSecret.Secret = strings.ToUpper(admin.Secret)
	now := time.Now()

	tests := []struct {
		name   string
		creds  Credentials
		region string
		in     *cloudtrail.LookupEventsInput
		code   string
	}{
		{"token continues", admin, "eu-west-1", with(byKey(leaked.KeyID, 1), func(in *cloudtrail.LookupEventsInput) { in.NextToken = &token }), ""},
		{"token of another region", admin, "us-east-1", with(byKey(leaked.KeyID, 1), func(in *cloudtrail.LookupEventsInput) { in.NextToken = &token }), "InvalidNextTokenException"},
		{"token of another lookup", admin, "eu-west-1", with(byKey(admin.KeyID, 1), func(in *cloudtrail.LookupEventsInput) { in.NextToken = &token }), "InvalidNextTokenException"},
		{"token with other times", admin, "eu-west-1", with(byKey(leaked.KeyID, 1), func(in *cloudtrail.LookupEventsInput) {
			in.NextToken, in.StartTime = &token, awssdk.Time(now.Add(-time.Hour))
		}), "InvalidNextTokenException"},
		{"forged token", admin, "eu-west-1", with(byKey(leaked.KeyID, 1), func(in *cloudtrail.LookupEventsInput) {
			// The cursor moved back to the start, with the old signature.
			p, mac, _ := strings.Cut(token, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(p)
			var c cursor
			_ = json.Unmarshal(raw, &c)
			c.At = time.Now().Add(time.Hour).UnixNano()
			raw, _ = json.Marshal(c)
			forged := base64.RawURLEncoding.EncodeToString(raw) + "." + mac
			in.NextToken = &forged
		}), "InvalidNextTokenException"},
		{"more than 50", admin, "eu-west-1", byKey(leaked.KeyID, 51), "InvalidMaxResultsException"},
		{"start after end", admin, "eu-west-1", with(byKey(leaked.KeyID, 50), func(in *cloudtrail.LookupEventsInput) {
			in.StartTime, in.EndTime = awssdk.Time(now), awssdk.Time(now.Add(-time.Hour))
		}), "InvalidTimeRangeException"},
		{"two attributes", admin, "eu-west-1", with(byKey(leaked.KeyID, 50), func(in *cloudtrail.LookupEventsInput) {
			in.LookupAttributes = append(in.LookupAttributes, types.LookupAttribute{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: awssdk.String("E")})
		}), "InvalidLookupAttributesException"},
		{"not allowed", leaked, "eu-west-1", byKey(leaked.KeyID, 50), "AccessDeniedException"},
		{"wrong secret", wrongSecret, "eu-west-1", byKey(leaked.KeyID, 50), "InvalidSignatureException"},
		{"region not opted in", admin, "af-south-1", byKey(leaked.KeyID, 50), "UnrecognizedClientException"},
		{"region of another partition", admin, "cn-north-1", byKey(leaked.KeyID, 50), "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		_, err := trailClient(s, tt.creds, tt.region).LookupEvents(context.Background(), tt.in)
		if got := code(err); got != tt.code {
			t.Errorf("%s: %q (%v), want %q", tt.name, got, err, tt.code)
		}
	}
}

func with(in *cloudtrail.LookupEventsInput, f func(*cloudtrail.LookupEventsInput)) *cloudtrail.LookupEventsInput {
	f(in)
	return in
}

func TestThrottleTrail(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	s.ThrottleTrail("eu-west-1", 2)
	var got []string
	for _, region := range []string{"eu-west-1", "us-east-1", "eu-west-1", "eu-west-1", "eu-west-1"} {
		_, err := trailClient(s, admin, region).LookupEvents(context.Background(), byKey(admin.KeyID, 50))
		got = append(got, region+" "+code(err))
	}
	want := []string{"eu-west-1 ThrottlingException", "us-east-1 ", "eu-west-1 ThrottlingException", "eu-west-1 ", "eu-west-1 "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	for _, c := range s.Calls() {
		if c.Code == "ThrottlingException" && c.Status != http.StatusBadRequest {
			t.Errorf("throttled with %d", c.Status)
		}
	}
}

// TestCallsBecomeEvents: every authenticated call is an event of the
// caller's account, in the region it was signed for.
func TestCallsBecomeEvents(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	client := trailClient(s, admin, "eu-central-1")
	if _, err := client.LookupEvents(context.Background(), byKey(admin.KeyID, 50)); err != nil {
		t.Fatal(err)
	}
	out, err := client.LookupEvents(context.Background(), byKey(admin.KeyID, 50))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 2 { // the first call and this one
		t.Fatalf("%d events, want 2", len(out.Events))
	}
	e := out.Events[0]
	if *e.EventName != "LookupEvents" || *e.EventSource != "cloudtrail.amazonaws.com" || *e.Username != "security-admin" || *e.ReadOnly != "true" {
		t.Errorf("event %+v", e)
	}
	if d := time.Since(*e.EventTime); d < 0 || d > time.Minute {
		t.Errorf("event time %s", e.EventTime)
	}
	var rec struct {
		EventName, EventSource, AwsRegion, SourceIPAddress, UserAgent string
		UserIdentity                                                  struct{ AccessKeyID, AccountID, Type string }
	}
	if err := json.Unmarshal([]byte(*e.CloudTrailEvent), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.EventName != "LookupEvents" || rec.AwsRegion != "eu-central-1" || rec.SourceIPAddress != "127.0.0.1" ||
		!strings.Contains(rec.UserAgent, "aws-sdk-go-v2") || rec.UserIdentity.AccessKeyID != admin.KeyID ||
		rec.UserIdentity.AccountID != ownAccount || rec.UserIdentity.Type != "IAMUser" {
		t.Errorf("CloudTrailEvent %s", *e.CloudTrailEvent)
	}
	if n := s.Events(ownAccount, "eu-central-1"); n != 2 {
		t.Errorf("Events: %d", n)
	}
}

// signed sends a request signed with c for service in region.
func signed(t *testing.T, s *Server, c Credentials, service, region string, header http.Header, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	sum := sha256.Sum256([]byte(body))
	creds := awssdk.Credentials{AccessKeyID: c.KeyID, SecretAccessKey: c.Secret, SessionToken: c.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestJSONTargets(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", 200, `"Events":[]`},
		{"CloudTrail_20131101.LookupEvents", 200, `"Events":[]`},
		{"CloudTrail_20131101.DeleteTrail", 400, `{"__type":"UnknownOperationException"`},
	}
	for _, tt := range tests {
		h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {tt.target}}
		status, body := signed(t, s, admin, "cloudtrail", "us-east-1", h, `{"LookupAttributes":[{"AttributeKey":"AccessKeyId","AttributeValue":"AKIAXXXXXXXXXXXXXXXX"}]}`)
		if status != tt.status || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s: %d %s", tt.target, status, body)
		}
	}
}

type regionsAnswer struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeRegionsResponse"`
	Items   []struct {
		Name     string `xml:"regionName"`
		Endpoint string `xml:"regionEndpoint"`
		OptIn    string `xml:"optInStatus"`
	} `xml:"regionInfo>item"`
}

type ec2Errors struct {
	Codes []string `xml:"Errors>Error>Code"`
}

func TestDescribeRegions(t *testing.T) {
	t.Parallel()
	s := New(t)
	admin := s.AddUserKey(ownAccount, "security-admin", true)
	optedIn := s.AddUserKey(otherAccount, "security-admin", true)
	s.SetRegions(otherAccount, append(Regions("aws"), "af-south-1", "cn-north-1")...)
	china := s.AddUserKey("555566667777", "admin", true)
	s.SetPartition(china.KeyID, "aws-cn")
	user := s.AddUserKey(ownAccount, "dev", false)
	throttled := s.AddUserKey(ownAccount, "busy", true)
	s.Throttle(throttled.KeyID, 1)

	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	const query = "Action=DescribeRegions&Version=2016-11-15"
	tests := []struct {
		name          string
		creds         Credentials
		region, query string
		status        int
		want          []string // names, or the error code
		statuses      map[string]string
	}{
		{"enabled regions", admin, "eu-west-1", query, 200, Regions("aws"), map[string]string{"us-east-1": "opt-in-not-required"}},
		{"with an opt-in region", optedIn, "us-east-1", query, 200, slices.Sorted(slices.Values(append(Regions("aws"), "af-south-1"))),
			map[string]string{"af-south-1": "opted-in", "eu-west-1": "opt-in-not-required"}},
		{"all regions", admin, "us-east-1", query + "&AllRegions=true", 200,
			slices.Sorted(slices.Values(append(Regions("aws"), OptInRegions()...))), map[string]string{"af-south-1": "not-opted-in"}},
		{"named regions", admin, "us-east-1", query + "&RegionName.1=af-south-1&RegionName.2=eu-west-1", 200, []string{"af-south-1", "eu-west-1"}, nil},
		{"china", china, "cn-north-1", query, 200, []string{"cn-north-1", "cn-northwest-1"}, nil},
		{"not allowed", user, "us-east-1", query, 403, []string{"UnauthorizedOperation"}, nil},
		{"region not opted in", admin, "af-south-1", query, 401, []string{"AuthFailure"}, nil},
		{"throttled", throttled, "us-east-1", query, 503, []string{"RequestLimitExceeded"}, nil},
		{"other action", admin, "us-east-1", "Action=DescribeInstances&Version=2016-11-15", 400, []string{"InvalidAction"}, nil},
	}
	for _, tt := range tests {
		status, body := signed(t, s, tt.creds, "ec2", tt.region, form.Clone(), tt.query)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.status, body)
			continue
		}
		var got []string
		if status != 200 {
			var e ec2Errors
			if err := xml.Unmarshal(body, &e); err != nil {
				t.Errorf("%s: %v: %s", tt.name, err, body)
			}
			got = e.Codes
		} else {
			var a regionsAnswer
			if err := xml.Unmarshal(body, &a); err != nil {
				t.Errorf("%s: %v: %s", tt.name, err, body)
			}
			for _, it := range a.Items {
				got = append(got, it.Name)
				if want, ok := tt.statuses[it.Name]; ok && it.OptIn != want {
					t.Errorf("%s: %s is %s, want %s", tt.name, it.Name, it.OptIn, want)
				}
				if !strings.HasPrefix(it.Endpoint, "ec2."+it.Name+".amazonaws.com") {
					t.Errorf("%s: endpoint %s", tt.name, it.Endpoint)
				}
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, c := range s.Calls() {
		if c.Action == "DescribeRegions" && c.KeyID == "" {
			t.Errorf("call without a key: %+v", c)
		}
	}
	if n := s.Events(ownAccount, "eu-west-1"); n != 1 {
		t.Errorf("%d events in eu-west-1, want 1", n)
	}
}
