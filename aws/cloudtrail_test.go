package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
)

// trailClock is a frozen clock: Sleep records what it is asked and
// returns at once, so that every pause is the whole of one.
type trailClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *trailClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *trailClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *trailClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// trailEstate is an account whose key leaked, and the user's own key.
type trailEstate struct {
	s             *awstest.Server
	admin, leaked awstest.Credentials
	cfg           awssdk.Config
	clock         *trailClock
	steps         []string
}

// threeRegions are the regions enabled for the account, unless a test
// says otherwise.
var threeRegions = []string{"ap-southeast-1", "eu-west-1", "us-east-1"}

func newTrailEstate(t *testing.T, opts ...func(*config.LoadOptions) error) *trailEstate {
	s := awstest.New(t)
	e := &trailEstate{
		s:      s,
		admin:  s.AddUserKey(ownAccount, "security-admin", true),
		leaked: s.AddUserKey(ownAccount, "ci/deploy-bot", false),
		clock:  &trailClock{now: time.Now()},
	}
	s.SetRegions(ownAccount, threeRegions...)
	e.cfg = testConfig(t, s, e.admin, append([]func(*config.LoadOptions) error{config.WithAppID("keysweep")}, opts...)...)
	t.Cleanup(func() { e.checkLeakedNeverSigns(t) })
	return e
}

// event places an event of the leaked key, ago before the clock's now.
func (e *trailEstate) event(region, name string, ago time.Duration, ip, agent string) {
	e.s.AddEvent(awstest.Event{KeyID: e.leaked.KeyID, Region: region, Name: name, Source: "ec2.amazonaws.com",
		Time: e.clock.Now().Add(-ago), SourceIP: ip, UserAgent: agent})
}

func (e *trailEstate) lookup(since time.Time, opts TrailOptions) *finding.CloudTrail {
	opts.Now, opts.Sleep = e.clock.Now, e.clock.Sleep
	creds := credentials.NewStaticCredentialsProvider(e.admin.KeyID, e.admin.Secret, "")
	return lookupTrail(context.Background(), e.cfg, creds, e.leaked.KeyID, since, opts, func(call, region string, err error) error {
		s := call + " " + region
		if err != nil {
			s += ": " + err.Error()
		}
		e.steps = append(e.steps, s)
		return nil
	})
}

// checkLeakedNeverSigns: whatever a test did, the leaked key signed no
// call of CloudTrail or EC2.
func (e *trailEstate) checkLeakedNeverSigns(t *testing.T) {
	for _, c := range e.s.CallsBy(e.leaked.KeyID) {
		if c.Action == "LookupEvents" || c.Action == "DescribeRegions" {
			t.Errorf("the leaked key signed %s in %s", c.Action, c.Region)
		}
	}
}

