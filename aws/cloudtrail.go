package aws

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"golang.org/x/sync/errgroup"

	"github.com/keysweep/keysweep/finding"
)

// TrailOptions say where and how lookupTrail reads CloudTrail.
type TrailOptions struct {
	// Regions are the regions to look in; nil: every region enabled for
	// the account, from ec2:DescribeRegions.
	Regions []string
	// Expected are the regions the key is used in (--expected-regions):
	// events elsewhere are unexpected. None: no event is.
	Expected []string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sleep waits between calls, to pace them and to back off; nil sleeps
	// for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Timeout bounds each call (30s when zero).
	Timeout time.Duration
	// Pacers, when set, are shared by the lookups of one account:
	// LookupEvents' limit is per account and region, not per key.
	Pacers *Pacers
}

// Pacers hold a pacer per region for one account's lookups. They are
// safe for concurrent use.
type Pacers struct {
	mu sync.Mutex
	m  map[string]*pacer
}

// get returns region's pacer, made with now and sleep the first time.
func (ps *Pacers) get(region string, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	if ps == nil {
		return &pacer{now: now, sleep: sleep, interval: trailPace}
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[string]*pacer{}
	}
	p, ok := ps.m[region]
	if !ok {
		p = &pacer{now: now, sleep: sleep, interval: trailPace}
		ps.m[region] = p
	}
	return p
}

const (
	// trailRetention is how far back LookupEvents reaches.
	trailRetention = 90 * 24 * time.Hour
	// trailPace spaces the calls in a region: LookupEvents allows two
	// per second per account and region.
	trailPace = 500 * time.Millisecond
	// trailWorkers bounds the regions read at once.
	trailWorkers = 4
	// trailMaxPages bounds the pages read in a region (50 events each).
	trailMaxPages = 200
	trailPageSize = 50
	// Everything in an event but its time and id is the caller's to
	// choose, so the attacker's: lists are bounded, texts clipped.
	maxEventNames = 10
	maxListed     = 20
	maxDistinct   = 10000 // distinct values counted per region and list
	maxAgentLen   = 200
	maxNameLen    = 128
	maxRecordLen  = 512 << 10
	// ownAgent marks the user agent of keysweep's own SDK calls (its app
	// id): its GetCallerIdentity events are its verification.
	ownAgent = "app/keysweep"
)

