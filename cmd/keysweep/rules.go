package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/detectors"
)

func newRulesCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the built-in rules: the ids findings carry and .keysweep.toml takes",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tDESCRIPTION\tKEYWORDS")
			for _, r := range detectors.Catalog() {
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
		},
	}
}
