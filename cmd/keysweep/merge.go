package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/report"
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
			var merged []report.Finding
			seen := make(map[string]bool)
			for _, path := range args {
				f, err := os.Open(path)
				if err != nil {
					return fmt.Errorf("read report: %w", err)
				}
				fs, err := report.Read(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("read report %s: %w", path, err)
				}
				for _, f := range fs {
					k := f.Repository + "\x00" + f.Fingerprint + "\x00" + f.Path + "\x00" + f.Commit
					if !seen[k] {
						seen[k] = true
						merged = append(merged, f)
					}
				}
			}
			if err := writeReport(s, o, merged); err != nil {
				return err
			}
			if len(merged) > 0 {
				return errFindings
			}
			return nil
		},
	}
	o.bind(cmd)
	return cmd
}
