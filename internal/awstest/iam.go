package awstest

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// iamPolicyActions are the IAM actions of users, groups and policies that
// serveIAMPolicy answers.
var iamPolicyActions = map[string]bool{
	"GetUser":                   true,
	"ListGroupsForUser":         true,
	"ListAttachedUserPolicies":  true,
	"ListUserPolicies":          true,
	"GetUserPolicy":             true,
	"ListAttachedGroupPolicies": true,
	"ListGroupPolicies":         true,
	"GetGroupPolicy":            true,
	"GetPolicy":                 true,
	"GetPolicyVersion":          true,
	"ListPolicies":              true,
	"AttachUserPolicy":          true,
	"SimulatePrincipalPolicy":   true,
}

// iamCreateDate is the creation date of every user, group and policy.
const iamCreateDate = "2024-01-02T03:04:05Z"

// iamState is what IAM holds of users, groups and policies. s.mu guards
// it.
type iamState struct {
	users  map[string]*iamUser  // by account + "/" + name
	groups map[string]*iamGroup // by account + "/" + name
	// policies are the managed policies, AWS's and the accounts', in the
	// order ListPolicies answers them.
	policies []*managedPolicy
	answers  map[string]string // action -> the Result a hostile endpoint answers
	denied   map[string]bool   // actions answered with AccessDenied
	pageSize int               // the most members a page holds, 0 for MaxItems
}

type inlinePolicy struct{ name, doc string }

type userTag struct{ key, value string }

type iamUser struct {
	account, path, name string
	groups              []string // names
	inline              []inlinePolicy
	attached            []*managedPolicy
	boundary            *managedPolicy
	tags                []userTag
}

type iamGroup struct {
	account, path, name string
	inline              []inlinePolicy
	attached            []*managedPolicy
}

type managedPolicy struct {
	owner      string // an account, or "aws" for AWS's own
	path, name string
	versions   []string // documents, v1 first
	def        int      // index of the default version
}

func (p *managedPolicy) arn(partition string) string {
	return "arn:" + partition + ":iam::" + p.owner + ":policy" + p.path + p.name
}

// newIAMState returns the IAM state of a new stand-in: AWS's managed
// policies, and quarantine versions 1 to 3.
func newIAMState() *iamState {
	st := &iamState{
		users:   map[string]*iamUser{},
		groups:  map[string]*iamGroup{},
		answers: map[string]string{},
		denied:  map[string]bool{},
	}
	for _, p := range awsManagedPolicies() {
		st.policies = append(st.policies, &managedPolicy{owner: "aws", path: "/", name: p.name, versions: []string{p.doc}})
	}
	st.setQuarantine([]int{1, 2, 3})
	return st
}

// iam returns s's IAM state. s.mu must be held.
func (s *Server) iam() *iamState { return s.iamState }

// splitPath splits a name that may carry a path ("ci/deploy") into IAM's
// path ("/ci/") and the name.
func splitPath(full string) (path, name string) {
	i := strings.LastIndexByte(full, '/')
	if i < 0 {
		return "/", full
	}
	return "/" + strings.Trim(full[:i], "/") + "/", full[i+1:]
}

// user returns account's user name, made from its keys when only they
// know it; nil when no such user exists.
func (s *Server) user(st *iamState, account, name string) *iamUser {
	if u, ok := st.users[account+"/"+name]; ok {
		return u
	}
	keys, ok := s.userKeys(account, name)
	if !ok {
		return nil
	}
	path, _ := splitPath(keys[0].user)
	u := &iamUser{account: account, path: path, name: name}
	st.users[account+"/"+name] = u
	return u
}

// userPartition is the partition of a user's keys, "aws" when it has none.
func (s *Server) userPartition(u *iamUser) string {
	if keys, ok := s.userKeys(u.account, u.name); ok {
		return keys[0].partition()
	}
	return "aws"
}

// setupUser returns the user, made when it does not exist yet.
func (s *Server) setupUser(account, user string) *iamUser {
	st := s.iam()
	path, name := splitPath(user)
	if u := s.user(st, account, name); u != nil {
		return u
	}
	u := &iamUser{account: account, path: path, name: name}
	st.users[account+"/"+name] = u
	return u
}

func (s *Server) setupGroup(account, group string) *iamGroup {
	st := s.iam()
	path, name := splitPath(group)
	if g, ok := st.groups[account+"/"+name]; ok {
		return g
	}
	g := &iamGroup{account: account, path: path, name: name}
	st.groups[account+"/"+name] = g
	return g
}