// lookupTrail summarises keyID's CloudTrail events since `since` (zero:
// 90 days back), reading with creds (the user's credentials, never the
// leaked key). step is called after every AWS call (call name like
// "describe-regions" or "lookup-events", the region, the error) for the
// audit log; when it returns an error lookupTrail stops. Never returns
// nil.
//
// The error step is given is already in keysweep's words (see describe),
// and step is never called twice at once. Regions are read four at a
// time, each paced at two calls per second (retries included); a call
// that is throttled or fails on AWS's side is retried as cfg's retryer
// says. A region that cannot be read whole goes into Failed and the
// others go on.
func lookupTrail(ctx context.Context, cfg awssdk.Config, creds awssdk.CredentialsProvider, keyID string, since time.Time,
	opts TrailOptions, step func(call, region string, err error) error) *finding.CloudTrail {
	r := &trailReader{cfg: cfg, keyID: keyID, now: opts.Now, sleep: opts.Sleep, timeout: opts.Timeout, pacers: opts.Pacers}
	if r.now == nil {
		r.now = time.Now
	}
	if r.sleep == nil {
		r.sleep = sleepContext
	}
	if r.timeout <= 0 {
		r.timeout = 30 * time.Second
	}
	var (
		stepMu  sync.Mutex
		refused error
	)
	r.step = func(call, region string, err error) error {
		if step == nil {
			return nil
		}
		if err != nil {
			err = ownError(describe(err, r.secrets))
		}
		stepMu.Lock()
		defer stepMu.Unlock()
		// Once step refused, calls still in flight end unrecorded.
		if refused == nil {
			refused = step(call, region, err)
		}
		return refused
	}

	r.to = r.now().UTC()
	floor := r.to.Add(-trailRetention)
	out := &finding.CloudTrail{
		To: r.to.Format(time.RFC3339), Regions: []string{}, EventNames: []finding.Count{},
		EventRegions: []string{}, SourceIPs: []string{}, UserAgents: []string{},
	}
	switch r.from = since.UTC(); {
	case since.IsZero() || since.After(r.to):
		// Unknown, or in the future (a commit's date is its author's
		// to set): the whole of what CloudTrail keeps.
		r.from = floor
	case since.Before(floor):
		r.from, out.Clipped = floor, true
	}
	out.From = r.from.Format(time.RFC3339)

	if !keyIDRe.MatchString(keyID) {
		out.Error = "not an access key id: CloudTrail not asked"
		return out
	}
	if err := r.credentials(ctx, creds); err != nil {
		out.Error = err.Error()
		return out
	}

	regions := opts.Regions
	if regions == nil {
		var err error
		regions, err = describeRegions(ctx, cfg, r.creds, cfg.Region, r.timeout, r.sleep)
		if serr := r.step("describe-regions", cfg.Region, err); serr != nil {
			out.Error = "stopped: " + serr.Error()
			return out
		}
		if err != nil {
			out.Error = fmt.Sprintf("could not list the account's regions (ec2:DescribeRegions in %s): %s: give the regions to look in",
				shaped(cfg.Region, regionRe, nil), describe(err, r.secrets))
			return out
		}
	}
	var invalid int
	out.Regions, invalid = validRegions(regions)
	if len(out.Regions) == 0 {
		out.Error = "no region to look in"
		return out
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tallies := make([]*regionTally, len(out.Regions))
	var g errgroup.Group
	g.SetLimit(trailWorkers)
	for i, region := range out.Regions {
		g.Go(func() error {
			tallies[i] = r.region(cctx, region)
			if tallies[i].stop != nil {
				cancel()
			}
			return nil
		})
	}
	_ = g.Wait()

	r.summarise(out, tallies, opts.Expected)
	var errs []string
	if invalid > 0 {
		errs = append(errs, fmt.Sprintf("%d region names not valid: not looked in", invalid))
	}
	stopped := false
	for _, t := range tallies {
		if t.stop != nil && !stopped {
			errs = append(errs, "stopped: "+t.stop.Error())
			stopped = true
		}
	}
	switch {
	case stopped:
	case ctx.Err() != nil:
		errs = append(errs, "canceled")
	default:
		for _, t := range tallies {
			if t.err != "" {
				errs = append(errs, t.region+": "+t.err)
			}
		}
	}
	out.Error = strings.Join(errs, "; ")
	return out
}

// trailReader reads one key's events.
type trailReader struct {
	cfg      awssdk.Config
	creds    awssdk.CredentialsProvider
	keyID    string
	from, to time.Time
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	timeout  time.Duration
	pacers   *Pacers
	step     func(call, region string, err error) error
	// secrets are those of the credentials the calls carry: no answer
	// that echoes one is written out.
	secrets []string
}

// credentials loads creds once (every call then shares them) and refuses
// the leaked key itself.
func (r *trailReader) credentials(ctx context.Context, creds awssdk.CredentialsProvider) error {
	if creds == nil {
		return ownError("no AWS credentials to read CloudTrail with: configure the default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, or a role of the machine)")
	}
	cache, ok := creds.(*awssdk.CredentialsCache)
	if !ok {
		cache = awssdk.NewCredentialsCache(creds)
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	c, err := cache.Retrieve(cctx)
	cancel()
	if err != nil {
		return ownError("no AWS credentials could be loaded to read CloudTrail with: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run where a role is attached")
	}
	if c.AccessKeyID == r.keyID {
		return ownError("the credentials to read CloudTrail with are the leaked key itself: not used; read with your own (AWS_PROFILE)")
	}
	r.creds, r.secrets = cache, []string{c.SecretAccessKey, c.SessionToken}
	return nil
}

// validRegions returns the names of region shape, sorted, without
// duplicates, and how many were not.
func validRegions(names []string) ([]string, int) {
	out, invalid := []string{}, 0
	for _, n := range names {
		if IsRegion(n) {
			out = append(out, n)
		} else {
			invalid++
		}
	}
	slices.Sort(out)
	return slices.Compact(out), invalid
}

// regionTally is what one region's events say.
type regionTally struct {
	region      string
	events, own int
	first, last time.Time
	names       map[string]int
	ips         map[string]int
	agents      map[string]int
	seen        map[string]bool // event ids
	// err says why the region was not read whole; stop is step's error.
	err  string
	stop error
}

// trailStop is step's refusal to go on.
type trailStop struct{ err error }

func (e trailStop) Error() string { return e.err.Error() }

// region reads every page of the key's events in region.
func (r *trailReader) region(ctx context.Context, region string) *regionTally {
	t := &regionTally{region: region, names: map[string]int{}, ips: map[string]int{}, agents: map[string]int{}, seen: map[string]bool{}}
	client := cloudtrail.NewFromConfig(r.cfg, func(o *cloudtrail.Options) {
		o.Region = region
		o.Credentials = r.creds
		// Retries are made here, where they are paced too.
		o.Retryer = awssdk.NopRetryer{}
		o.RetryMaxAttempts = 0
		if o.HTTPClient != nil {
			o.HTTPClient = plainBodies{o.HTTPClient}
		}
	})
	p := r.pacers.get(region, r.now, r.sleep)
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: awssdk.String(r.keyID)}},
		StartTime:        awssdk.Time(r.from),
		EndTime:          awssdk.Time(r.to),
		MaxResults:       awssdk.Int32(trailPageSize),
	}
	tokens := map[string]bool{}
	for page := 0; ; page++ {
		if page == trailMaxPages {
			t.err = fmt.Sprintf("more than %d pages of events: read no further, the counts are lower bounds", trailMaxPages)
			return t
		}
		out, err := r.lookup(ctx, client, p, region, in)
		var se trailStop
		switch {
		case errors.As(err, &se):
			t.stop = se.err
			return t
		case err != nil:
			t.err = describe(err, r.secrets)
			return t
		}
		for _, e := range out.Events {
			t.add(e, r)
		}
		next := awssdk.ToString(out.NextToken)
		if next == "" {
			return t
		}
		if tokens[next] {
			t.err = "CloudTrail answered a page token twice: read no further"
			return t
		}
		tokens[next] = true
		in.NextToken = awssdk.String(next)
	}
}

