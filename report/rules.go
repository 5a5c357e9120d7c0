package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/keysweep/keysweep/detectors"
)

// WriteRules lists rules as a table: id, description and the keywords
// that make the scanner look (or the rule whose matches it pairs).
func WriteRules(w io.Writer, rules []detectors.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tDESCRIPTION\tKEYWORDS")
	for _, r := range rules {
		kw := strings.Join(r.Keywords, " ")
		if r.Pairs != "" {
			// Found by another rule, not by keywords of its own.
			kw = "(" + r.Pairs + " with its secret)"
		}
		if len(kw) > 40 {
			kw = kw[:37] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Description, kw)
	}
	return tw.Flush()
}
