// Package awstest is a stand-in for AWS STS and IAM, served on 127.0.0.1
// for tests. It speaks the AWS Query protocol, checks every request's
// SigV4 signature against the secret it holds for the signing key (with
// its own code, not the SDK's), and keeps the state a remediation changes:
// which keys exist, in which account, for which user, active or not.
//
// Like AWS, it answers an unknown or inactive key id with
// InvalidClientTokenId and a wrong secret with SignatureDoesNotMatch. It
// refuses DeleteAccessKey, and records every call so that tests can check
// what was (and was not) asked of it. It can also play a hostile endpoint
// (or proxy) that echoes the caller's secrets back in its answers, or
// that lies about whose key signed a request.
package awstest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials are an access key as AWS hands it out.
type Credentials struct {
	KeyID, Secret, SessionToken string
}

// Call is a request the stand-in answered.
type Call struct {
	Action string
	// Host is the host the request was sent to (through a proxy, the
	// origin server's name).
	Host string
	// KeyID is the access key id that signed the request, Region the
	// region of its credential scope.
	KeyID  string
	Region string
	Params url.Values
	// Status is the HTTP status of the answer; Code the error code, if any.
	Status int
	Code   string
}

type key struct {
	Credentials
	account string
	// user is the IAM user's name with its path ("ci/deploy"), "" for the
	// account's root user; for a role session, the role's name.
	user    string
	session string // the role session name of temporary credentials
	active  bool
	admin   bool
	part    string // partition, "" for aws
	// lastUse, lastService and lastRegion are what IAM records of the
	// key's last use: every call it signs updates them.
	lastUse                 time.Time
	lastService, lastRegion string
}

type role struct {
	account, name string
	trusts        map[string]bool // accounts allowed to assume it
}

// Server is a running stand-in.
type Server struct {
	// URL is the endpoint to give the SDK (AWS_ENDPOINT_URL).
	URL string

	mu       sync.Mutex
	keys     map[string]*key
	roles    map[string]*role // by ARN
	throttle map[string]int   // key id -> requests still to throttle
	fail     map[string]int   // key id -> requests still to fail with a 500
	delay    map[string]time.Duration
	echoes   []Echo
	answerAs map[string]string // key id -> account GetCallerIdentity claims
	calls    []Call
	serial   uint32
	inFlight int
	maxIn    int
	// clock stamps what the stand-in records (last uses, events); a
	// signature is checked against real time, as the SDK signs with it.
	clock func() time.Time
	// iamState and trails are the users, groups and policies of IAM, and
	// the events of CloudTrail.
	iamState *iamState
	trails   *trailState
}

// New starts a stand-in that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		keys:     map[string]*key{},
		roles:    map[string]*role{},
		throttle: map[string]int{},
		fail:     map[string]int{},
		delay:    map[string]time.Duration{},
		answerAs: map[string]string{},
		clock:    time.Now,
		iamState: newIAMState(),
		trails:   newTrailState(),
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// AddUserKey creates an active access key for an IAM user of account.
// user may carry a path ("ci/deploy"); admin users may call IAM and
// assume roles.
func (s *Server) AddUserKey(account, user string, admin bool) Credentials {
	return s.add("AKIA", account, user, "", admin)
}

// AddRootKey creates an access key of account's root user.
func (s *Server) AddRootKey(account string) Credentials {
	return s.add("AKIA", account, "", "", true)
}

// AddSessionKey creates temporary credentials (an ASIA key id with a
// session token) of a session of role in account.
func (s *Server) AddSessionKey(account, roleName, session string) Credentials {
	return s.add("ASIA", account, roleName, session, true)
}

// AddLegacyUserKey creates an active access key for an IAM user of
// account with an id of the kind AWS issued before 2019 (its fifth
// character is I or J), which carries no account.
func (s *Server) AddLegacyUserKey(account, user string) Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial++
	var raw [10]byte
	binary.BigEndian.PutUint32(raw[:], s.serial*2654435761)
	binary.BigEndian.PutUint32(raw[4:], s.serial)
	id := "AKIAI" + base32.StdEncoding.EncodeToString(raw[:])[:15]
	c := Credentials{KeyID: id, Secret: randomSecret()}
	s.keys[id] = &key{Credentials: c, account: account, user: user, active: true}
	return c
}

