package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/keysweep/keysweep/detectors"
)

// RuleVerifier is how a rule's secrets are verified: by Provider,
// with Calls; or, when Provider is "", why they are not (Why, empty when
// no provider has the rule).
type RuleVerifier struct {
	Provider string   `json:"provider,omitempty"`
	Calls    []string `json:"calls,omitempty"`
	Why      string   `json:"why_not,omitempty"`
}

// WriteRules lists rules as a table: id, description, the keywords that
// make the scanner look (or the rule whose matches it pairs), and the
// provider that verifies them.
func WriteRules(w io.Writer, rules []detectors.Rule, verifiers map[string]RuleVerifier) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tDESCRIPTION\tKEYWORDS\tVERIFIED BY")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Description, keywords(r), verifiedBy(verifiers[r.ID]))
	}
	return tw.Flush()
}

func keywords(r detectors.Rule) string {
	kw := strings.Join(r.Keywords, " ")
	if r.Pairs != "" {
		// Found by another rule, not by keywords of its own.
		kw = "(" + r.Pairs + " with its secret)"
	}
	if len(kw) > 40 {
		kw = kw[:37] + "..."
	}
	return kw
}

func verifiedBy(v RuleVerifier) string {
	switch {
	case v.Provider != "":
		return v.Provider
	case v.Why != "":
		return "no (see --format json)"
	}
	return "-"
}

// WriteRulesJSON lists rules as JSON: id, description, keywords, and for
// each its verifier and the exact endpoints it calls (or why it has none),
// so that a locked-down network can allow them.
func WriteRulesJSON(w io.Writer, rules []detectors.Rule, verifiers map[string]RuleVerifier) error {
	type rule struct {
		ID          string        `json:"id"`
		Description string        `json:"description"`
		Keywords    []string      `json:"keywords"`
		Pairs       string        `json:"pairs,omitempty"`
		Verifier    *RuleVerifier `json:"verifier,omitempty"`
	}
	out := make([]rule, 0, len(rules))
	for _, r := range rules {
		x := rule{ID: r.ID, Description: r.Description, Keywords: r.Keywords, Pairs: r.Pairs}
		if x.Keywords == nil {
			x.Keywords = []string{}
		}
		if v, ok := verifiers[r.ID]; ok {
			x.Verifier = &v
		}
		out = append(out, x)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
