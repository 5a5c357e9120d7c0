package awstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CloudTrail's JSON protocol (awsJson1_1): the SDK sends the short form of
// the target, AWS's documentation the long one; both are accepted.
const (
	trailTarget     = "CloudTrail_20131101."
	trailLongTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
	jsonContentType = "application/x-amz-json-1.1"
	// trailRetention is how far back LookupEvents reaches.
	trailRetention = 90 * 24 * time.Hour
)

// trailState is what the stand-in keeps for CloudTrail and EC2. Its fields
// are guarded by the Server's mu.
type trailState struct {
	events   []*trailEvent
	throttle map[string]int      // region -> LookupEvents still to throttle
	regions  map[string][]string // account -> enabled regions, when a test set them
	tokenKey []byte              // signs NextTokens
}

// newTrailState returns an empty CloudTrail state, with its own key for
// signing NextTokens.
func newTrailState() *trailState {
	t := &trailState{throttle: map[string]int{}, regions: map[string][]string{}, tokenKey: make([]byte, 32)}
	_, _ = rand.Read(t.tokenKey)
	return t
}

func (s *Server) trail() *trailState { return s.trails }

// trailEvent is one CloudTrail event, in an account and a region.
type trailEvent struct {
	account, region string
	id, name        string
	source          string // "ec2.amazonaws.com"
	keyID, username string
	at              time.Time
	readOnly        bool
	record          string // the CloudTrailEvent JSON
}

// Event is a CloudTrail event a test places, typically in the past.
type Event struct {
	// KeyID is the access key that made the call; Account defaults to
	// its account (a key the stand-in does not know needs one).
	KeyID, Account string
	Region         string
	// Name and Source are the API call and its service
	// ("RunInstances", "ec2.amazonaws.com").
	Name, Source string
	Time         time.Time
	// SourceIP and UserAgent are what the caller sent, in any form:
	// CloudTrail records them as they came.
	SourceIP, UserAgent string
	// Record, when set, replaces the CloudTrailEvent JSON the stand-in
	// would build, for a test of a malformed one.
	Record string
}

// AddEvent places e in its account's CloudTrail and returns its event id.
func (s *Server) AddEvent(e Event) string {
	t := s.trail()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[e.KeyID]
	var caller key
	if k != nil {
		caller = *k
	}
	if e.Account == "" {
		if k == nil {
			panic("awstest: AddEvent for an unknown key needs an account: " + e.KeyID)
		}
		e.Account = k.account
	}
	caller.KeyID, caller.account = e.KeyID, e.Account
	ev := newEvent(&caller, e.Name, e.Source, e.Region, e.SourceIP, e.UserAgent, e.Time)
	if e.Record != "" {
		ev.record = e.Record
	}
	t.events = append(t.events, ev)
	return ev.id
}

// Events returns how many events the account's CloudTrail holds in region
// (every region for "").
func (s *Server) Events(account, region string) int {
	t := s.trail()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range t.events {
		if e.account == account && (region == "" || e.region == region) {
			n++
		}
	}
	return n
}

// ThrottleTrail answers the next n LookupEvents requests in region, of
// any account, with ThrottlingException.
func (s *Server) ThrottleTrail(region string, n int) {
	t := s.trail()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.throttle[region] = n
}

// recordEvent keeps a call as the CloudTrail event AWS would log.
func (s *Server) recordEvent(caller *key, action, service, region string, r *http.Request, at time.Time) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	ev := newEvent(caller, action, service+".amazonaws.com", region, ip, r.UserAgent(), at)
	t := s.trail()
	s.mu.Lock()
	t.events = append(t.events, ev)
	s.mu.Unlock()
}