// SetSecret replaces the secret access key of keyID, for a test that needs
// one of a given form.
func (s *Server) SetSecret(keyID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keyID].Secret = secret
}

// AddRole creates role name in account, assumable from the trusted
// accounts; its sessions may call IAM in account.
func (s *Server) AddRole(account, name string, trusted ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &role{account: account, name: name, trusts: map[string]bool{}}
	for _, a := range trusted {
		r.trusts[a] = true
	}
	s.roles[roleARN(account, name)] = r
}

func (s *Server) add(prefix, account, user, session string, admin bool) Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(prefix, account, user, session, admin)
}

func (s *Server) addLocked(prefix, account, user, session string, admin bool) Credentials {
	s.serial++
	c := Credentials{KeyID: KeyID(prefix, account, s.serial), Secret: randomSecret()}
	if prefix == "ASIA" {
		// Real session tokens are base64 of a structure that starts
		// with "!\n\torigin".
		c.SessionToken = "IQoJb3JpZ2lu" + randomString(150)
		for !strings.Contains(c.SessionToken, "+") || !strings.Contains(c.SessionToken, "/") {
			c.SessionToken = "IQoJb3JpZ2lu" + randomString(150)
		}
	}
	s.keys[c.KeyID] = &key{Credentials: c, account: account, user: user, session: session, active: true, admin: admin}
	return c
}

// SetActive activates or deactivates a key.
func (s *Server) SetActive(keyID string, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keyID].active = active
}

// Credentials returns the credentials of keyID, among them those that
// AssumeRole issued.
func (s *Server) Credentials(keyID string) Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[keyID]; ok {
		return k.Credentials
	}
	return Credentials{}
}

// Status returns "Active", "Inactive", or "" for a key that does not exist.
func (s *Server) Status(keyID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[keyID]
	switch {
	case !ok:
		return ""
	case k.active:
		return "Active"
	default:
		return "Inactive"
	}
}

// Throttle answers the next n requests signed with keyID with Throttling.
func (s *Server) Throttle(keyID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[keyID] = n
}

// Fail answers the next n requests signed with keyID with a 500.
func (s *Server) Fail(keyID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[keyID] = n
}

// Delay holds every request signed with keyID for d before answering.
func (s *Server) Delay(keyID string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay[keyID] = d
}

// AnswerAs makes GetCallerIdentity, signed with keyID, claim that the key
// belongs to account (ARN, user id and account all say so), as a lying
// endpoint would.
func (s *Server) AnswerAs(keyID, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answerAs[keyID] = account
}

// EchoForm is how a hostile endpoint transforms a secret it echoes.
type EchoForm string

// The forms of an echoed secret.
const (
	EchoPlain        EchoForm = "plain"
	EchoURLEncoded   EchoForm = "url-encoded"    // percent-encoded, as in a query string
	EchoPlusForSpace EchoForm = "plus-for-space" // '+' read as a space, as a form decoder does
	EchoHTMLEscaped  EchoForm = "html-escaped"   // every character as an HTML character reference
	EchoBase64       EchoForm = "base64"
	EchoPrefix       EchoForm = "8-char-prefix"
)

// EchoForms lists every form.
func EchoForms() []EchoForm {
	return []EchoForm{EchoPlain, EchoURLEncoded, EchoPlusForSpace, EchoHTMLEscaped, EchoBase64, EchoPrefix}
}

// Apply transforms secret as the form says.
func (f EchoForm) Apply(secret string) string {
	switch f {
	case EchoURLEncoded:
		return url.QueryEscape(secret)
	case EchoPlusForSpace:
		return strings.ReplaceAll(secret, "+", " ")
	case EchoHTMLEscaped:
		var b strings.Builder
		for _, r := range secret {
			fmt.Fprintf(&b, "&#x%X;", r)
		}
		return b.String()
	case EchoBase64:
		return base64.StdEncoding.EncodeToString([]byte(secret))
	case EchoPrefix:
		return secret[:min(8, len(secret))]
	}
	return secret
}

