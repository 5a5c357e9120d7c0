package main

import (
	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/report"
)

func newRulesCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the built-in rules: the ids findings carry and .keysweep.toml takes",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return report.WriteRules(s.out, detectors.Catalog())
		},
	}
}
