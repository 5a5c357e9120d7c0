package finding

import (
	"fmt"
	"strings"
)

// What a finding's verification came to, as --results filters it.
const (
	ResultVerified = "verified"
	ResultInvalid  = "invalid"
	ResultUnknown  = "unknown"
	// ResultUnverified: no verifier, verification off, or a canary key
	// (never sent).
	ResultUnverified = "unverified"
)

// Results lists the result classes, in the order they are shown.
var Results = []string{ResultVerified, ResultUnknown, ResultInvalid, ResultUnverified}

// Result is the class of f's verification.
func (f *Finding) Result() string {
	switch {
	case f.Verification == nil || f.Verification.Status == StatusCanary:
		return ResultUnverified
	case f.Verification.Status == StatusVerified:
		return ResultVerified
	case f.Verification.Status == StatusInvalid:
		return ResultInvalid
	}
	return ResultUnknown
}

// ParseResults reads a comma-separated list of result classes; "" is
// all of them (nil).
func ParseResults(list string) (map[string]bool, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	keep := map[string]bool{}
	for _, r := range strings.Split(list, ",") {
		r = strings.TrimSpace(r)
		known := false
		for _, k := range Results {
			known = known || k == r
		}
		if !known {
			return nil, fmt.Errorf("unknown result %q (want %s)", r, strings.Join(Results, ", "))
		}
		keep[r] = true
	}
	return keep, nil
}

// KeepResults returns the findings of fs whose result keep holds; all
// of them when keep is nil.
func KeepResults(fs []Finding, keep map[string]bool) []Finding {
	if keep == nil {
		return fs
	}
	out := fs[:0:0]
	for _, f := range fs {
		if keep[f.Result()] {
			out = append(out, f)
		}
	}
	return out
}