// EchoField is where a hostile endpoint puts what it echoes.
type EchoField string

// The fields an echo can go into.
const (
	EchoInMessage  EchoField = "message"   // the Message of an error answer (403 AccessDenied)
	EchoInCode     EchoField = "code"      // the Code of an error answer (400)
	EchoInArn      EchoField = "arn"       // GetCallerIdentity's Arn, as a user path
	EchoInUserID   EchoField = "user-id"   // GetCallerIdentity's UserId, as a session name
	EchoInUserName EchoField = "user-name" // GetAccessKeyLastUsed's UserName
)

// Echo makes the stand-in answer the requests that KeyID signed ("" for
// any key) and that ask for Action ("" for any) as a hostile endpoint or
// proxy would: with the session token the request carried and the
// signing key's secret (which a real endpoint never sees, but a test
// must not rely on that), transformed by Form, put into Field.
type Echo struct {
	KeyID, Action string
	Form          EchoForm
	Field         EchoField
}

// SetEcho adds an echo; the first one that matches a request applies.
func (s *Server) SetEcho(e Echo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echoes = append(s.echoes, e)
}

func (s *Server) echoFor(keyID, action string) (Echo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.echoes {
		if (e.KeyID == "" || e.KeyID == keyID) && (e.Action == "" || e.Action == action) {
			return e, true
		}
	}
	return Echo{}, false
}

// echoed is what an echo puts into its field: the token and the secret,
// each transformed.
func (e Echo) echoed(token, secret string) string {
	out := e.Form.Apply(secret)
	if token != "" {
		out = e.Form.Apply(token) + out
	}
	return out
}

// record adds call to those answered.
func (s *Server) record(call Call) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

// Calls returns the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsBy returns the requests signed with keyID.
func (s *Server) CallsBy(keyID string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.KeyID == keyID {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many requests asked for action.
func (s *Server) Count(action string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Action == action {
			n++
		}
	}
	return n
}

// KeyID makes an access key id that decodes, as AWS's do, to account:
// bits 1 to 40 of the first 6 bytes of the base32 text after the prefix.
func KeyID(prefix, account string, serial uint32) string {
	n, err := strconv.ParseUint(account, 10, 64)
	if err != nil || len(account) != 12 {
		panic("awstest: account must be 12 digits: " + account)
	}
	var raw [10]byte
	var head [8]byte
	binary.BigEndian.PutUint64(head[:], 1<<47|n<<7|uint64(serial&0x7f))
	copy(raw[:6], head[2:])
	binary.BigEndian.PutUint32(raw[6:], serial*2654435761)
	return prefix + base32.StdEncoding.EncodeToString(raw[:])
}

// randomSecret returns 40 base64 characters with upper and lower case
// letters and digits, as AWS's secret access keys have, and with a '+'
// and a '/', so that every test meets the characters that encodings
// change.
func randomSecret() string {
	for {
		s := randomString(30)
		if strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") &&
			strings.ContainsAny(s, "0123456789") && strings.Contains(s, "+") && strings.Contains(s, "/") {
			return s
		}
	}
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func roleARN(account, name string) string {
	return "arn:aws:iam::" + account + ":role/" + name
}

// arn is the caller's identity as GetCallerIdentity reports it.
func (k *key) arn() string {
	p := k.partition()
	switch {
	case k.session != "":
		return "arn:" + p + ":sts::" + k.account + ":assumed-role/" + k.user + "/" + k.session
	case k.user == "":
		return "arn:" + p + ":iam::" + k.account + ":root"
	default:
		return "arn:" + p + ":iam::" + k.account + ":user/" + k.user
	}
}

func (k *key) userID() string {
	if k.user == "" && k.session == "" {
		return k.account
	}
	sum := sha256.Sum256([]byte(k.account + "/" + k.user))
	id := strings.ToUpper(base32.StdEncoding.EncodeToString(sum[:]))[:17]
	if k.session != "" {
		return "AROA" + id + ":" + k.session
	}
	return "AIDA" + id
}

// userName is the user's name without its path.
func (k *key) userName() string {
	return k.user[strings.LastIndexByte(k.user, '/')+1:]
}

// apiError is an AWS error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

var (
	errInvalidToken = &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	errThrottled    = &apiError{http.StatusBadRequest, "Throttling", "Rate exceeded"}
	errInternal     = &apiError{http.StatusInternalServerError, "InternalFailure", "We encountered an internal error. Please try again."}
)

var services = map[string]struct{ service, version, namespace string }{
	"GetCallerIdentity":    {"sts", "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"},
	"AssumeRole":           {"sts", "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"},
	"GetAccessKeyInfo":     {"sts", "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"},
	"GetAccessKeyLastUsed": {"iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/"},
	"ListAccessKeys":       {"iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/"},
	"UpdateAccessKey":      {"iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/"},
	"DeleteAccessKey":      {"iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/"},
}

// MaxInFlight returns the most requests the stand-in was answering at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// ServeHTTP answers one Query protocol request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, "", &apiError{http.StatusBadRequest, "MalformedInput", err.Error()})
		return
	}
	if r.Header.Get("X-Amz-Target") != "" {
		s.serveJSON(w, r, body)
		return
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, "", &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
		return
	}
	if params.Get("Version") == ec2Version {
		s.serveEC2(w, r, body, params)
		return
	}
	action := params.Get("Action")
	call := Call{Action: action, Host: r.Host, Params: params}
	result, ns, aerr := s.serve(r, body, params, &call)
	if aerr != nil {
		call.Status, call.Code = aerr.status, aerr.code
	} else {
		call.Status = http.StatusOK
	}
	s.record(call)
	if aerr != nil {
		writeError(w, ns, aerr)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID())
	fmt.Fprintf(w, "<%sResponse xmlns=%q>\n<%sResult>%s</%sResult>\n<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>\n</%sResponse>\n",
		action, ns, action, result, action, requestID(), action)
}

