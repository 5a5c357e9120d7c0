package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/verify"
)

type remediateOptions struct {
	format     string
	reportFile string
	dryRun     bool
	timeout    time.Duration
	remediationOptions
}

func newRemediateCmd(s *streams) *cobra.Command {
	o := &remediateOptions{}
	cmd := &cobra.Command{
		Use:   "remediate REPORT.json",
		Short: "Deactivate the live AWS keys of your own accounts listed in an earlier report",
		Long: `Read a report written by a scan with --verify --format json (or jsonl) and
deactivate, with iam:UpdateAccessKey, the keys that were verified live and
belong to one of --own-accounts: the key id must decode to that account and
STS must have answered for it. Keys are never deleted, and a key of any other
account is never touched. IAM is asked just before acting whether the key is
still active; root keys and temporary (ASIA) credentials get the manual step
to take instead.

Credentials come from the default AWS credential chain; with --role-name R,
keysweep assumes arn:aws:iam::<account>:role/R in each own account. Every
step is appended to the audit log. --dry-run prints the plan and changes
nothing.

The report is written again with a "remediation" entry on each AWS finding.
Exit codes: 0 nothing left to do, 1 live keys remain (a plan, or manual
steps), 2 error (a step failed, or bad input).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemediate(cmd, s, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&o.reportFile, "report", "", "write results to `FILE` instead of stdout")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be done and change nothing")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of one AWS call, retries included")
	o.remediationOptions.bind(f)
	return cmd
}

func runRemediate(cmd *cobra.Command, s *streams, o *remediateOptions, path string) error {
	out := &outputOptions{format: o.format, reportFile: o.reportFile}
	if err := out.validate(); err != nil {
		return err
	}
	if len(o.ownAccounts) == 0 {
		return errors.New("--own-accounts is required: name the accounts whose keys may be deactivated")
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open report: %w", err)
	}
	findings, err := report.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := verify.LoadConfig(cmd.Context())
	if err != nil {
		return err
	}
	r, audit, err := o.newRemediator(cfg, !o.dryRun, o.timeout)
	if err != nil {
		return err
	}
	defer audit.Close()

	best := map[string]*verify.Result{}
	verified := 0
	for _, f := range findings {
		if f.KeyID == "" {
			continue
		}
		if f.Verification != nil {
			verified++
		}
		if _, ok := best[f.KeyID]; !ok || rank(f.Verification) > rank(best[f.KeyID]) {
			best[f.KeyID] = f.Verification
		}
	}
	if len(best) > 0 && verified == 0 {
		fmt.Fprintf(s.errOut, "keysweep: %s has no verification results: scan with --verify first; nothing will be touched\n", path)
	}
	ids := make([]string, len(findings))
	vs := make([]*verify.Result, len(findings))
	rs := make([]*verify.Remediation, len(findings))
	for i, f := range findings {
		if f.KeyID == "" {
			continue
		}
		rem := r.Remediate(cmd.Context(), f.KeyID, best[f.KeyID])
		findings[i].Remediation = &rem
		ids[i], vs[i], rs[i] = f.KeyID, best[f.KeyID], &rem
	}
	if err := writeReport(s, out, findings); err != nil {
		return err
	}
	sum := summarize(ids, vs, rs, audit)
	sum.print(s.errOut)
	if err := sum.err(); err != nil {
		return err
	}
	if n := sum.pending(); n > 0 {
		return fmt.Errorf("%w: %d live keys of your accounts remain active", errFindings, n)
	}
	return nil
}