// lookup makes one LookupEvents call, paced, retrying as cfg's retryer
// says.
func (r *trailReader) lookup(ctx context.Context, client *cloudtrail.Client, p *pacer, region string, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	retryer := newRetryer(r.cfg)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := p.wait(ctx); err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, r.timeout)
		out, err := client.LookupEvents(cctx, in)
		cancel()
		if serr := r.step("lookup-events", region, err); serr != nil {
			return nil, trailStop{serr}
		}
		if err == nil {
			return out, nil
		}
		if attempt >= retryer.MaxAttempts() || !retryer.IsErrorRetryable(err) || ctx.Err() != nil {
			return nil, err
		}
		d, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		if d > 0 {
			if serr := r.sleep(ctx, d); serr != nil {
				return nil, serr
			}
		}
	}
}

// trailRecord is the part of an event's CloudTrailEvent JSON read here.
type trailRecord struct {
	EventName       string `json:"eventName"`
	SourceIPAddress string `json:"sourceIPAddress"`
	UserAgent       string `json:"userAgent"`
}

// add counts one event, unless it is not the key's, lies outside the
// window, was counted already, or is keysweep's own verification.
func (t *regionTally) add(e types.Event, r *trailReader) {
	if e.EventTime == nil || e.AccessKeyId != nil && *e.AccessKeyId != r.keyID {
		return
	}
	at := e.EventTime.UTC()
	if at.Before(r.from.Truncate(time.Second)) || at.After(r.to) {
		return
	}
	if id := awssdk.ToString(e.EventId); id != "" {
		if t.seen[id] {
			return
		}
		t.seen[id] = true
	}
	var rec trailRecord
	if raw := awssdk.ToString(e.CloudTrailEvent); len(raw) <= maxRecordLen {
		_ = json.Unmarshal([]byte(raw), &rec)
	}
	name := awssdk.ToString(e.EventName)
	if name == "" {
		name = rec.EventName
	}
	if name == "GetCallerIdentity" && strings.Contains(rec.UserAgent, ownAgent) {
		t.own++
		return
	}
	t.events++
	if t.first.IsZero() || at.Before(t.first) {
		t.first = at
	}
	if at.After(t.last) {
		t.last = at
	}
	if name = sanitizeText(name, maxNameLen); name == "" {
		name = "(no name)"
	}
	countDistinct(t.names, name)
	if ip, err := netip.ParseAddr(strings.TrimSpace(rec.SourceIPAddress)); err == nil {
		countDistinct(t.ips, ip.WithZone("").Unmap().String())
	}
	if agent := sanitizeText(rec.UserAgent, maxAgentLen); agent != "" {
		countDistinct(t.agents, agent)
	}
}