func (s *Server) serve(r *http.Request, body []byte, params url.Values, call *Call) (result, ns string, _ *apiError) {
	svc, ok := services[call.Action]
	if !ok && iamPolicyActions[call.Action] {
		svc, ok = services["ListAccessKeys"], true
	}
	if !ok {
		return "", "", &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", call.Action, params.Get("Version"))}
	}
	ns = svc.namespace
	if v := params.Get("Version"); v != svc.version {
		return "", ns, &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", call.Action, v)}
	}
	caller, _, aerr := s.authenticate(r, body, svc.service, call)
	if aerr != nil {
		return "", ns, aerr
	}
	s.mu.Lock()
	if a, ok := s.answerAs[call.KeyID]; ok {
		caller.account = a
	}
	s.mu.Unlock()
	echo, echoing := s.echoFor(call.KeyID, call.Action)
	if echoing {
		said := echo.echoed(r.Header.Get("X-Amz-Security-Token"), caller.Secret)
		switch echo.Field {
		case EchoInMessage:
			return "", ns, &apiError{http.StatusForbidden, "AccessDenied", "not authorized for the token " + said}
		case EchoInCode:
			return "", ns, &apiError{http.StatusBadRequest, said, "Rejected"}
		}
	}

	switch call.Action {
	case "GetCallerIdentity":
		arn, userID := caller.arn(), caller.userID()
		if echoing {
			said := echo.echoed(r.Header.Get("X-Amz-Security-Token"), caller.Secret)
			switch echo.Field {
			case EchoInArn:
				arn = "arn:aws:iam::" + caller.account + ":user/echo/" + said
			case EchoInUserID:
				userID = "AIDA" + strings.Repeat("Q", 17) + ":" + said
			}
		}
		return el("Arn", arn) + el("UserId", userID) + el("Account", caller.account), ns, nil
	case "AssumeRole":
		res, err := s.assumeRole(&caller, params)
		return res, ns, err
	case "GetAccessKeyInfo":
		res, err := s.accessKeyInfo(params)
		return res, ns, err
	}
	if !caller.admin {
		return "", ns, &apiError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: iam:%s", caller.arn(), call.Action)}
	}
	var res string
	switch call.Action {
	case "GetAccessKeyLastUsed":
		res, aerr = s.lastUsed(&caller, params)
		if echoing && echo.Field == EchoInUserName && aerr == nil {
			said := echo.echoed(r.Header.Get("X-Amz-Security-Token"), caller.Secret)
			res = el("UserName", said) + "<AccessKeyLastUsed>" + el("ServiceName", "N/A") + el("Region", "N/A") + "</AccessKeyLastUsed>"
		}
	case "ListAccessKeys":
		res, aerr = s.listKeys(&caller, params)
	case "UpdateAccessKey":
		aerr = s.updateKey(&caller, params)
	case "DeleteAccessKey":
		aerr = &apiError{http.StatusForbidden, "AccessDenied", "this stand-in refuses DeleteAccessKey: keysweep must never delete a key"}
	default:
		res, aerr = s.serveIAMPolicy(&caller, call.Action, params)
	}
	return res, ns, aerr
}