// lookups counts the LookupEvents calls in each region.
func (e *trailEstate) lookups(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, c := range e.s.Calls() {
		if c.Action == "LookupEvents" {
			if c.KeyID != e.admin.KeyID || c.Params.Get("AttributeKey") != "AccessKeyId" || c.Params.Get("AttributeValue") != e.leaked.KeyID {
				t.Errorf("unexpected lookup %+v", c)
			}
			out[c.Region]++
		}
	}
	return out
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestLookupTrail(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	now := e.clock.Now()
	// 120 events in eu-west-1 (three pages), 3 in us-east-1, none in
	// ap-southeast-1.
	for i := range 100 {
		e.event("eu-west-1", "DescribeInstances", time.Duration(i+1)*time.Minute, "203.0.113.7", "aws-cli/2.15.0 Python/3.11")
	}
	for i := range 20 {
		e.event("eu-west-1", "RunInstances", time.Duration(i+1)*time.Hour, "::ffff:198.51.100.2", "Boto3/1.34.0")
	}
	e.event("us-east-1", "GetCallerIdentity", 3*24*time.Hour, "ec2.amazonaws.com", "aws-cli/2.15.0 Python/3.11")
	e.event("us-east-1", "CreateUser", 2*24*time.Hour, "192.0.2.44", "")
	e.event("us-east-1", "CreateAccessKey", 2*24*time.Hour-time.Second, "192.0.2.44", "")
	// What is not the leaked key's, in its account's trail, and the same
	// key id in another account's: never counted.
	other := e.s.AddUserKey(ownAccount, "someone-else", false)
	e.s.AddEvent(awstest.Event{KeyID: other.KeyID, Region: "eu-west-1", Name: "DeleteBucket", Source: "s3.amazonaws.com", Time: now.Add(-time.Hour)})
	e.s.AddEvent(awstest.Event{KeyID: e.leaked.KeyID, Account: foreignAccount, Region: "eu-west-1", Name: "DeleteBucket", Source: "s3.amazonaws.com", Time: now.Add(-time.Hour)})

	since := now.Add(-30 * 24 * time.Hour)
	got := e.lookup(since, TrailOptions{Expected: []string{"eu-west-1"}})
	want := &finding.CloudTrail{
		From: rfc(since), To: rfc(now),
		Regions: threeRegions,
		Events:  123,
		First:   rfc(now.Add(-3 * 24 * time.Hour).Truncate(time.Second)),
		Last:    rfc(now.Add(-time.Minute).Truncate(time.Second)),
		EventNames: []finding.Count{
			{Name: "DescribeInstances", Count: 100}, {Name: "RunInstances", Count: 20},
			{Name: "CreateAccessKey", Count: 1}, {Name: "CreateUser", Count: 1}, {Name: "GetCallerIdentity", Count: 1},
		},
		EventRegions:      []string{"eu-west-1", "us-east-1"},
		SourceIPs:         []string{"192.0.2.44", "198.51.100.2", "203.0.113.7"},
		UserAgents:        []string{"Boto3/1.34.0", "aws-cli/2.15.0 Python/3.11"},
		Unexpected:        3,
		UnexpectedRegions: []string{"us-east-1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lookupTrail (-want +got):\n%s", diff)
	}
	if n := e.s.Count("DescribeRegions"); n != 1 {
		t.Errorf("%d DescribeRegions calls, want 1", n)
	}
	if diff := cmp.Diff(map[string]int{"ap-southeast-1": 1, "eu-west-1": 3, "us-east-1": 1}, e.lookups(t)); diff != "" {
		t.Errorf("LookupEvents calls by region (-want +got):\n%s", diff)
	}
	for _, c := range e.s.Calls() {
		if c.Action == "LookupEvents" && (c.Params.Get("StartTime") != rfc(since) || c.Params.Get("EndTime") != rfc(now) || c.Params.Get("MaxResults") != "50") {
			t.Errorf("lookup %v", c.Params)
		}
		if c.Action == "DescribeRegions" && c.Region != "eu-west-1" {
			t.Errorf("DescribeRegions asked in %s, want the configuration's region", c.Region)
		}
	}
	// Two pauses of half a second between eu-west-1's pages, no more.
	if diff := cmp.Diff([]time.Duration{trailPace, trailPace}, e.clock.slept()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	if len(e.steps) != 6 || e.steps[0] != "describe-regions eu-west-1" {
		t.Errorf("steps %q", e.steps)
	}
}

func TestLookupTrailThrottled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		backoff func(attempt int) time.Duration
		sleeps  []time.Duration
	}{
		// Every call waits for the pace; retries too.
		{"no backoff", func(int) time.Duration { return 0 },
			[]time.Duration{trailPace, trailPace, trailPace, trailPace}},
		// The retryer's backoff, then the pace (the clock is frozen).
		{"backoff", func(a int) time.Duration { return time.Duration(a) * time.Second },
			[]time.Duration{time.Second, trailPace, 2 * time.Second, trailPace, trailPace, trailPace}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTrailEstate(t, WithBackoff(tt.backoff))
			for i := range 120 {
				e.event("eu-west-1", "ListBuckets", time.Duration(i+1)*time.Minute, "203.0.113.7", "aws-cli/2")
			}
			e.s.ThrottleTrail("eu-west-1", 2)
			got := e.lookup(time.Time{}, TrailOptions{Regions: []string{"eu-west-1"}})
			if got.Events != 120 || len(got.Failed) != 0 || got.Error != "" {
				t.Errorf("events %d, failed %q, error %q", got.Events, got.Failed, got.Error)
			}
			if diff := cmp.Diff(map[string]int{"eu-west-1": 5}, e.lookups(t)); diff != "" {
				t.Errorf("LookupEvents calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sleeps, e.clock.slept()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			want := []string{
				"lookup-events eu-west-1: HTTP 400 ThrottlingException: rate exceeded",
				"lookup-events eu-west-1: HTTP 400 ThrottlingException: rate exceeded",
				"lookup-events eu-west-1", "lookup-events eu-west-1", "lookup-events eu-west-1",
			}
			if diff := cmp.Diff(want, e.steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookupTrailRegions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		regions  []string
		setup    func(e *trailEstate)
		describe int
		lookups  map[string]int
		want     func(e *trailEstate) *finding.CloudTrail
	}{
		{
			name: "given regions: EC2 not asked", regions: []string{"us-east-1", "eu-west-1", "eu-west-1"},
			lookups: map[string]int{"eu-west-1": 1, "us-east-1": 1},
			want: func(e *trailEstate) *finding.CloudTrail {
				return emptyTrail(e, []string{"eu-west-1", "us-east-1"})
			},
		},
		{
			name: "every enabled region, opt-in ones among them", describe: 1,
			setup:   func(e *trailEstate) { e.s.SetRegions(ownAccount, "eu-west-1", "af-south-1") },
			lookups: map[string]int{"af-south-1": 1, "eu-west-1": 1},
			want: func(e *trailEstate) *finding.CloudTrail {
				return emptyTrail(e, []string{"af-south-1", "eu-west-1"})
			},
		},
		{
			name: "the partition's defaults", describe: 1,
			setup:   func(e *trailEstate) { e.s.SetRegions(ownAccount, awstest.Regions("aws")...) },
			lookups: each(awstest.Regions("aws")),
			want: func(e *trailEstate) *finding.CloudTrail {
				return emptyTrail(e, awstest.Regions("aws"))
			},
		},
		{
			name: "a region not enabled and one always throttled fail; the other is read", regions: []string{"af-south-1", "eu-west-1", "us-east-1"},
			setup:   func(e *trailEstate) { e.s.ThrottleTrail("us-east-1", 100) },
			lookups: map[string]int{"af-south-1": 1, "eu-west-1": 1, "us-east-1": 5},
			want: func(e *trailEstate) *finding.CloudTrail {
				ct := emptyTrail(e, []string{"af-south-1", "eu-west-1", "us-east-1"})
				ct.Events, ct.First, ct.Last = 1, rfc(e.clock.Now().Add(-time.Hour).Truncate(time.Second)), rfc(e.clock.Now().Add(-time.Hour).Truncate(time.Second))
				ct.EventNames, ct.EventRegions = []finding.Count{{Name: "ListBuckets", Count: 1}}, []string{"eu-west-1"}
				ct.SourceIPs, ct.UserAgents = []string{"203.0.113.9"}, []string{"curl"}
				ct.Failed = []string{"af-south-1", "us-east-1"}
				ct.Error = "af-south-1: HTTP 400 UnrecognizedClientException: the key id does not exist or is inactive; us-east-1: HTTP 400 ThrottlingException: rate exceeded"
				return ct
			},
		},
		{
			name: "EC2 refuses: no lookup", describe: 1,
			setup: func(e *trailEstate) {
				// The user's key may read CloudTrail but not list regions.
				e.admin = e.s.AddUserKey(ownAccount, "reader", false)
			},
			lookups: map[string]int{},
			want: func(e *trailEstate) *finding.CloudTrail {
				ct := emptyTrail(e, []string{})
				ct.Error = "could not list the account's regions (ec2:DescribeRegions in eu-west-1): HTTP 403 UnauthorizedOperation: give the regions to look in"
				return ct
			},
		},
		{
			name: "EC2 throttles, then answers", describe: 3,
			setup:   func(e *trailEstate) { e.s.Throttle(e.admin.KeyID, 2) },
			lookups: each(threeRegions),
			want:    func(e *trailEstate) *finding.CloudTrail { return emptyTrail(e, threeRegions) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTrailEstate(t)
			e.event("eu-west-1", "ListBuckets", time.Hour, "203.0.113.9", "curl")
			if tt.setup != nil {
				tt.setup(e)
			}
			if tt.want(e).Events == 0 {
				// A key without events: the one placed above is not its.
				e.leaked = e.s.AddUserKey(ownAccount, "quiet", false)
			}
			got := e.lookup(time.Time{}, TrailOptions{Regions: tt.regions})
			if diff := cmp.Diff(tt.want(e), got); diff != "" {
				t.Errorf("lookupTrail (-want +got):\n%s", diff)
			}
			if n := e.s.Count("DescribeRegions"); n != tt.describe {
				t.Errorf("%d DescribeRegions calls, want %d", n, tt.describe)
			}
			if diff := cmp.Diff(tt.lookups, e.lookups(t)); diff != "" {
				t.Errorf("LookupEvents calls by region (-want +got):\n%s", diff)
			}
		})
	}
}

func each(regions []string) map[string]int {
	out := map[string]int{}
	for _, r := range regions {
		out[r] = 1
	}
	return out
}

// emptyTrail is the result of a lookup that found nothing, over 90 days.
func emptyTrail(e *trailEstate, regions []string) *finding.CloudTrail {
	now := e.clock.Now()
	return &finding.CloudTrail{
		From: rfc(now.Add(-trailRetention)), To: rfc(now), Regions: regions,
		EventNames: []finding.Count{}, EventRegions: []string{}, SourceIPs: []string{}, UserAgents: []string{},
	}
}

func TestLookupTrailWindow(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	now := e.clock.Now()
	for _, days := range []int{1, 20, 89, 100} {
		e.event("eu-west-1", fmt.Sprintf("Day%d", days), time.Duration(days)*24*time.Hour, "192.0.2.1", "x")
	}
	day := 24 * time.Hour
	tests := []struct {
		name    string
		since   time.Time
		from    time.Time
		clipped bool
		events  int
	}{
		{"since 10 days", now.Add(-10 * day), now.Add(-10 * day), false, 1},
		{"since 30 days", now.Add(-30 * day), now.Add(-30 * day), false, 2},
		{"older than CloudTrail keeps", now.Add(-200 * day), now.Add(-90 * day), true, 3},
		{"unknown", time.Time{}, now.Add(-90 * day), false, 3},
		{"in the future", now.Add(day), now.Add(-90 * day), false, 3},
	}
	for _, tt := range tests {
		got := e.lookup(tt.since, TrailOptions{Regions: []string{"eu-west-1"}})
		if got.From != rfc(tt.from) || got.To != rfc(now) || got.Clipped != tt.clipped || got.Events != tt.events || got.Error != "" {
			t.Errorf("%s: from %s to %s clipped %v, %d events, error %q; want from %s clipped %v, %d events",
				tt.name, got.From, got.To, got.Clipped, got.Events, got.Error, rfc(tt.from), tt.clipped, tt.events)
		}
	}
}

// TestLookupTrailOwnVerification: keysweep's own GetCallerIdentity,
// signed with the leaked key, is counted apart; the same call with
// another user agent is the attacker's.
func TestLookupTrailOwnVerification(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	res := NewVerifier(e.cfg, 10*time.Second).Verify(context.Background(), Key{ID: e.leaked.KeyID, Secret: e.leaked.Secret})
	if res.Status != finding.StatusVerified {
		t.Fatalf("verification: %+v", res)
	}
	e.clock.now = time.Now()
	e.event("eu-west-1", "GetCallerIdentity", time.Hour, "203.0.113.5", "aws-cli/2.15.0")
	got := e.lookup(time.Time{}, TrailOptions{Regions: []string{"eu-west-1"}})
	if got.Own != 1 || got.Events != 1 || got.UserAgents[0] != "aws-cli/2.15.0" || len(got.UserAgents) != 1 || len(got.SourceIPs) != 1 {
		t.Errorf("own %d, events %d, user agents %q, IPs %q", got.Own, got.Events, got.UserAgents, got.SourceIPs)
	}
}

func TestLookupTrailHostileEvents(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	agent := "evil\x1b[31mred\x1b[0m\nsecond line\r\u202eesrever\u200b\x00" + strings.Repeat("A", 500)
	e.event("eu-west-1", "Run\nInstances\x1b]0;title\x07", time.Hour, "1.2.3.4<script>", agent)
	e.event("eu-west-1", "ListBuckets", time.Hour, "fe80::1%\x1b[31meth0", "\u009b31mok")
	e.event("eu-west-1", "ListBuckets", 2*time.Hour, "   ", "\u202e\n\t")
	e.s.AddEvent(awstest.Event{KeyID: e.leaked.KeyID, Region: "eu-west-1", Name: "GetObject", Source: "s3.amazonaws.com",
		Time: e.clock.Now().Add(-time.Hour), Record: `{"sourceIPAddress": "192.0.2.1", "userAgent": ` + strings.Repeat("[", 10000)})
	got := e.lookup(time.Time{}, TrailOptions{Regions: []string{"eu-west-1"}})
	wantAgent := "evil red second line esrever " + strings.Repeat("A", 200-len("evil red second line esrever "))
	if diff := cmp.Diff([]string{wantAgent, "ok"}, got.UserAgents); diff != "" {
		t.Errorf("user agents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"fe80::1"}, got.SourceIPs); diff != "" {
		t.Errorf("source IPs (-want +got):\n%s", diff)
	}
	wantNames := []finding.Count{{Name: "ListBuckets", Count: 2}, {Name: "GetObject", Count: 1}, {Name: "Run Instances ]0;title", Count: 1}}
	if diff := cmp.Diff(wantNames, got.EventNames); diff != "" {
		t.Errorf("event names (-want +got):\n%s", diff)
	}
	if got.Events != 4 {
		t.Errorf("%d events, want 4", got.Events)
	}
}

// TestLookupTrailCaps: lists are capped, counts are not.
func TestLookupTrailCaps(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	for i := range 60 {
		// Name i is seen i+1 times... approximately: names 0..14, IPs and
		// agents all distinct.
		e.event("us-east-1", fmt.Sprintf("Call%02d", i%15), time.Duration(i+1)*time.Minute,
			fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("agent/%02d", i))
	}
	got := e.lookup(time.Time{}, TrailOptions{Regions: []string{"us-east-1"}})
	if got.Events != 60 || len(got.EventNames) != maxEventNames || len(got.SourceIPs) != maxListed || len(got.UserAgents) != maxListed {
		t.Errorf("events %d, names %d, IPs %d, agents %d", got.Events, len(got.EventNames), len(got.SourceIPs), len(got.UserAgents))
	}
	if got.EventNames[0] != (finding.Count{Name: "Call00", Count: 4}) {
		t.Errorf("most frequent %+v", got.EventNames[0])
	}
	if got.UserAgents[0] != "agent/00" || got.UserAgents[19] != "agent/19" {
		t.Errorf("agents %q", got.UserAgents)
	}
}

func TestLookupTrailPageCap(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	n := trailMaxPages*trailPageSize + 10
	for i := range n {
		e.event("eu-west-1", "ListBuckets", time.Duration(i+1)*time.Second, "192.0.2.1", "x")
	}
	got := e.lookup(time.Time{}, TrailOptions{Regions: []string{"eu-west-1"}})
	if got.Events != trailMaxPages*trailPageSize || len(got.Failed) != 1 || !strings.Contains(got.Error, "more than 200 pages") {
		t.Errorf("events %d, failed %q, error %q", got.Events, got.Failed, got.Error)
	}
	if c := e.lookups(t)["eu-west-1"]; c != trailMaxPages {
		t.Errorf("%d calls, want %d", c, trailMaxPages)
		codes := map[string]int{}
		for _, c := range e.s.Calls() {
			codes[c.Code]++
		}
		t.Log(codes, e.steps[:5])
	}
}

func TestLookupTrailStops(t *testing.T) {
	t.Parallel()
	for _, failAt := range []int{1, 2} {
		e := newTrailEstate(t)
		for i := range 120 {
			e.event("eu-west-1", "ListBuckets", time.Duration(i+1)*time.Minute, "192.0.2.1", "x")
		}
		calls := 0
		creds := credentials.NewStaticCredentialsProvider(e.admin.KeyID, e.admin.Secret, "")
		got := lookupTrail(context.Background(), e.cfg, creds, e.leaked.KeyID, time.Time{}, TrailOptions{Regions: []string{"eu-west-1"}, Sleep: e.clock.Sleep},
			func(call, region string, err error) error {
				calls++
				if calls == failAt {
					return errors.New("audit log full")
				}
				return nil
			})
		if got.Error != "stopped: audit log full" || calls != failAt || e.s.Count("LookupEvents") != failAt || len(got.Failed) != 1 {
			t.Errorf("fail at %d: error %q, %d steps, %d calls, failed %q", failAt, got.Error, calls, e.s.Count("LookupEvents"), got.Failed)
		}
	}
}

func TestLookupTrailRefusesLeakedKey(t *testing.T) {
	t.Parallel()
	e := newTrailEstate(t)
	creds := credentials.NewStaticCredentialsProvider(e.leaked.KeyID, e.leaked.Secret, "")
	got := lookupTrail(context.Background(), e.cfg, creds, e.leaked.KeyID, time.Time{}, TrailOptions{Sleep: e.clock.Sleep}, nil)
	if !strings.Contains(got.Error, "the leaked key itself") || len(e.s.Calls()) != 0 {
		t.Errorf("error %q, %d calls", got.Error, len(e.s.Calls()))
	}
	got = lookupTrail(context.Background(), e.cfg, nil, e.leaked.KeyID, time.Time{}, TrailOptions{}, nil)
	if !strings.Contains(got.Error, "no AWS credentials") || got.Regions == nil || got.EventNames == nil {
		t.Errorf("no credentials: %+v", got)
	}
}

func TestParseRegionsAnswer(t *testing.T) {
	t.Parallel()
	const head = `<?xml version="1.0" encoding="UTF-8"?><DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo>`
	item := func(name string) string {
		return "<item><regionName>" + name + "</regionName><regionEndpoint>ec2.x.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>"
	}
	many := ""
	for i := range 70 {
		many += item(fmt.Sprintf("us-east-%d", i))
	}
	tests := []struct {
		name, body string
		want       []string
		err        bool
	}{
		{"regions", head + item("us-west-2") + item("eu-west-1") + item("eu-west-1") + "</regionInfo></DescribeRegionsResponse>", []string{"eu-west-1", "us-west-2"}, false},
		{"names not of a region's shape", head + item("us-east-1") + item("../evil") + item("us-east-1.evil.com") + item("US-EAST-1") + item("eu-west-100") + "</regionInfo></DescribeRegionsResponse>", []string{"us-east-1"}, false},
		{"no region", head + "</regionInfo></DescribeRegionsResponse>", nil, true},
		{"another namespace", strings.Replace(head, "2016-11-15", "2014-01-01", 1) + item("us-east-1") + "</regionInfo></DescribeRegionsResponse>", nil, true},
		{"trailing content", head + item("us-east-1") + "</regionInfo></DescribeRegionsResponse><x/>", nil, true},
		{"not closed", head + item("us-east-1"), nil, true},
		{"too many", head + many + "</regionInfo></DescribeRegionsResponse>", nil, true},
	}
	for _, tt := range tests {
		got, err := parseRegions([]byte(tt.body))
		if (err != nil) != tt.err || !cmp.Equal(tt.want, got) {
			t.Errorf("%s: %q, %v", tt.name, got, err)
		}
	}
}

func TestEC2Endpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, region, want string
	}{
		{"", "eu-west-1", "https://ec2.eu-west-1.amazonaws.com"},
		{"", "cn-north-1", "https://ec2.cn-north-1.amazonaws.com.cn"},
		{"", "us-gov-west-1", "https://ec2.us-gov-west-1.amazonaws.com"},
		{"http://127.0.0.1:9", "eu-west-1", "http://127.0.0.1:9"},
	}
	for _, tt := range tests {
		var cfg awssdk.Config
		if tt.base != "" {
			cfg.BaseEndpoint = awssdk.String(tt.base)
		}
		if got, err := ec2Endpoint(context.Background(), cfg, tt.region); err != nil || got != tt.want {
			t.Errorf("%s %s: %s, %v", tt.base, tt.region, got, err)
		}
	}
}

func TestParseRegions(t *testing.T) {
	t.Parallel()
	got, err := ParseRegions([]string{"us-east-1, eu-west-1", "us-east-1", ""})
	if err != nil || !cmp.Equal([]string{"eu-west-1", "us-east-1"}, got) {
		t.Errorf("%q, %v", got, err)
	}
	if _, err := ParseRegions([]string{"eu-west-1,evil.com"}); err == nil {
		t.Error("evil.com accepted")
	}
}

func FuzzParseRegionsAnswer(f *testing.F) {
	f.Add([]byte(`<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><regionInfo><item><regionName>us-east-1</regionName></item></regionInfo></DescribeRegionsResponse>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parseRegions(body)
		if err == nil && (len(got) == 0 || len(got) > maxRegions) {
			t.Fatalf("%d regions", len(got))
		}
		for _, r := range got {
			if !IsRegion(r) {
				t.Fatalf("region %q", r)
			}
		}
	})
}

func FuzzSanitizeText(f *testing.F) {
	f.Add("evil\x1b[31mred\n\u202e", 200)
	f.Add("\x9b", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%300 + 1
		if max < 1 {
			max = -max + 1
		}
		got := sanitizeText(s, max)
		if len(got) > max || !utf8.ValidString(got) || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Fatalf("%q (max %d)", got, max)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r != ' ' && unicode.IsSpace(r) {
				t.Fatalf("%q holds %U", got, r)
			}
		}
	})
}
