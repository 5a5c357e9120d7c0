package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/internal/limit"
	"github.com/keysweep/keysweep/notify"
	"github.com/keysweep/keysweep/verify"
)

// verifyOptions are the flags that verify found secrets: AWS keys and
// the other providers'.
type verifyOptions struct {
	// verify is "" (off), "all", or a comma-separated list of providers.
	verify          string
	verifyWorkers   int
	verifyTimeout   time.Duration
	verifyEndpoints []string
	// limit is the run's one budget of calls in flight, shared by AWS and
	// the other providers.
	limit limit.Limiter
}

// limiter returns the run's budget of verification calls in flight.
func (o *verifyOptions) limiter() limit.Limiter {
	if o.limit == nil {
		o.limit = limit.New(o.verifyWorkers)
	}
	return o.limit
}

// awsOptions are the flags that verify found secrets and act on AWS keys.
type awsOptions struct {
	verifyOptions
	remediationOptions
}

// remediationOptions are the flags of deactivation, shared by scans and
// `keysweep remediate`.
type remediationOptions struct {
	ownAccounts []string
	roleName    string
	deactivate  bool
	auditLog    string
	partitions  []string

	// Incident response.
	contain         []string
	grace           time.Duration
	statePath       string
	webhook         string
	smtpURL         string
	smtpCA          string
	notifyEmail     string
	cloudTrail      bool
	trailRegions    []string
	expectedRegions []string
}

func (o *awsOptions) bind(f *pflag.FlagSet) {
	o.verifyOptions.bind(f)
	o.remediationOptions.bind(f)
	f.BoolVar(&o.deactivate, "deactivate", false, "set live keys of --own-accounts Inactive with iam:UpdateAccessKey (keys are never deleted)")
}

func (o *verifyOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.verify, "verify", "", "check whether each secret found is live, asking its provider with one read-only call (AWS: sts:GetCallerIdentity); --verify=`LIST` limits it to providers (aws,github,...; see keysweep rules). Canary keys are never sent")
	f.Lookup("verify").NoOptDefVal = "all"
	f.IntVar(&o.verifyWorkers, "verify-workers", 8, "verification calls in flight at once")
	f.DurationVar(&o.verifyTimeout, "verify-timeout", 10*time.Second, "time limit of one verification call, retries included")
	f.StringArrayVar(&o.verifyEndpoints, "verify-endpoint", nil, "ask `PROVIDER=URL` instead of the provider's public API (GitHub Enterprise, GitLab self-managed; repeatable; also KEYSWEEP_VERIFY_ENDPOINTS=\"github=URL,slack=URL\"); plain http only to loopback")
}

func (o *remediationOptions) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&o.ownAccounts, "own-accounts", nil, "your AWS account ids, comma-separated: their live keys get incident response (last use, blast radius, CloudTrail) and are planned for (or, with --deactivate, given) containment; implies --verify")
	f.StringVar(&o.roleName, "role-name", "", "act through arn:<partition>:iam::<account>:role/`NAME` in each own account, assumed from the default credentials (default: act with the default credentials)")
	f.StringVar(&o.auditLog, "audit-log", "", "append every remediation step to `FILE`, as JSON lines (default $XDG_STATE_HOME/keysweep/audit.jsonl)")
	f.StringSliceVar(&o.partitions, "partitions", nil, "AWS partitions a key is tried in: aws, aws-cn, aws-us-gov (default all, the configured region's first)")
	f.StringSliceVar(&o.contain, "contain", nil, "how --deactivate contains a live own key: quarantine (attach AWS's newest AWSCompromisedKeyQuarantine policy to its user), deactivate, or quarantine,deactivate (default deactivate)")
	f.DurationVar(&o.grace, "grace", 0, "warn the owner first and contain the key on the first run after this `DURATION` (e.g. 72h), if still active; a key in a public repository, a root key or one used after it leaked gets none")
	f.StringVar(&o.smtpURL, "smtp-url", "", "mail the owner (the IAM user's email or owner tag, else the commit author, else --notify-email) through `URL` smtp://[user@]host[:port]?from=ADDR (STARTTLS; password in KEYSWEEP_SMTP_PASSWORD)")
	f.StringVar(&o.smtpCA, "smtp-ca", "", "trust the mail server's certificate if a CA in this PEM `FILE` signed it (a private relay), besides the system's")
	f.StringVar(&o.notifyEmail, "notify-email", "", "mail `ADDRESS` about keys whose owner has no address")
	f.BoolVar(&o.cloudTrail, "cloudtrail", false, "look up each live own key's CloudTrail events since it leaked (at most 90 days back; slow: 2 calls per second per region)")
	f.StringSliceVar(&o.trailRegions, "cloudtrail-regions", nil, "regions to look in: all (every region enabled in the account, from ec2:DescribeRegions; the default) or a `LIST`")
	f.StringSliceVar(&o.expectedRegions, "expected-regions", nil, "regions the key is expected to be used in: CloudTrail events elsewhere are marked unexpected")
}

// bindLocal binds the flags a local command has and the sweep names its
// own way: where warnings are remembered, and the webhook.
func (o *remediationOptions) bindLocal(f *pflag.FlagSet) {
	f.StringVar(&o.statePath, "state", "", "remember warnings of --grace and verifications of own keys in `FILE` (default $XDG_STATE_HOME/keysweep/aws-keys.json)")
	f.StringVar(&o.webhook, "notify-webhook", "", "post notices to the owners of live own keys to this Slack-compatible webhook `URL` (or set KEYSWEEP_NOTIFY_WEBHOOK)")
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
		case !o.verifies("aws"):
			return nil, nil
		}
	}
	if o.verifyTimeout <= 0 {
		return nil, fmt.Errorf("--verify-timeout must be positive, got %s", o.verifyTimeout)
	}
	return o.remediationOptions.open(ctx, s, aws.Options{
		Workers: o.verifyWorkers, Timeout: o.verifyTimeout, RemediationTimeout: 3 * o.verifyTimeout, Deactivate: o.deactivate,
		Limit: o.limiter(),
	})
}