// authenticate checks the signature of a request to service and returns a
// copy of the key that signed it (the key itself, for updates), or the
// error AWS would answer. The key's last use is recorded, as IAM does,
// and the call becomes a CloudTrail event.
func (s *Server) authenticate(r *http.Request, body []byte, service string, call *Call) (key, *key, *apiError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return key{}, nil, &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	}
	auth, err := parseAuth(authz)
	if err != nil {
		return key{}, nil, &apiError{http.StatusBadRequest, "IncompleteSignature", err.Error()}
	}
	call.KeyID, call.Region = auth.keyID, auth.region
	if err := s.inject(r, auth.keyID); err != nil {
		return key{}, nil, err
	}

	s.mu.Lock()
	k, ok := s.keys[auth.keyID]
	var caller key
	if ok {
		caller = *k
	}
	s.mu.Unlock()
	if !ok || !caller.active || caller.SessionToken != r.Header.Get("X-Amz-Security-Token") || caller.partition() != Partition(auth.region) {
		return key{}, nil, errInvalidToken
	}
	if err := checkSignature(r, body, auth, caller.Secret, time.Now()); err != nil {
		return key{}, nil, &apiError{http.StatusForbidden, "SignatureDoesNotMatch", err.Error()}
	}
	if auth.service != service {
		return key{}, nil, &apiError{http.StatusForbidden, "SignatureDoesNotMatch", fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)}
	}
	s.mu.Lock()
	now := s.clock().UTC()
	k.lastUse, k.lastService, k.lastRegion = now, service, auth.region
	s.mu.Unlock()
	s.recordEvent(&caller, call.Action, service, auth.region, r, now)
	return caller, k, nil
}

// Partition returns the partition a region belongs to.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func (k *key) partition() string {
	if k.part == "" {
		return "aws"
	}
	return k.part
}

// SetPartition moves keyID to partition (aws-cn, aws-us-gov): only
// requests signed for a region of that partition know it.
func (s *Server) SetPartition(keyID, partition string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keyID].part = partition
}

// SetClock makes now the stand-in's clock for what it records: the last
// use of keys and CloudTrail events.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// SetLastUsed sets what IAM recorded of keyID's last use; a zero t is
// never used.
func (s *Server) SetLastUsed(keyID string, t time.Time, service, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[keyID]
	k.lastUse, k.lastService, k.lastRegion = t, service, region
}

// inject applies the faults a test asked for.
func (s *Server) inject(r *http.Request, keyID string) *apiError {
	s.mu.Lock()
	d := s.delay[keyID]
	s.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return errInternal
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle[keyID] > 0 {
		s.throttle[keyID]--
		return errThrottled
	}
	if s.fail[keyID] > 0 {
		s.fail[keyID]--
		return errInternal
	}
	return nil
}

