package awstest

import (
	"net/http"
	"net/url"
)

// ec2Version is the API version of EC2's Query protocol.
const ec2Version = "2016-11-15"

// serveEC2 answers an EC2 Query request.
func (s *Server) serveEC2(w http.ResponseWriter, r *http.Request, body []byte, params url.Values) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}
