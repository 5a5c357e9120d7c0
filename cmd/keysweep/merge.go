package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/finding"
)

func newMergeCmd(s *streams) *cobra.Command {
	o := &outputOptions{}
	cmd := &cobra.Command{
		Use: "merge REPORT.json...",
		Example: `  keysweep merge shard-*.json --format json --report all.json
  keysweep merge a.sarif b.json --results verified`,
		Short: "Merge keysweep reports (the shards of a sweep) into one",
		Long: `Read keysweep reports, JSON, JSON lines or SARIF (such as those of the
shards of an organization sweep) and write them as one, each finding once
(the same repository, fingerprint, path and commit), in --format. A SARIF
report holds no secrets, so neither do its findings. Exits 1 when the
merged report holds findings.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			var reports [][]finding.Finding
			for _, path := range args {
				fs, err := finding.ReadFile(path)
				if err != nil {
					return fmt.Errorf("read report: %w", err)
				}
				reports = append(reports, fs)
			}
			merged := o.keep(finding.Merge(reports...))
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