// verifies reports whether provider's secrets are to be verified.
func (o *verifyOptions) verifies(provider string) bool {
	if o.verify == "" || o.verify == "false" {
		return false
	}
	if o.verify == "all" || o.verify == "true" {
		return true
	}
	return slices.Contains(splitComma(o.verify), provider)
}

// openVerify returns the session that verifies the secrets of providers
// other than AWS, or nil when none is to be verified. A bad list or
// endpoint fails before the scan.
func (o *verifyOptions) openVerify(s *streams) (*verify.Session, error) {
	if o.verifyWorkers < 1 {
		return nil, fmt.Errorf("--verify-workers must be at least 1, got %d", o.verifyWorkers)
	}
	raw := append([]string{os.Getenv("KEYSWEEP_VERIFY_ENDPOINTS")}, o.verifyEndpoints...)
	endpoints, err := verify.ParseEndpoints(raw)
	if err != nil {
		return nil, fmt.Errorf("--verify-endpoint: %w", err)
	}
	var providers []string
	switch o.verify {
	case "", "false":
		return nil, nil
	case "all", "true":
	default:
		known := append([]string{"aws"}, verify.Names()...)
		for _, p := range splitComma(o.verify) {
			if !slices.Contains(known, p) {
				return nil, fmt.Errorf("--verify: unknown provider %q (known: %s)", p, strings.Join(known, ", "))
			}
			if p != "aws" {
				providers = append(providers, p)
			}
		}
		if len(providers) == 0 {
			return nil, nil
		}
	}
	sess, err := verify.Open(verify.Options{Providers: providers, Workers: o.verifyWorkers, Timeout: o.verifyTimeout, Endpoints: endpoints,
		Sleep: s.sleep, Limit: o.limiter()})
	if err != nil {
		return nil, fmt.Errorf("--verify: %w", err)
	}
	return sess, nil
}

// splitComma returns the trimmed, non-empty items of a comma-separated
// list.
func splitComma(list string) []string {
	var out []string
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
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
	if err := o.incident(&opts, s); err != nil {
		return nil, err
	}
	return aws.Open(ctx, opts)
}

// incident sets incident response's options from the flags.
func (o *remediationOptions) incident(opts *aws.Options, s *streams) error {
	var err error
	if opts.Partitions, err = aws.ParsePartitions(o.partitions); err != nil {
		return fmt.Errorf("--partitions: %w", err)
	}
	if opts.Contain, err = aws.ParseContain(o.contain); err != nil {
		return fmt.Errorf("--contain: %w", err)
	}
	if o.grace < 0 {
		return fmt.Errorf("--grace must not be negative, got %s", o.grace)
	}
	if !o.cloudTrail && (len(o.trailRegions) > 0 || len(o.expectedRegions) > 0) {
		return errors.New("--cloudtrail-regions and --expected-regions need --cloudtrail")
	}
	var regions []string // all enabled
	if len(o.trailRegions) != 1 || o.trailRegions[0] != "all" {
		if regions, err = aws.ParseRegions(o.trailRegions); err != nil {
			return fmt.Errorf("--cloudtrail-regions: %w (or all)", err)
		}
	}
	expected, err := aws.ParseRegions(o.expectedRegions)
	if err != nil {
		return fmt.Errorf("--expected-regions: %w", err)
	}
	if o.notifyEmail != "" {
		if a, err := mail.ParseAddress(o.notifyEmail); err != nil || a.Address != o.notifyEmail {
			return fmt.Errorf("--notify-email: %q is not a bare email address", o.notifyEmail)
		}
	}
	if len(opts.OwnAccounts) == 0 {
		for flag, set := range map[string]bool{"--grace": o.grace != 0, "--smtp-url": o.smtpURL != "", "--cloudtrail": o.cloudTrail,
			"--contain": len(o.contain) > 0, "--notify-email": o.notifyEmail != ""} {
			if set {
				return fmt.Errorf("%s needs --own-accounts: incident response is for the keys of your accounts", flag)
			}
		}
		return nil
	}
	webhook := o.webhook
	if webhook == "" {
		webhook = os.Getenv("KEYSWEEP_NOTIFY_WEBHOOK")
	}
	if webhook != "" {
		if err := notify.CheckWebhookURL(webhook); err != nil {
			return fmt.Errorf("--notify-webhook: %w", err)
		}
		opts.Webhook = &notify.Slack{URL: webhook, Sleep: notify.Sleeper(s.sleep)}
	}
	if o.smtpURL != "" {
		m, err := notify.ParseSMTPURL(o.smtpURL)
		if err != nil {
			return fmt.Errorf("--smtp-url: %w", err)
		}
		if o.smtpCA != "" {
			if m.RootCAs, err = certPool(o.smtpCA); err != nil {
				return fmt.Errorf("--smtp-ca: %w", err)
			}
		}
		opts.Mail = m
	}
	state, err := aws.OpenStateFile(o.statePath)
	if err != nil {
		return err
	}
	opts.State, opts.Grace, opts.NotifyEmail = state, o.grace, o.notifyEmail
	opts.CloudTrail, opts.Now = o.cloudTrail, s.now
	opts.Trail = aws.TrailOptions{Regions: regions, Expected: expected, Sleep: s.sleep}
	return nil
}

// certPool returns the system's certificate pool with the PEM
// certificates of file added.
func certPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
