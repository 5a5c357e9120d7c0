package awstest

import (
	"net/http"
	"net/url"
)

// iamPolicyActions are the IAM actions of users, groups and policies that
// serveIAMPolicy answers.
var iamPolicyActions = map[string]bool{}

// serveIAMPolicy answers the IAM actions of iamPolicyActions for caller.
func (s *Server) serveIAMPolicy(caller *key, action string, params url.Values) (string, *apiError) {
	return "", &apiError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + action}
}
