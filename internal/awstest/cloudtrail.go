package awstest

import (
	"net/http"
	"time"
)

// serveJSON answers a request of the JSON protocol (CloudTrail).
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}

// recordEvent keeps a call as the CloudTrail event AWS would log.
func (s *Server) recordEvent(caller *key, action, service, region string, r *http.Request, at time.Time) {}
