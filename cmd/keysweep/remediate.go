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
	noRedact   bool
	dryRun     bool
	timeout    time.Duration
	remediationOptions
}

// reverifyWorkers is how many STS calls remediate has in flight at once
// when it verifies the report's keys again.
const reverifyWorkers = 8

func newRemediateCmd(s *streams) *cobra.Command {
	o := &remediateOptions{}
	cmd := &cobra.Command{
		Use:   "remediate REPORT.json",
		Short: "Deactivate the live AWS keys of your own accounts listed in an earlier report, after verifying each again",
		Long: `Read a report written by a scan with --format json (or jsonl) and
--no-redact, and deactivate, with iam:UpdateAccessKey, the live keys of
--own-accounts that it lists.

A report is not proof of a leak: key ids are not secret, so anyone can write
a report that names your key as "verified". remediate ignores the report's
verification and verifies each key of your accounts again, now, with
sts:GetCallerIdentity signed with the secret the report holds: a secret that
works is the leak. A key is deactivated only when that answer says it is live
and the key id decodes to one of --own-accounts, the same account STS
answered for. A key whose secret is redacted or missing in the report is not
touched; remediate says so and exits 2: write the report with --no-redact
(and keep it private), or scan again with keysweep git --verify --deactivate.
A key whose id decodes to another account is neither sent to AWS nor
touched. Keys are never deleted. IAM is asked just before acting whether the key is still active;
root keys, temporary (ASIA) credentials and keys issued before 2019 (whose id
carries no account) get the manual step to take instead.

Credentials come from the default AWS credential chain; with --role-name R,
keysweep assumes arn:aws:iam::<account>:role/R in each own account. Every
step is appended to the audit log. --dry-run verifies again and prints the
plan, and changes nothing.

The report is written again, secrets redacted unless --no-redact, with this
run's "verification" and a "remediation" entry on each AWS finding.
Exit codes: 0 nothing left to do, 1 live keys remain (a plan, or manual
steps), 2 error (a step failed, a key could not be verified again because
the report's secret is redacted, or bad input).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemediate(cmd, s, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&o.reportFile, "report", "", "write results to `FILE` instead of stdout")
	f.BoolVar(&o.noRedact, "no-redact", false, "show the report's secrets in clear in the results")
	f.BoolVar(&o.dryRun, "dry-run", false, "verify the keys again and print what would be done; change nothing")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of one AWS call, retries included")
	o.remediationOptions.bind(f)
	return cmd
}

func runRemediate(cmd *cobra.Command, s *streams, o *remediateOptions, path string) error {
	out := &outputOptions{format: o.format, reportFile: o.reportFile, noRedact: o.noRedact}
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
	cfg, err := verify.LoadConfig(cmd.Context(), s.awsOpts...)
	if err != nil {
		return err
	}
	r, audit, err := o.newRemediator(cfg, !o.dryRun, o.timeout)
	if err != nil {
		return err
	}
	defer audit.Close()

	own := map[string]bool{}
	accounts, _ := verify.ParseAccounts(o.ownAccounts) // checked by newRemediator
	for _, a := range accounts {
		own[a] = true
	}
	plan := planReverification(findings, own)
	results := plan.verify(cmd.Context(), verify.NewVerifier(cfg, o.timeout), reverifyWorkers)

	ids := make([]string, len(findings))
	vs := make([]*verify.Result, len(findings))
	rs := make([]*verify.Remediation, len(findings))
	redacted, told := 0, map[string]bool{}
	for i, f := range findings {
		if !o.noRedact {
			findings[i].Secret, findings[i].SessionToken = redactAgain(f.Secret), redactAgain(f.SessionToken)
		}
		if f.KeyID == "" {
			continue
		}
		var rem verify.Remediation
		if why := plan.unverifiable(f.KeyID); why != "" {
			if !told[f.KeyID] {
				told[f.KeyID] = true
				fmt.Fprintf(s.errOut, "keysweep: %s: %s\n", f.KeyID, why)
				if plan.redacted[f.KeyID] {
					redacted++
				}
			}
			rem = r.Skip(f.KeyID, why)
		} else {
			rem = r.Remediate(cmd.Context(), f.KeyID, results[f.KeyID])
		}
		findings[i].Verification, findings[i].Remediation = results[f.KeyID], &rem
		ids[i], vs[i], rs[i] = f.KeyID, results[f.KeyID], &rem
	}
	if err := writeReport(s, out, findings); err != nil {
		return err
	}
	sum := summarize(ids, vs, rs, audit)
	sum.print(s.errOut)
	if err := sum.err(); err != nil {
		return err
	}
	if redacted > 0 {
		return fmt.Errorf("%d keys of your accounts were not verified again, so not touched: the secrets in %s are redacted; "+
			"write the report with --no-redact, or scan again with keysweep git --verify --deactivate", redacted, path)
	}
	if n := sum.pending(); n > 0 {
		return fmt.Errorf("%w: %d live keys of your accounts remain active", errFindings, n)
	}
	return nil
}
