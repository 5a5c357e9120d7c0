package main

import (
	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/finding"
)

func newMergeCmd(s *streams) *cobra.Command {
	o := &outputOptions{}
	cmd := &cobra.Command{
		Use:   "merge REPORT.json...",
		Short: "Merge keysweep reports (the shards of a sweep) into one",
		Long: `Read keysweep JSON or JSON-lines reports (such as those of the shards of
an organization sweep) and write them as one, each finding once (the same
repository, fingerprint, path and commit), in --format. Exits 1 when the
merged report holds findings.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			var merged []finding.Finding
			seen := make(map[string]bool)
			for _, path := range args {
				fs, err := readReport(path)
				if err != nil {
					return err
				}
				for _, f := range fs {
					if k := f.Key(); !seen[k] {
						seen[k] = true
						merged = append(merged, f)
					}
				}
			}
			if err := writeResults(s, o, merged, nil); err != nil {
				return err
			}
			if len(merged) > 0 {
				return errFindings
			}
			return nil
		},
	}
	o.bind(cmd)
	o.bindProgress(cmd)
	return cmd
}
