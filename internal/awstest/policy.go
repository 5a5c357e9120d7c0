package awstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The decisions of iam:SimulatePrincipalPolicy.
const (
	decisionAllowed      = "allowed"
	decisionExplicitDeny = "explicitDeny"
	decisionImplicitDeny = "implicitDeny"
)

// policy is a parsed IAM identity-based policy document.
type policy struct {
	statements []statement
}

// statement is one statement of a policy. Exactly one of Action and
// NotAction, and one of Resource and NotResource, is given.
type statement struct {
	allow       bool
	actions     []string
	notAction   bool
	resources   []string
	notResource bool
	// applies is false when the statement's Condition cannot hold for a
	// request that carries no context (see conditionHolds).
	applies bool
}

// parsePolicy parses an IAM JSON policy document: Statement is one
// object or an array of them; Action, NotAction, Resource and
// NotResource are a string or an array of strings. What IAM would refuse
// in an identity policy (an unknown key, a Principal, no Effect, both
// Action and NotAction) is an error.
func parsePolicy(doc string) (*policy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	for k := range top {
		if k != "Version" && k != "Id" && k != "Statement" {
			return nil, fmt.Errorf("policy document: unknown key %q", k)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errors.New("policy document: no Statement")
	}
	var list []json.RawMessage
	if raw = bytes.TrimSpace(raw); len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("policy document: Statement: %w", err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	p := &policy{}
	for i, r := range list {
		st, err := parseStatement(r)
		if err != nil {
			return nil, fmt.Errorf("policy document: statement %d: %w", i+1, err)
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage) (statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return statement{}, err
	}
	st := statement{applies: true}
	var effect string
	for k, v := range fields {
		var err error
		switch k {
		case "Sid":
		case "Effect":
			err = json.Unmarshal(v, &effect)
		case "Action", "NotAction":
			if st.actions != nil {
				return statement{}, errors.New("both Action and NotAction")
			}
			st.actions, err = stringOrList(v)
			st.notAction = k == "NotAction"
		case "Resource", "NotResource":
			if st.resources != nil {
				return statement{}, errors.New("both Resource and NotResource")
			}
			st.resources, err = stringOrList(v)
			st.notResource = k == "NotResource"
		case "Condition":
			st.applies, err = conditionHolds(v)
		default:
			// Principal and NotPrincipal belong to resource policies.
			return statement{}, fmt.Errorf("unexpected key %q", k)
		}
		if err != nil {
			return statement{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	switch {
	case effect != "Allow" && effect != "Deny":
		return statement{}, fmt.Errorf("effect %q is neither Allow nor Deny", effect)
	case st.actions == nil:
		return statement{}, errors.New("no Action or NotAction")
	case st.resources == nil:
		return statement{}, errors.New("no Resource or NotResource")
	}
	st.allow = effect == "Allow"
	return st, nil
}

// stringOrList reads a JSON string or a non-empty array of strings.
func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("want a string or an array of strings")
	}
	if len(list) == 0 {
		return nil, errors.New("empty array")
	}
	return list, nil
}

// conditionHolds says whether a Condition block holds for a request that
// carries no context, as the policy simulator evaluates one that is given
// no context entries: a key that is absent makes an operator false, except
// an ...IfExists operator (true) and Null with "true" (the key is null).
// So a conditional Allow grants nothing and a conditional Deny denies
// nothing unless every operator is of those two kinds. This models the
// simulator AWS answers with, which is what the client must cope with; a
// conditional grant may well hold for a real request, which is why the
// client calls its result approximate.
func conditionHolds(raw json.RawMessage) (bool, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return false, errors.New("want an object of operators, each an object of keys")
	}
	holds := true
	for op, keys := range ops {
		switch {
		case strings.HasSuffix(op, "IfExists"):
		case op == "Null":
			for _, v := range keys {
				if !nullTrue(v) {
					holds = false
				}
			}
		default:
			holds = false
		}
	}
	return holds, nil
}

// nullTrue reports whether a Null condition's value is true (or "true").
func nullTrue(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	vals, err := stringOrList(raw)
	if err != nil {
		return false
	}
	for _, v := range vals {
		if !strings.EqualFold(v, "true") {
			return false
		}
	}
	return true
}

// matches reports whether st takes in action on resource, for its
// effect: see coversResource.
func (st statement) matches(action, resource string) bool {
	if !st.applies {
		return false
	}
	named := false
	for _, p := range st.actions {
		if glob(strings.ToLower(p), strings.ToLower(action)) {
			named = true
			break
		}
	}
	if named == st.notAction {
		return false
	}
	return st.coversResource(resource)
}

// coversResource reports whether st's resources take in resource.
// Resource ARNs match case-sensitively, with the wildcards * and ?. A
// request for "*", the simulator's default (every resource), is taken in
// by an Allow that leaves some resource to it (the key reaches something)
// and by a Deny only when it names every resource (a Deny of some
// resources leaves the others reachable).
func (st statement) coversResource(resource string) bool {
	if resource == "*" {
		all := false
		for _, p := range st.resources {
			if strings.Trim(p, "*") == "" {
				all = true
			}
		}
		if st.allow {
			return !(st.notResource && all)
		}
		return all && !st.notResource
	}
	named := false
	for _, p := range st.resources {
		if glob(p, resource) {
			named = true
			break
		}
	}
	return named != st.notResource
}

// allows and denies report whether some statement of p allows, or
// denies, action on resource.
func (p *policy) allows(action, resource string) bool { return p.any(true, action, resource) }
func (p *policy) denies(action, resource string) bool { return p.any(false, action, resource) }

func (p *policy) any(allow bool, action, resource string) bool {
	for _, st := range p.statements {
		if st.allow == allow && st.matches(action, resource) {
			return true
		}
	}
	return false
}

// evaluate decides a request as IAM does within one account, for a
// principal with the identity policies given (the user's and its groups',
// inline and attached) and its permissions boundary (nil for none): an
// explicit Deny in any of them wins; otherwise the request is allowed when
// some identity policy allows it and the boundary, if any, allows it too;
// otherwise it is implicitly denied. Resource policies, session policies
// and service control policies play no part.
func evaluate(identity []*policy, boundary *policy, action, resource string) string {
	for _, p := range identity {
		if p.denies(action, resource) {
			return decisionExplicitDeny
		}
	}
	if boundary != nil && boundary.denies(action, resource) {
		return decisionExplicitDeny
	}
	for _, p := range identity {
		if p.allows(action, resource) {
			if boundary == nil || boundary.allows(action, resource) {
				return decisionAllowed
			}
			return decisionImplicitDeny
		}
	}
	return decisionImplicitDeny
}

// glob matches s against pattern, where * is any run of characters and ?
// any one character, in time proportional to len(pattern)·len(s) at worst.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