func (s *Server) assumeRole(caller *key, params url.Values) (string, *apiError) {
	arn, session := params.Get("RoleArn"), params.Get("RoleSessionName")
	s.mu.Lock()
	defer s.mu.Unlock()
	ro, ok := s.roles[arn]
	if !ok || !ro.trusts[caller.account] || !caller.admin {
		return "", &apiError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.arn(), arn)}
	}
	if session == "" {
		return "", &apiError{http.StatusBadRequest, "ValidationError", "RoleSessionName is required"}
	}
	c := s.addLocked("ASIA", ro.account, ro.name, session, true)
	k := s.keys[c.KeyID]
	creds := el("AccessKeyId", c.KeyID) + el("SecretAccessKey", c.Secret) + el("SessionToken", c.SessionToken) +
		el("Expiration", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	user := el("Arn", k.arn()) + el("AssumedRoleId", k.userID())
	return "<Credentials>" + creds + "</Credentials><AssumedRoleUser>" + user + "</AssumedRoleUser>", nil
}

// accessKeyInfo answers sts:GetAccessKeyInfo: the account of any key id
// the stand-in knows, whoever asks, as AWS does.
func (s *Server) accessKeyInfo(params url.Values) (string, *apiError) {
	id := params.Get("AccessKeyId")
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return "", &apiError{http.StatusBadRequest, "InvalidParameterValue", "The access key ID is not valid."}
	}
	return el("Account", k.account), nil
}

func (s *Server) lastUsed(caller *key, params url.Values) (string, *apiError) {
	id := params.Get("AccessKeyId")
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || k.account != caller.account || k.session != "" {
		return "", &apiError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", caller.arn(), id)}
	}
	used := el("ServiceName", "N/A") + el("Region", "N/A")
	if !k.lastUse.IsZero() {
		used = el("LastUsedDate", k.lastUse.Format(time.RFC3339)) + el("ServiceName", k.lastService) + el("Region", k.lastRegion)
	}
	name := k.userName()
	if k.user == "" {
		name = "root"
	}
	return el("UserName", name) + "<AccessKeyLastUsed>" + used + "</AccessKeyLastUsed>", nil
}

// userKeys returns the keys of the named user in account, or false when
// the user does not exist.
func (s *Server) userKeys(account, name string) ([]*key, bool) {
	var out []*key
	for _, k := range s.keys {
		if k.account == account && k.session == "" && k.user != "" && k.userName() == name {
			out = append(out, k)
		}
	}
	return out, len(out) > 0
}

func (s *Server) listKeys(caller *key, params url.Values) (string, *apiError) {
	name := params.Get("UserName")
	if name == "" {
		name = caller.userName()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, ok := s.userKeys(caller.account, name)
	if !ok {
		return "", &apiError{http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", name)}
	}
	var b strings.Builder
	for _, k := range keys {
		status := "Inactive"
		if k.active {
			status = "Active"
		}
		b.WriteString("<member>" + el("UserName", name) + el("AccessKeyId", k.KeyID) + el("Status", status) +
			el("CreateDate", "2024-01-02T03:04:05Z") + "</member>")
	}
	return el("UserName", name) + "<AccessKeyMetadata>" + b.String() + "</AccessKeyMetadata>" + el("IsTruncated", "false"), nil
}

func (s *Server) updateKey(caller *key, params url.Values) *apiError {
	name, id, status := params.Get("UserName"), params.Get("AccessKeyId"), params.Get("Status")
	if status != "Active" && status != "Inactive" {
		return &apiError{http.StatusBadRequest, "ValidationError", "Status must be Active or Inactive"}
	}
	if name == "" {
		name = caller.userName()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, _ := s.userKeys(caller.account, name)
	for _, k := range keys {
		if k.KeyID == id {
			k.active = status == "Active"
			return nil
		}
	}
	return &apiError{http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The Access Key with id %s cannot be found.", id)}
}

func writeError(w http.ResponseWriter, ns string, e *apiError) {
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, "<ErrorResponse xmlns=%q>\n<Error>%s%s%s</Error>\n<RequestId>%s</RequestId>\n</ErrorResponse>\n",
		ns, el("Type", kind), el("Code", e.code), el("Message", e.message), requestID())
}

func el(name, value string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(value))
	return "<" + name + ">" + b.String() + "</" + name + ">"
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