// ctRecord is the JSON of a CloudTrail event, as much of it as matters.
type ctRecord struct {
	EventVersion       string     `json:"eventVersion"`
	UserIdentity       ctIdentity `json:"userIdentity"`
	EventTime          string     `json:"eventTime"`
	EventSource        string     `json:"eventSource"`
	EventName          string     `json:"eventName"`
	AWSRegion          string     `json:"awsRegion"`
	SourceIPAddress    string     `json:"sourceIPAddress"`
	UserAgent          string     `json:"userAgent"`
	RequestParameters  any        `json:"requestParameters"`
	ResponseElements   any        `json:"responseElements"`
	RequestID          string     `json:"requestID"`
	EventID            string     `json:"eventID"`
	ReadOnly           bool       `json:"readOnly"`
	EventType          string     `json:"eventType"`
	ManagementEvent    bool       `json:"managementEvent"`
	RecipientAccountID string     `json:"recipientAccountId"`
	EventCategory      string     `json:"eventCategory"`
}

type ctIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName,omitempty"`
}

func newEvent(caller *key, name, source, region, ip, agent string, at time.Time) *trailEvent {
	at = at.UTC().Truncate(time.Second) // CloudTrail keeps seconds
	ev := &trailEvent{
		account: caller.account, region: region, id: requestID(), name: name, source: source,
		keyID: caller.KeyID, at: at, readOnly: readOnly(name),
	}
	ident := ctIdentity{Type: "IAMUser", PrincipalID: caller.userID(), ARN: caller.arn(), AccountID: caller.account,
		AccessKeyID: caller.KeyID, UserName: caller.userName()}
	switch {
	case caller.session != "":
		ident.Type, ident.UserName = "AssumedRole", ""
		ev.username = caller.session
	case caller.user == "":
		ident.Type, ident.UserName = "Root", ""
		ev.username = "root"
	default:
		ev.username = caller.userName()
	}
	rec, err := json.Marshal(ctRecord{
		EventVersion: "1.08", UserIdentity: ident, EventTime: at.Format(time.RFC3339),
		EventSource: source, EventName: name, AWSRegion: region, SourceIPAddress: ip, UserAgent: agent,
		RequestID: requestID(), EventID: ev.id, ReadOnly: ev.readOnly, EventType: "AwsApiCall",
		ManagementEvent: true, RecipientAccountID: caller.account, EventCategory: "Management",
	})
	if err != nil {
		panic(err)
	}
	ev.record = string(rec)
	return ev
}

