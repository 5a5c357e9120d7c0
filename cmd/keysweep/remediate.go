package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
)

type remediateOptions struct {
	outputOptions
	dryRun  bool
	timeout time.Duration
	remediationOptions
}

// reverifyWorkers is how many STS calls remediate has in flight at once
// when it verifies the report's keys again.
const reverifyWorkers = 8

func newRemediateCmd(s *streams) *cobra.Command {
	o := &remediateOptions{}
	cmd := &cobra.Command{
		Use:   "remediate REPORT.json",
		Short: "Plan for, or with --deactivate contain, the live AWS keys of your own accounts an earlier report lists, after verifying each again",
		Long: `Read a report written by a scan with --format json (or jsonl) and
--no-redact, verify again the keys of --own-accounts it lists, and plan
what to do about the live ones; with --deactivate, contain them (quarantine
and/or deactivate, --contain), as keysweep git does.

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
step is appended to the audit log. Without --deactivate nothing is changed:
the keys are verified again and the plan is printed.

The report is written again, secrets redacted unless --no-redact, with this
run's "verification" and a "remediation" entry on each AWS finding.
Exit codes: 0 nothing left to do, 1 live keys remain (a plan, or manual
steps), 2 error (a step failed, a key could not be verified again because
the report's secret is redacted, or bad input).`,
		Example: `  keysweep git . --verify --no-redact --format json --report leaks.json
  keysweep remediate leaks.json --own-accounts 111122223333            # the plan
  keysweep remediate leaks.json --own-accounts 111122223333 --role-name SecurityResponder --deactivate`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.dryRun && o.deactivate {
				return errors.New("--dry-run and --deactivate contradict each other: remediate plans unless --deactivate")
			}
			return runRemediate(cmd, s, o, args[0])
		},
	}
	o.outputOptions.bind(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.deactivate, "deactivate", false, "contain the live keys (--contain; default deactivate); without it, only the plan")
	f.BoolVar(&o.dryRun, "dry-run", false, "plan only (the default now)")
	_ = f.MarkHidden("dry-run") // plans unless --deactivate, as before its time
	f.DurationVar(&o.timeout, "verify-timeout", 30*time.Second, "time limit of one AWS call, retries included")
	o.remediationOptions.bind(f)
	o.remediationOptions.bindLocal(f)
	return cmd
}

func runRemediate(cmd *cobra.Command, s *streams, o *remediateOptions, path string) error {
	if err := o.outputOptions.validate(); err != nil {
		return err
	}
	if len(o.ownAccounts) == 0 {
		return errors.New("--own-accounts is required: name the accounts whose keys may be deactivated")
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--verify-timeout must be positive, got %s", o.timeout)
	}
	findings, err := finding.ReadFile(path)
	if err != nil {
		return fmt.Errorf("open report: %w", err)
	}
	sess, err := o.remediationOptions.open(cmd.Context(), s, aws.Options{
		Workers: reverifyWorkers, Timeout: o.timeout, RemediationTimeout: 3 * o.timeout, Deactivate: o.deactivate,
	})
	if err != nil {
		return err
	}
	defer sess.Close()
	redacted := sess.Reverify(cmd.Context(), findings, func(keyID, why string) {
		fmt.Fprintf(s.errOut, "keysweep: %s: %s\n", keyID, why)
	})
	if err := writeResults(s, &o.outputOptions, findings, nil); err != nil {
		return err
	}
	sum := sess.Summary()
	report.WriteAWSSummary(s.errOut, sum)
	if err := sum.Err(); err != nil {
		return err
	}
	if redacted > 0 {
		return fmt.Errorf("%d keys of your accounts were not verified again, so not touched: the secrets in %s are redacted; "+
			"write the report with --no-redact, or scan again with keysweep git --verify --deactivate", redacted, path)
	}
	if n := sum.Pending(); n > 0 {
		return fmt.Errorf("%w: %d live keys of your accounts remain active", errFindings, n)
	}
	return nil
}