// countDistinct counts v, among at most maxDistinct values.
func countDistinct(m map[string]int, v string) {
	if _, ok := m[v]; ok || len(m) < maxDistinct {
		m[v]++
	}
}

// summarise fills out from the regions' tallies.
func (r *trailReader) summarise(out *finding.CloudTrail, tallies []*regionTally, expected []string) {
	names, ips, agents := map[string]int{}, map[string]int{}, map[string]int{}
	var first, last time.Time
	for _, t := range tallies {
		if t.err != "" || t.stop != nil {
			out.Failed = append(out.Failed, t.region)
		}
		out.Own += t.own
		if t.events == 0 {
			continue
		}
		out.Events += t.events
		out.EventRegions = append(out.EventRegions, t.region)
		if len(expected) > 0 && !slices.Contains(expected, t.region) {
			out.Unexpected += t.events
			out.UnexpectedRegions = append(out.UnexpectedRegions, t.region)
		}
		if first.IsZero() || t.first.Before(first) {
			first = t.first
		}
		if t.last.After(last) {
			last = t.last
		}
		for _, m := range [][2]map[string]int{{names, t.names}, {ips, t.ips}, {agents, t.agents}} {
			for k, n := range m[1] {
				m[0][k] += n
			}
		}
	}
	if out.Events > 0 {
		out.First, out.Last = first.Format(time.RFC3339), last.Format(time.RFC3339)
	}
	out.EventNames = mostFrequent(names, maxEventNames)
	out.SourceIPs = mostFrequentSorted(ips)
	out.UserAgents = mostFrequentSorted(agents)
}

// mostFrequent returns the n most frequent values, most frequent first
// (ties by name).
func mostFrequent(m map[string]int, n int) []finding.Count {
	out := make([]finding.Count, 0, len(m))
	for k, c := range m {
		out = append(out, finding.Count{Name: k, Count: c})
	}
	slices.SortFunc(out, func(a, b finding.Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Name, b.Name))
	})
	return out[:min(n, len(out))]
}

// mostFrequentSorted returns the maxListed most frequent values, sorted.
func mostFrequentSorted(m map[string]int) []string {
	out := []string{}
	for _, c := range mostFrequent(m, maxListed) {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

// sanitizeText makes text an attacker wrote safe to show: valid UTF-8, terminal
// escape sequences dropped, each run of other control or format
// characters (newlines, direction overrides) one space, at most max bytes.
func sanitizeText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == 0x1b && i < len(s) && s[i] == '[', r == 0x9b: // a CSI sequence ("\x1b[31m")
			if r == 0x1b {
				i++
			}
			for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f { // parameters, intermediates
				i++
			}
			if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e { // the final byte
				i++
			}
			space = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r):
			space = true
			continue
		}
		add := utf8.RuneLen(r)
		if space && b.Len() > 0 {
			add++
		}
		if b.Len()+add > max {
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// pacer spaces calls by interval at least. It is safe for concurrent
// use: callers wait in turn.
type pacer struct {
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	interval time.Duration

	mu   sync.Mutex
	last time.Time
}

// wait returns when a call may be made.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() {
		if d := p.interval - p.now().Sub(p.last); d > 0 {
			if err := p.sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	p.last = p.now()
	return nil
}

// plainBodies sends requests with bodies that only read and close. The
// SDK closes a request's body as soon as the answer's headers come, and
// its body's WriteTo then returns io.EOF, which io.Copy takes for an
// error: net/http's check that nothing follows the body's length fails,
// and it closes the connection while the answer is being read ("use of
// closed network connection"). A fast endpoint with long answers, as
// CloudTrail's pages are, loses that race now and then.
type plainBodies struct{ client awssdk.HTTPClient }

func (c plainBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return c.client.Do(req)
}

// sleepContext sleeps for d, or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