// AddUser creates an IAM user of account that has no access key; user
// may carry a path ("ci/deploy"). A user also exists when a key of it
// does, and is made by any of the setup methods that name it.
func (s *Server) AddUser(account, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setupUser(account, user)
}

// AddGroup creates an IAM group of account; group may carry a path.
func (s *Server) AddGroup(account, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setupGroup(account, group)
}

// AddUserToGroup adds user to group in account, making either when it
// does not exist.
func (s *Server) AddUserToGroup(account, user, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, g := s.setupUser(account, user), s.setupGroup(account, group)
	if !slices.Contains(u.groups, g.name) {
		u.groups = append(u.groups, g.name)
	}
}

// PutUserPolicy sets the inline policy name of user to doc, a JSON policy
// document. The stand-in does not check name (a test may give one IAM
// would refuse) but panics on a document its evaluator cannot read.
func (s *Server) PutUserPolicy(account, user, name, doc string) {
	mustParsePolicy(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.setupUser(account, user)
	u.inline = putInline(u.inline, name, doc)
}

// PutGroupPolicy sets the inline policy name of group to doc.
func (s *Server) PutGroupPolicy(account, group, name, doc string) {
	mustParsePolicy(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.setupGroup(account, group)
	g.inline = putInline(g.inline, name, doc)
}

func putInline(list []inlinePolicy, name, doc string) []inlinePolicy {
	for i := range list {
		if list[i].name == name {
			list[i].doc = doc
			return list
		}
	}
	return append(list, inlinePolicy{name, doc})
}

func mustParsePolicy(doc string) {
	if _, err := parsePolicy(doc); err != nil {
		panic("awstest: " + err.Error())
	}
}

// CreatePolicy creates the customer managed policy name (which may carry
// a path) in account, with doc as its version v1, and returns its ARN in
// the aws partition (callers of another partition see it in theirs).
func (s *Server) CreatePolicy(account, name, doc string) string {
	mustParsePolicy(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iam()
	path, n := splitPath(name)
	if p := st.policy(account, n); p != nil {
		panic("awstest: policy " + n + " exists")
	}
	p := &managedPolicy{owner: account, path: path, name: n, versions: []string{doc}}
	st.policies = append(st.policies, p)
	return p.arn("aws")
}

// SetPolicyVersion adds doc as a new version of the managed policy arn
// and makes it the default, as iam:CreatePolicyVersion with
// SetAsDefault does; it returns the version's id.
func (s *Server) SetPolicyVersion(arn, doc string) string {
	mustParsePolicy(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPolicy(arn)
	p.versions = append(p.versions, doc)
	p.def = len(p.versions) - 1
	return "v" + strconv.Itoa(len(p.versions))
}

// AttachUserPolicy attaches the managed policy arn to user; attaching it
// again changes nothing.
func (s *Server) AttachUserPolicy(account, user, arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPolicy(arn)
	u := s.setupUser(account, user)
	if !slices.Contains(u.attached, p) {
		u.attached = append(u.attached, p)
	}
}

// AttachGroupPolicy attaches the managed policy arn to group.
func (s *Server) AttachGroupPolicy(account, group, arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPolicy(arn)
	g := s.setupGroup(account, group)
	if !slices.Contains(g.attached, p) {
		g.attached = append(g.attached, p)
	}
}

// SetBoundary makes the managed policy arn user's permissions boundary;
// "" removes it.
func (s *Server) SetBoundary(account, user, arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.setupUser(account, user)
	u.boundary = nil
	if arn != "" {
		u.boundary = s.mustPolicy(arn)
	}
}

// TagUser sets the tag key of user to value.
func (s *Server) TagUser(account, user, key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.setupUser(account, user)
	for i := range u.tags {
		if u.tags[i].key == key {
			u.tags[i].value = value
			return
		}
	}
	u.tags = append(u.tags, userTag{key, value})
}

// AttachedUserPolicies returns the ARNs (in the aws partition) of the
// managed policies attached to user, in the order they were attached;
// nil when the user does not exist.
func (s *Server) AttachedUserPolicies(account, user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, name := splitPath(user)
	u := s.user(s.iam(), account, name)
	if u == nil {
		return nil
	}
	var out []string
	for _, p := range u.attached {
		out = append(out, p.arn("aws"))
	}
	return out
}

// SetQuarantinePolicies sets which versions of AWS's managed policy
// AWSCompromisedKeyQuarantine exist, 1 being the one without a suffix and
// n > 1 AWSCompromisedKeyQuarantineV<n>. By default versions 1, 2 and 3
// do. They come last in ListPolicies, in the order given.
func (s *Server) SetQuarantinePolicies(versions ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iam().setQuarantine(versions)
}

func (st *iamState) setQuarantine(versions []int) {
	st.policies = slices.DeleteFunc(st.policies, func(p *managedPolicy) bool {
		return p.owner == "aws" && strings.HasPrefix(p.name, quarantineName)
	})
	for _, v := range versions {
		name := quarantineName
		if v > 1 {
			name += "V" + strconv.Itoa(v)
		}
		st.policies = append(st.policies, &managedPolicy{owner: "aws", path: "/", name: name, versions: []string{quarantineDoc(v)}})
	}
}

// SetPageSize makes every IAM list answer hold at most n members (and
// say it is truncated when more remain), whatever MaxItems asks, as AWS
// may; 0 goes back to MaxItems.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iam().pageSize = n
}

// SetAnswer makes the stand-in answer every request for the IAM action
// (one of those of users, groups and policies) with result as the content
// of its Result element, verbatim, as a hostile endpoint would; "" goes
// back to answering it.
func (s *Server) SetAnswer(action, result string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if result == "" {
		delete(s.iam().answers, action)
		return
	}
	s.iam().answers[action] = result
}

// DenyIAM answers every request for the IAM action with AccessDenied, as
// AWS does for a caller whose policies do not allow it.
func (s *Server) DenyIAM(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iam().denied[action] = true
}

func (st *iamState) policy(owner, name string) *managedPolicy {
	for _, p := range st.policies {
		if p.owner == owner && p.name == name {
			return p
		}
	}
	return nil
}

var policyARNRe = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):iam::([0-9]{12}|aws):policy(/(?:[^/]+/)*)([^/]+)$`)

// policyByARN returns the managed policy arn names, when it exists in
// partition and is AWS's or account's.
func (st *iamState) policyByARN(arn, partition, account string) *managedPolicy {
	m := policyARNRe.FindStringSubmatch(arn)
	if m == nil || m[1] != partition || (m[2] != "aws" && m[2] != account) {
		return nil
	}
	if p := st.policy(m[2], m[4]); p != nil && p.path == m[3] {
		return p
	}
	return nil
}

// mustPolicy returns the policy arn names, in any partition, for setup.
func (s *Server) mustPolicy(arn string) *managedPolicy {
	m := policyARNRe.FindStringSubmatch(arn)
	if m == nil {
		panic("awstest: not a policy ARN: " + arn)
	}
	p := s.iam().policyByARN(arn, m[1], m[2])
	if p == nil {
		panic("awstest: no policy " + arn)
	}
	return p
}

// iamID makes a unique id of IAM's form: prefix and 17 characters.
func iamID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func noSuchEntity(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, "NoSuchEntity", fmt.Sprintf(format, args...)}
}

func validationError(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, args...)}
}

// iamCall is one request: the state and the caller it is answered for.
type iamCall struct {
	s      *Server
	st     *iamState
	caller *key
	params url.Values
}

func (c iamCall) partition() string { return c.caller.partition() }

// userNamed returns the caller's account's user of the parameter
// UserName, or NoSuchEntity.
func (c iamCall) userNamed() (*iamUser, *apiError) {
	name := c.params.Get("UserName")
	if name == "" {
		return nil, validationError("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	return c.userByName(name)
}

func (c iamCall) userByName(name string) (*iamUser, *apiError) {
	u := c.s.user(c.st, c.caller.account, name)
	if u == nil || c.s.userPartition(u) != c.partition() {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

func (c iamCall) groupNamed() (*iamGroup, *apiError) {
	name := c.params.Get("GroupName")
	if name == "" {
		return nil, validationError("1 validation error detected: Value null at 'groupName' failed to satisfy constraint: Member must not be null")
	}
	g, ok := c.st.groups[c.caller.account+"/"+name]
	if !ok {
		return nil, noSuchEntity("The group with name %s cannot be found.", name)
	}
	return g, nil
}

func (c iamCall) policyNamed() (*managedPolicy, *apiError) {
	arn := c.params.Get("PolicyArn")
	p := c.st.policyByARN(arn, c.partition(), c.caller.account)
	if p == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func (c iamCall) userARN(u *iamUser) string {
	return "arn:" + c.partition() + ":iam::" + u.account + ":user" + u.path + u.name
}

// page answers members (each already XML) as AWS pages a list: at most
// MaxItems (1 to 1000, 100 by default) from Marker on, in an element
// named list, then IsTruncated and, when truncated, the Marker to go on
// from.
func (c iamCall) page(list string, members []string) (string, *apiError) {
	size := 100
	if v := c.params.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return "", validationError("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		size = n
	}
	if c.st.pageSize > 0 {
		size = min(size, c.st.pageSize)
	}
	from := 0
	if m := c.params.Get("Marker"); m != "" {
		raw, err := base64.StdEncoding.DecodeString(m)
		n, aerr := strconv.Atoi(strings.TrimPrefix(string(raw), "awstest-marker:"))
		if err != nil || aerr != nil || !strings.HasPrefix(string(raw), "awstest-marker:") || n < 0 || n > len(members) {
			return "", validationError("Invalid Marker.")
		}
		from = n
	}
	to := min(from+size, len(members))
	out := "<" + list + ">" + strings.Join(members[from:to], "") + "</" + list + ">"
	if to < len(members) {
		marker := base64.StdEncoding.EncodeToString([]byte("awstest-marker:" + strconv.Itoa(to)))
		return out + el("IsTruncated", "true") + el("Marker", marker), nil
	}
	return out + el("IsTruncated", "false"), nil
}

// memberXML wraps XML in a list member.
func memberXML(inner string) string { return "<member>" + inner + "</member>" }

// xmlText escapes s as XML text (what XML cannot hold becomes U+FFFD).
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// encodeDocument URL-encodes a policy document as IAM answers one
// (RFC 3986: everything but the unreserved characters).
func encodeDocument(doc string) string { return uriEncode(doc) }

// serveIAMPolicy answers the IAM actions of iamPolicyActions for caller.
func (s *Server) serveIAMPolicy(caller *key, action string, params url.Values) (string, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iam()
	if st.denied[action] {
		return "", &apiError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: iam:%s", caller.arn(), action)}
	}
	if res, ok := st.answers[action]; ok {
		return res, nil
	}
	c := iamCall{s: s, st: st, caller: caller, params: params}
	switch action {
	case "GetUser":
		return c.getUser()
	case "ListGroupsForUser":
		return c.listGroups()
	case "ListAttachedUserPolicies":
		u, err := c.userNamed()
		if err != nil {
			return "", err
		}
		return c.attached(u.attached)
	case "ListUserPolicies":
		u, err := c.userNamed()
		if err != nil {
			return "", err
		}
		return c.inlineNames(u.inline)
	case "GetUserPolicy":
		u, err := c.userNamed()
		if err != nil {
			return "", err
		}
		res, err := c.inlineDocument(u.inline, "user", u.name)
		return el("UserName", u.name) + res, err
	case "ListAttachedGroupPolicies":
		g, err := c.groupNamed()
		if err != nil {
			return "", err
		}
		return c.attached(g.attached)
	case "ListGroupPolicies":
		g, err := c.groupNamed()
		if err != nil {
			return "", err
		}
		return c.inlineNames(g.inline)
	case "GetGroupPolicy":
		g, err := c.groupNamed()
		if err != nil {
			return "", err
		}
		res, err := c.inlineDocument(g.inline, "group", g.name)
		return el("GroupName", g.name) + res, err
	case "GetPolicy":
		p, err := c.policyNamed()
		if err != nil {
			return "", err
		}
		return "<Policy>" + c.policyXML(p) + "</Policy>", nil
	case "GetPolicyVersion":
		return c.getPolicyVersion()
	case "ListPolicies":
		return c.listPolicies()
	case "AttachUserPolicy":
		return c.attachUserPolicy()
	case "SimulatePrincipalPolicy":
		return c.simulate()
	}
	return "", &apiError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + action}
}

func (c iamCall) getUser() (string, *apiError) {
	name := c.params.Get("UserName")
	if name == "" {
		// No name: the caller itself.
		switch {
		case c.caller.session != "":
			return "", validationError("Must specify userName when calling with non-User credentials")
		case c.caller.user == "":
			return "<User>" + el("UserId", c.caller.account) + el("Arn", c.caller.arn()) + el("CreateDate", iamCreateDate) + "</User>", nil
		}
		name = c.caller.userName()
	}
	u, err := c.userByName(name)
	if err != nil {
		return "", err
	}
	full := strings.Trim(u.path, "/") + "/" + u.name
	id := (&key{account: u.account, user: strings.TrimPrefix(full, "/")}).userID()
	out := el("Path", u.path) + el("UserName", u.name) + el("UserId", id) + el("Arn", c.userARN(u)) + el("CreateDate", iamCreateDate)
	if u.boundary != nil {
		out += "<PermissionsBoundary>" + el("PermissionsBoundaryType", "PermissionsBoundaryPolicy") +
			el("PermissionsBoundaryArn", u.boundary.arn(c.partition())) + "</PermissionsBoundary>"
	}
	if len(u.tags) > 0 {
		out += "<Tags>"
		for _, t := range u.tags {
			out += memberXML(el("Key", t.key) + el("Value", t.value))
		}
		out += "</Tags>"
	}
	return "<User>" + out + "</User>", nil
}

func (c iamCall) listGroups() (string, *apiError) {
	u, err := c.userNamed()
	if err != nil {
		return "", err
	}
	var members []string
	for _, name := range u.groups {
		g := c.st.groups[u.account+"/"+name]
		arn := "arn:" + c.partition() + ":iam::" + g.account + ":group" + g.path + g.name
		members = append(members, memberXML(el("Path", g.path)+el("GroupName", g.name)+el("GroupId", iamID("AGPA", arn))+
			el("Arn", arn)+el("CreateDate", iamCreateDate)))
	}
	return c.page("Groups", members)
}

func (c iamCall) attached(list []*managedPolicy) (string, *apiError) {
	var members []string
	for _, p := range list {
		members = append(members, memberXML(el("PolicyName", p.name)+el("PolicyArn", p.arn(c.partition()))))
	}
	return c.page("AttachedPolicies", members)
}

func (c iamCall) inlineNames(list []inlinePolicy) (string, *apiError) {
	var members []string
	for _, p := range list {
		members = append(members, memberXML(xmlText(p.name)))
	}
	return c.page("PolicyNames", members)
}

func (c iamCall) inlineDocument(list []inlinePolicy, kind, owner string) (string, *apiError) {
	name := c.params.Get("PolicyName")
	for _, p := range list {
		if p.name == name {
			return el("PolicyName", p.name) + el("PolicyDocument", encodeDocument(p.doc)), nil
		}
	}
	return "", noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
}

// attachments counts the users and groups of the caller's account that
// have p attached, and the users whose boundary it is.
func (c iamCall) attachments(p *managedPolicy) (attached, boundary int) {
	for _, u := range c.st.users {
		if u.account != c.caller.account {
			continue
		}
		if slices.Contains(u.attached, p) {
			attached++
		}
		if u.boundary == p {
			boundary++
		}
	}
	for _, g := range c.st.groups {
		if g.account == c.caller.account && slices.Contains(g.attached, p) {
			attached++
		}
	}
	return attached, boundary
}

func (c iamCall) policyXML(p *managedPolicy) string {
	arn := p.arn(c.partition())
	attached, boundary := c.attachments(p)
	return el("PolicyName", p.name) + el("PolicyId", iamID("ANPA", arn)) + el("Arn", arn) + el("Path", p.path) +
		el("DefaultVersionId", "v"+strconv.Itoa(p.def+1)) + el("AttachmentCount", strconv.Itoa(attached)) +
		el("PermissionsBoundaryUsageCount", strconv.Itoa(boundary)) + el("IsAttachable", "true") +
		el("CreateDate", iamCreateDate) + el("UpdateDate", iamCreateDate)
}

func (c iamCall) getPolicyVersion() (string, *apiError) {
	p, err := c.policyNamed()
	if err != nil {
		return "", err
	}
	v := c.params.Get("VersionId")
	n, perr := strconv.Atoi(strings.TrimPrefix(v, "v"))
	if !strings.HasPrefix(v, "v") || perr != nil || n < 1 || n > len(p.versions) {
		return "", noSuchEntity("Policy %s version %s does not exist or is not attachable.", p.arn(c.partition()), v)
	}
	return "<PolicyVersion>" + el("Document", encodeDocument(p.versions[n-1])) + el("VersionId", v) +
		el("IsDefaultVersion", strconv.FormatBool(n-1 == p.def)) + el("CreateDate", iamCreateDate) + "</PolicyVersion>", nil
}

func (c iamCall) listPolicies() (string, *apiError) {
	scope := c.params.Get("Scope")
	if scope == "" {
		scope = "All"
	}
	if scope != "All" && scope != "AWS" && scope != "Local" {
		return "", validationError("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	onlyAttached := c.params.Get("OnlyAttached") == "true"
	prefix := c.params.Get("PathPrefix")
	var members []string
	for _, p := range c.st.policies {
		switch {
		case p.owner != "aws" && p.owner != c.caller.account,
			scope == "AWS" && p.owner != "aws",
			scope == "Local" && p.owner == "aws",
			!strings.HasPrefix(p.path, prefix):
			continue
		}
		if n, _ := c.attachments(p); onlyAttached && n == 0 {
			continue
		}
		members = append(members, memberXML(c.policyXML(p)))
	}
	return c.page("Policies", members)
}

func (c iamCall) attachUserPolicy() (string, *apiError) {
	p, err := c.policyNamed()
	if err != nil {
		return "", err
	}
	u, err := c.userNamed()
	if err != nil {
		return "", err
	}
	if !slices.Contains(u.attached, p) {
		u.attached = append(u.attached, p)
	}
	return "", nil
}

var userARNRe = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):iam::([0-9]{12}):user/(?:[^/]+/)*([^/]+)$`)

// simulate answers iam:SimulatePrincipalPolicy for a user: each action is
// decided by evaluate from the user's policies, its groups' and its
// permissions boundary, on each resource of ResourceArns ("*" when none),
// the most restrictive decision being the action's.
func (c iamCall) simulate() (string, *apiError) {
	source := c.params.Get("PolicySourceArn")
	m := userARNRe.FindStringSubmatch(source)
	if m == nil || m[1] != c.partition() || m[2] != c.caller.account {
		return "", &apiError{http.StatusBadRequest, "InvalidInput", "Invalid ARN " + source + ": not a user of this account"}
	}
	u, err := c.userByName(m[3])
	if err != nil || c.userARN(u) != source {
		return "", noSuchEntity("The user with name %s cannot be found.", m[3])
	}
	actions := listParam(c.params, "ActionNames")
	if len(actions) == 0 {
		return "", validationError("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := listParam(c.params, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	identity, boundary := c.policiesOf(u)
	var members []string
	for _, a := range actions {
		decision := decisionAllowed
		for _, r := range resources {
			switch d := evaluate(identity, boundary, a, r); {
			case d == decisionExplicitDeny:
				decision = d
			case d == decisionImplicitDeny && decision == decisionAllowed:
				decision = d
			}
		}
		members = append(members, memberXML(el("EvalActionName", a)+el("EvalResourceName", resources[0])+el("EvalDecision", decision)+
			"<MatchedStatements></MatchedStatements><MissingContextValues></MissingContextValues>"))
	}
	return c.page("EvaluationResults", members)
}

// policiesOf returns the parsed identity policies of u (its own and its
// groups', inline and the default versions of the attached) and its
// boundary.
func (c iamCall) policiesOf(u *iamUser) (identity []*policy, boundary *policy) {
	add := func(doc string) {
		p, err := parsePolicy(doc)
		if err != nil {
			panic("awstest: " + err.Error()) // checked when it was set
		}
		identity = append(identity, p)
	}
	addAll := func(inline []inlinePolicy, attached []*managedPolicy) {
		for _, p := range inline {
			add(p.doc)
		}
		for _, p := range attached {
			add(p.versions[p.def])
		}
	}
	addAll(u.inline, u.attached)
	for _, name := range u.groups {
		g := c.st.groups[u.account+"/"+name]
		addAll(g.inline, g.attached)
	}
	if u.boundary != nil {
		b, err := parsePolicy(u.boundary.versions[u.boundary.def])
		if err != nil {
			panic("awstest: " + err.Error())
		}
		boundary = b
	}
	return identity, boundary
}

// listParam reads a list of the Query protocol: name.member.1, .2, …
func listParam(params url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := params[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

// quarantineName is the name of AWS's managed policy for compromised
// keys; later versions add a suffix (AWSCompromisedKeyQuarantineV2).
const quarantineName = "AWSCompromisedKeyQuarantine"

// quarantineDenied are the actions AWSCompromisedKeyQuarantine (version
// 1) denies; later versions deny more (quarantineDeniedLater).
var quarantineDenied = []string{
	"iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:ChangePassword",
	"iam:CreateAccessKey", "iam:CreateInstanceProfile", "iam:CreateLoginProfile", "iam:CreateRole",
	"iam:CreateUser", "iam:DetachUserPolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy",
	"iam:UpdateAccessKey", "iam:UpdateAccountPasswordPolicy", "iam:UpdateUser",
	"ec2:RequestSpotInstances", "ec2:RunInstances", "ec2:StartInstances",
	"organizations:CreateAccount", "organizations:CreateOrganization", "organizations:InviteAccountToOrganization",
	"lambda:CreateFunction",
	"lightsail:Create*", "lightsail:Start*", "lightsail:Delete*", "lightsail:Update*",
	"lightsail:GetInstanceAccessDetails", "lightsail:DownloadDefaultKeyPair",
}

// quarantineDeniedLater are what versions 2 and later deny beyond
// version 1 (abridged from AWS's documents).
var quarantineDeniedLater = []string{
	"cloudtrail:LookupEvents", "iam:AddUserToGroup", "iam:CreatePolicyVersion", "iam:PassRole",
	"iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy",
	"iam:UpdateLoginProfile", "lambda:AddLayerVersionPermission", "lambda:AddPermission", "lambda:GetPolicy",
	"lambda:ListTags", "lambda:PutProvisionedConcurrencyConfig", "lambda:TagResource", "lambda:UntagResource",
	"lambda:UpdateFunctionCode",
}

func quarantineDoc(version int) string {
	actions := quarantineDenied
	if version > 1 {
		actions = append(slices.Clone(actions), quarantineDeniedLater...)
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["` + strings.Join(actions, `","`) + `"],"Resource":["*"]}]}`
}

// awsManagedPolicies are the AWS managed policies every account sees
// (but the quarantine ones, which SetQuarantinePolicies sets): a few
// real ones, then enough fillers that ListPolicies with Scope AWS takes
// several pages of AWS's default 100.
func awsManagedPolicies() []struct{ name, doc string } {
	out := []struct{ name, doc string }{
		{"AdministratorAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
		{"PowerUserAccess", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
			{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles",
				"organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}`},
		{"ReadOnlyAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
			"cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents",
			"dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:GetItem","dynamodb:List*","dynamodb:Query","dynamodb:Scan",
			"ec2:Describe*","ec2:Get*","iam:Generate*","iam:Get*","iam:List*","iam:Simulate*",
			"kms:Describe*","kms:Get*","kms:List*","lambda:Get*","lambda:List*","organizations:Describe*","organizations:List*",
			"rds:Describe*","rds:List*","s3:Describe*","s3:Get*","s3:List*","secretsmanager:Describe*","secretsmanager:List*",
			"ssm:Describe*","ssm:Get*","ssm:List*","sts:GetCallerIdentity"],"Resource":"*"}]}`},
	}
	services := []string{"APIGateway", "AppRunner", "Athena", "Backup", "Batch", "Bedrock", "CloudFront", "CloudWatch",
		"CodeBuild", "CodeCommit", "CodeDeploy", "Cognito", "DynamoDB", "EC2", "ECR", "ECS", "EKS", "ElastiCache",
		"ElasticBeanstalk", "EventBridge", "Glue", "GuardDuty", "Inspector", "Kinesis", "Lambda", "Macie", "MQ",
		"OpenSearch", "RDS", "Redshift", "Route53", "S3", "SageMaker", "SecretsManager", "SecurityHub", "SES",
		"SNS", "SQS", "SSM", "StepFunctions", "Textract", "Transcribe", "Translate", "VPC", "WAF"}
	for _, svc := range services {
		for _, kind := range []string{"FullAccess", "ReadOnlyAccess", "ServiceRolePolicy", "ConsoleAccess", "DeveloperAccess", "AuditAccess"} {
			service := strings.ToLower(svc)
			action := service + ":*"
			if kind != "FullAccess" && kind != "ServiceRolePolicy" {
				action = service + ":Describe*"
			}
			out = append(out, struct{ name, doc string }{"Amazon" + svc + kind,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`})
		}
	}
	return out
}