// readOnly guesses, from its name, whether a call only reads.
func readOnly(action string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Head"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// serveJSON answers a request of the JSON protocol (CloudTrail).
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	target := r.Header.Get("X-Amz-Target")
	action, ok := strings.CutPrefix(target, trailTarget)
	if !ok {
		action, ok = strings.CutPrefix(target, trailLongTarget)
	}
	call := Call{Action: action, Host: r.Host, Params: url.Values{}}
	var (
		out  any
		aerr *apiError
	)
	switch {
	case !ok || action != "LookupEvents":
		call.Action = target
		aerr = &apiError{http.StatusBadRequest, "UnknownOperationException", "Unknown operation " + target}
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != jsonContentType:
		aerr = &apiError{http.StatusBadRequest, "SerializationException", "expected a POST of " + jsonContentType}
	default:
		out, aerr = s.lookupEvents(r, body, &call)
	}
	if aerr != nil {
		call.Status, call.Code = aerr.status, aerr.code
	} else {
		call.Status = http.StatusOK
	}
	s.record(call)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("X-Amzn-Requestid", requestID())
	if aerr != nil {
		w.WriteHeader(aerr.status)
		out = map[string]string{"__type": aerr.code, "message": aerr.message}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// jsonError is the code and status the JSON protocol answers for an error
// of authenticate, which speaks the Query protocol's words.
func jsonError(e *apiError) *apiError {
	switch e.code {
	case "InvalidClientTokenId":
		return &apiError{http.StatusBadRequest, "UnrecognizedClientException", e.message}
	case "SignatureDoesNotMatch":
		return &apiError{http.StatusBadRequest, "InvalidSignatureException", e.message}
	case "Throttling":
		return &apiError{http.StatusBadRequest, "ThrottlingException", e.message}
	case "IncompleteSignature", "MissingAuthenticationToken":
		return &apiError{e.status, e.code + "Exception", e.message}
	}
	return e
}

type lookupRequest struct {
	LookupAttributes []struct {
		AttributeKey   string
		AttributeValue string
	}
	StartTime     *float64
	EndTime       *float64
	EventCategory string
	MaxResults    *int
	NextToken     *string
}

// wireEvent is an event as LookupEvents answers it.
type wireEvent struct {
	EventID         string  `json:"EventId"`
	EventName       string  `json:"EventName"`
	ReadOnly        string  `json:"ReadOnly"`
	AccessKeyID     string  `json:"AccessKeyId,omitempty"`
	EventTime       float64 `json:"EventTime"`
	EventSource     string  `json:"EventSource"`
	Username        string  `json:"Username,omitempty"`
	Resources       []any   `json:"Resources"`
	CloudTrailEvent string  `json:"CloudTrailEvent"`
}

// cursor is what a NextToken carries: the lookup it continues and the
// last event answered.
type cursor struct {
	Account, Region, Key, Value string
	Start, End                  int64
	At                          int64
	ID                          string
}

// lookupEvents answers cloudtrail:LookupEvents with the events of the
// caller's account in the region the request was signed for.
func (s *Server) lookupEvents(r *http.Request, body []byte, call *Call) (any, *apiError) {
	var req lookupRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", "cannot read the request"}
	}
	// What was asked is recorded whatever the answer.
	if len(req.LookupAttributes) > 0 {
		call.Params.Set("AttributeKey", req.LookupAttributes[0].AttributeKey)
		call.Params.Set("AttributeValue", req.LookupAttributes[0].AttributeValue)
	}
	if req.StartTime != nil {
		call.Params.Set("StartTime", epoch(*req.StartTime).UTC().Format(time.RFC3339))
	}
	if req.EndTime != nil {
		call.Params.Set("EndTime", epoch(*req.EndTime).UTC().Format(time.RFC3339))
	}
	if req.MaxResults != nil {
		call.Params.Set("MaxResults", strconv.Itoa(*req.MaxResults))
	}
	if req.NextToken != nil {
		call.Params.Set("NextToken", *req.NextToken)
	}
	caller, _, aerr := s.authenticate(r, body, "cloudtrail", call)
	if aerr != nil {
		return nil, jsonError(aerr)
	}
	region := call.Region
	t := s.trail()
	s.mu.Lock()
	enabled := slices.Contains(s.enabledRegions(caller.account, caller.partition()), region)
	throttled := t.throttle[region] > 0
	if throttled {
		t.throttle[region]--
	}
	s.mu.Unlock()
	switch {
	case !enabled:
		return nil, &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
	case throttled:
		return nil, &apiError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
	case !caller.admin:
		return nil, &apiError{http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: cloudtrail:LookupEvents", caller.arn())}
	}

	now := time.Now()
	var c cursor
	c.Account, c.Region = caller.account, region
	if len(req.LookupAttributes) > 1 {
		return nil, &apiError{http.StatusBadRequest, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute."}
	}
	if len(req.LookupAttributes) == 1 {
		a := req.LookupAttributes[0]
		switch a.AttributeKey {
		case "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId":
		default:
			return nil, &apiError{http.StatusBadRequest, "InvalidLookupAttributesException", "Invalid attribute key."}
		}
		if a.AttributeValue == "" || len(a.AttributeValue) > 2000 {
			return nil, &apiError{http.StatusBadRequest, "InvalidLookupAttributesException", "Invalid attribute value."}
		}
		c.Key, c.Value = a.AttributeKey, a.AttributeValue
	}
	start, end := now.Add(-trailRetention), now
	if req.StartTime != nil {
		start = epoch(*req.StartTime)
	}
	if req.EndTime != nil {
		end = epoch(*req.EndTime)
	}
	if start.After(end) {
		return nil, &apiError{http.StatusBadRequest, "InvalidTimeRangeException", "Start time must be before end time."}
	}
	if req.EventCategory != "" && req.EventCategory != "insight" {
		return nil, &apiError{http.StatusBadRequest, "InvalidEventCategoryException", "Invalid event category."}
	}
	limit := 50
	if req.MaxResults != nil {
		limit = *req.MaxResults
		if limit < 1 || limit > 50 {
			return nil, &apiError{http.StatusBadRequest, "InvalidMaxResultsException", "MaxResults must be between 1 and 50."}
		}
	}
	if req.StartTime != nil {
		c.Start = start.UnixNano()
	}
	if req.EndTime != nil {
		c.End = end.UnixNano()
	}
	var after *cursor
	if req.NextToken != nil {
		tok, ok := s.readToken(*req.NextToken)
		if !ok || tok.Account != c.Account || tok.Region != c.Region || tok.Key != c.Key || tok.Value != c.Value ||
			tok.Start != c.Start || tok.End != c.End {
			return nil, &apiError{http.StatusBadRequest, "InvalidNextTokenException", "Invalid NextToken."}
		}
		after = &tok
	}

	floor := now.Add(-trailRetention)
	s.mu.Lock()
	var match []*trailEvent
	for _, e := range t.events {
		if e.account != caller.account || e.region != region || e.at.Before(start) || e.at.After(end) || e.at.Before(floor) ||
			req.EventCategory == "insight" || !e.matches(c.Key, c.Value) {
			continue
		}
		match = append(match, e)
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b *trailEvent) int {
		if d := b.at.Compare(a.at); d != 0 {
			return d
		}
		return strings.Compare(b.id, a.id)
	})
	if after != nil {
		// The page goes on after the cursor's event, in the same order.
		i := slices.IndexFunc(match, func(e *trailEvent) bool {
			at := e.at.UnixNano()
			return at < after.At || at == after.At && e.id < after.ID
		})
		if i < 0 {
			i = len(match)
		}
		match = match[i:]
	}
	resp := struct {
		Events    []wireEvent `json:"Events"`
		NextToken string      `json:"NextToken,omitempty"`
	}{Events: []wireEvent{}}
	for i, e := range match {
		if i == limit {
			last := match[i-1]
			c.At, c.ID = last.at.UnixNano(), last.id
			resp.NextToken = s.writeToken(c)
			break
		}
		resp.Events = append(resp.Events, wireEvent{
			EventID: e.id, EventName: e.name, ReadOnly: strconv.FormatBool(e.readOnly), AccessKeyID: e.keyID,
			EventTime: float64(e.at.Unix()), EventSource: e.source, Username: e.username, Resources: []any{},
			CloudTrailEvent: e.record,
		})
	}
	return resp, nil
}

func epoch(sec float64) time.Time {
	return time.Unix(0, int64(sec*1e9))
}

func (e *trailEvent) matches(key, value string) bool {
	switch key {
	case "":
		return true
	case "AccessKeyId":
		return e.keyID == value
	case "EventId":
		return e.id == value
	case "EventName":
		return e.name == value
	case "EventSource":
		return e.source == value
	case "Username":
		return e.username == value
	case "ReadOnly":
		return strconv.FormatBool(e.readOnly) == value
	}
	return false // resources are not kept
}

// writeToken makes an opaque NextToken: the cursor, signed.
func (s *Server) writeToken(c cursor) string {
	payload, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.tokenMAC(payload))
}

func (s *Server) readToken(tok string) (cursor, bool) {
	p, m, ok := strings.Cut(tok, ".")
	if !ok {
		return cursor{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.tokenMAC(payload)) {
		return cursor{}, false
	}
	var c cursor
	if json.Unmarshal(payload, &c) != nil {
		return cursor{}, false
	}
	return c, true
}

func (s *Server) tokenMAC(payload []byte) []byte {
	t := s.trail()
	m := hmac.New(sha256.New, t.tokenKey)
	m.Write(payload)
	return m.Sum(nil)
}
