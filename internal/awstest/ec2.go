package awstest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ec2Version is the API version of EC2's Query protocol.
const ec2Version = "2016-11-15"

const ec2Namespace = "http://ec2.amazonaws.com/doc/" + ec2Version + "/"

// defaultRegions are the regions every account of a partition has
// enabled; optInRegions those an account must opt in to (aws only).
var (
	defaultRegions = map[string][]string{
		"aws": {
			"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
			"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
			"us-east-1", "us-east-2", "us-west-1", "us-west-2",
		},
		"aws-cn":     {"cn-north-1", "cn-northwest-1"},
		"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
	}
	optInRegions = []string{
		"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
		"ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
		"me-central-1", "me-south-1", "mx-central-1",
	}
)

// Regions returns the regions every account of partition (aws, aws-cn,
// aws-us-gov) has enabled, sorted.
func Regions(partition string) []string {
	return slices.Clone(defaultRegions[partition])
}

// OptInRegions returns the regions of the aws partition that an account
// must opt in to, sorted.
func OptInRegions() []string {
	return slices.Clone(optInRegions)
}

// SetRegions makes regions the ones enabled for account, in place of its
// partition's defaults: EC2 lists them, and CloudTrail answers only there
// (elsewhere, as AWS does in a region not opted in to, it refuses the
// caller's token).
func (s *Server) SetRegions(account string, regions ...string) {
	t := s.trail()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.regions[account] = slices.Sorted(slices.Values(regions))
}

// enabledRegions returns the regions enabled for account in partition. The
// caller holds s.mu.
func (s *Server) enabledRegions(account, partition string) []string {
	set, ok := s.trail().regions[account]
	if !ok {
		return defaultRegions[partition]
	}
	var out []string
	for _, r := range set {
		if Partition(r) == partition {
			out = append(out, r)
		}
	}
	return out
}

// serveEC2 answers an EC2 Query request.
func (s *Server) serveEC2(w http.ResponseWriter, r *http.Request, body []byte, params url.Values) {
	call := Call{Action: params.Get("Action"), Host: r.Host, Params: params}
	result, aerr := s.ec2(r, body, params, &call)
	if aerr != nil {
		call.Status, call.Code = aerr.status, aerr.code
	} else {
		call.Status = http.StatusOK
	}
	s.record(call)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	if aerr != nil {
		w.WriteHeader(aerr.status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>%s%s</Error></Errors>%s</Response>\n",
			el("Code", aerr.code), el("Message", aerr.message), el("RequestID", requestID()))
		return
	}
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=%q>\n%s\n%s\n</%sResponse>\n",
		call.Action, ec2Namespace, el("requestId", requestID()), result, call.Action)
}

func (s *Server) ec2(r *http.Request, body []byte, params url.Values, call *Call) (string, *apiError) {
	if call.Action != "DescribeRegions" {
		return "", &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", call.Action)}
	}
	caller, _, aerr := s.authenticate(r, body, "ec2", call)
	if aerr != nil {
		return "", ec2Error(aerr)
	}
	part := caller.partition()
	s.mu.Lock()
	enabled := slices.Clone(s.enabledRegions(caller.account, part))
	s.mu.Unlock()
	if !slices.Contains(enabled, call.Region) {
		return "", &apiError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"}
	}
	if !caller.admin {
		return "", &apiError{http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation."}
	}

	all := enabled
	if part == "aws" {
		all = slices.Sorted(slices.Values(append(slices.Clone(defaultRegions[part]), optInRegions...)))
	}
	var names []string
	for k, v := range params {
		if strings.HasPrefix(k, "RegionName.") {
			if !slices.Contains(all, v[0]) {
				return "", &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Invalid region: %s", v[0])}
			}
			names = append(names, v[0])
		}
	}
	allRegions := params.Get("AllRegions") == "true"
	var b strings.Builder
	b.WriteString("<regionInfo>")
	for _, name := range all {
		on := slices.Contains(enabled, name)
		if len(names) > 0 && !slices.Contains(names, name) || len(names) == 0 && !on && !allRegions {
			continue
		}
		status := "opt-in-not-required"
		switch {
		case !slices.Contains(defaultRegions[part], name) && on:
			status = "opted-in"
		case !on:
			status = "not-opted-in"
		}
		host := "ec2." + name + ".amazonaws.com"
		if part == "aws-cn" {
			host += ".cn"
		}
		b.WriteString("<item>" + el("regionName", name) + el("regionEndpoint", host) + el("optInStatus", status) + "</item>")
	}
	b.WriteString("</regionInfo>")
	return b.String(), nil
}

// ec2Error is the code and status EC2 answers for an error of
// authenticate, which speaks STS's words.
func ec2Error(e *apiError) *apiError {
	switch e.code {
	case "InvalidClientTokenId":
		return &apiError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"}
	case "Throttling":
		return &apiError{http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."}
	case "InternalFailure":
		return &apiError{http.StatusInternalServerError, "InternalError", "An internal error has occurred"}
	}
	return e
}
