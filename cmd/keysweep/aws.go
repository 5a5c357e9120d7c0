package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/keysweep/keysweep/aws"
)

// awsOptions are the flags that verify found AWS keys and act on them.
type awsOptions struct {
	verify        bool
	verifyWorkers int
	verifyTimeout time.Duration
	remediationOptions
}

// remediationOptions are the flags of deactivation, shared by scans and
// `keysweep remediate`.
type remediationOptions struct {
	ownAccounts []string
	roleName    string
	deactivate  bool
	auditLog    string
}

func (o *awsOptions) bind(f *pflag.FlagSet) {
	f.BoolVar(&o.verify, "verify", false, "check each AWS key pair found with sts:GetCallerIdentity, signed with that pair (canary keys are never sent)")
	f.IntVar(&o.verifyWorkers, "verify-workers", 8, "AWS verification calls in flight at once")
	f.DurationVar(&o.verifyTimeout, "verify-timeout", 10*time.Second, "time limit of one verification call, retries included")
	o.remediationOptions.bind(f)
	f.BoolVar(&o.deactivate, "deactivate", false, "set live keys of --own-accounts Inactive with iam:UpdateAccessKey (keys are never deleted)")
}

func (o *remediationOptions) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&o.ownAccounts, "own-accounts", nil, "your AWS account ids, comma-separated: only their live keys are planned for (or, with --deactivate, given) deactivation; implies --verify")
	f.StringVar(&o.roleName, "role-name", "", "act through arn:aws:iam::<account>:role/`NAME` in each own account, assumed from the default credentials (default: act with the default credentials)")
	f.StringVar(&o.auditLog, "audit-log", "", "append every remediation step to `FILE`, as JSON lines (default $XDG_STATE_HOME/keysweep/audit.jsonl)")
}

// open returns the AWS session of a scan, or nil when neither
// verification nor remediation is asked. It is opened before the scan so
// that a bad AWS set-up fails before any work is done.
func (o *awsOptions) open(ctx context.Context, s *streams) (*aws.Session, error) {
	// Checked whether or not it is used: a bad value is a mistake either way.
	if o.verifyWorkers < 1 {
		return nil, fmt.Errorf("--verify-workers must be at least 1, got %d", o.verifyWorkers)
	}
	if len(o.ownAccounts) == 0 {
		switch {
		case o.deactivate:
			return nil, errors.New("--deactivate needs --own-accounts: name the accounts whose keys may be deactivated")
		case o.roleName != "":
			return nil, errors.New("--role-name needs --own-accounts")
		case !o.verify:
			return nil, nil
		}
	}
	if o.verifyTimeout <= 0 {
		return nil, fmt.Errorf("--verify-timeout must be positive, got %s", o.verifyTimeout)
	}
	return o.remediationOptions.open(ctx, s, aws.Options{
		Workers: o.verifyWorkers, Timeout: o.verifyTimeout, RemediationTimeout: 3 * o.verifyTimeout, Deactivate: o.deactivate,
	})
}

// open opens an AWS session with opts and these flags.
func (o *remediationOptions) open(ctx context.Context, s *streams, opts aws.Options) (*aws.Session, error) {
	if len(o.ownAccounts) > 0 {
		accounts, err := aws.ParseAccounts(o.ownAccounts)
		if err != nil {
			return nil, fmt.Errorf("--own-accounts: %w", err)
		}
		if len(accounts) == 0 {
			return nil, errors.New("--own-accounts is empty")
		}
		if err := aws.CheckRoleName(o.roleName); err != nil {
			return nil, fmt.Errorf("--role-name: %w", err)
		}
		opts.OwnAccounts = accounts
	}
	opts.RoleName, opts.AuditLog, opts.Load = o.roleName, o.auditLog, s.awsOpts
	return aws.Open(ctx, opts)
}
