package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/smtptest"
)

// runAt runs keysweep with its grace-period clock at now.
func runAt(t *testing.T, now time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := testStreams(strings.NewReader(""), &out, &errOut)
	s.now = func() time.Time { return now }
	code = execute(context.Background(), args, s)
	return code, out.String(), errOut.String()
}

// TestGraceWarnsByMailAndWebhookThenDeactivates runs `keysweep git` three
// times over a repository with a live key of the user's account, with a
// grace period: the owner (the IAM user's email tag) is mailed over
// STARTTLS and the webhook told, then reminded, then the key is
// deactivated once the period is over. No message holds the secret.
func TestGraceWarnsByMailAndWebhookThenDeactivates(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	own := e.leaks["own"]
	e.s.TagUser(ownAccount, "ci/deploy-bot", "email", "owner@example.com")
	mail := smtptest.New(t, smtptest.Options{User: "keysweep", Password: "relay-pass"})
	ca := filepath.Join(t.TempDir(), "relay-ca.pem")
	if err := os.WriteFile(ca, mail.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSWEEP_SMTP_PASSWORD", "relay-pass")
	hook := newWebhook(t)
	state := filepath.Join(t.TempDir(), "keys.json")
	args := []string{"git", e.repo.Dir, "--own-accounts", ownAccount, "--deactivate", "--grace", "72h", "--state", state,
		"--notify-webhook", hook.URL, "--smtp-url", "smtp://keysweep@" + mail.Addr + "?from=keysweep@example.com", "--smtp-ca", ca,
		"--format", "json"}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e.s.SetClock(func() time.Time { return start })

	runs := []struct {
		at     time.Duration
		action string
		status string
		words  []string // in the mail to the owner
	}{
		{0, finding.ActionWarned, "Active", []string{own.KeyID, "deploy-bot", ownAccount, "File: deploy/", "2026-12-04",
			"https://console.aws.amazon.com/iam/home#/users/details/deploy-bot?section=security_credentials"}},
		{24 * time.Hour, finding.ActionReminded, "Active", []string{own.KeyID, "2026-12-04"}},
		{73 * time.Hour, finding.ActionDeactivated, "Inactive", []string{own.KeyID, "deactivated"}},
	}
	for i, r := range runs {
		now := start.Add(r.at)
		e.s.SetClock(func() time.Time { return now })
		code, out, errOut := runAt(t, now, args...)
		if code != exitFindings {
			t.Fatalf("run %d: exit %d\n%s", i+1, code, errOut)
		}
		var fs []finding.Finding
		if err := json.Unmarshal([]byte(out), &fs); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			if f.KeyID != own.KeyID || f.RuleID != "aws-access-key" {
				continue
			}
			found = true
			if f.Remediation == nil || f.Remediation.Action != r.action {
				t.Errorf("run %d: %s: remediation %+v, want %s", i+1, f.Path, f.Remediation, r.action)
			}
			if f.Usage == nil || f.BlastRadius == nil || f.Exposure == nil {
				t.Errorf("run %d: %s: no incident: usage %+v, reach %+v, exposure %+v", i+1, f.Path, f.Usage, f.BlastRadius, f.Exposure)
			}
		}
		if !found {
			t.Fatalf("run %d: the own key is not reported", i+1)
		}
		if got := e.s.Status(own.KeyID); got != r.status {
			t.Errorf("run %d: the key is %s, want %s", i+1, got, r.status)
		}
		var toOwner []smtptest.Message
		for _, m := range mail.Messages() {
			if len(m.To) == 1 && m.To[0] == "owner@example.com" {
				toOwner = append(toOwner, m)
			}
		}
		if len(toOwner) != i+1 {
			t.Fatalf("run %d: %d mails to the owner, want %d", i+1, len(toOwner), i+1)
		}
		last := toOwner[i]
		if !last.TLS || last.User != "keysweep" {
			t.Errorf("run %d: mail sent without TLS or authentication: %+v", i+1, last)
		}
		body := decodedBody(t, last.Data)
		for _, w := range r.words {
			if !strings.Contains(body, w) {
				t.Errorf("run %d: the mail lacks %q:\n%s", i+1, w, body)
			}
		}
		if !strings.Contains(errOut, r.action) {
			t.Errorf("run %d: the summary does not count %s:\n%s", i+1, r.action, errOut)
		}
	}
	for _, m := range mail.Messages() {
		if strings.Contains(decodedBody(t, m.Data), own.Secret) || strings.Contains(string(m.Data), own.Secret) {
			t.Error("a mail holds the secret")
		}
	}
	posts := hook.posts()
	if len(posts) < 3 {
		t.Errorf("webhook posts: %d", len(posts))
	}
	for _, p := range posts {
		if strings.Contains(p, own.Secret) {
			t.Error("a webhook post holds the secret")
		}
	}
	raw, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(raw), own.KeyID) || strings.Contains(string(raw), own.Secret) {
		t.Errorf("state: %v\n%s", err, raw)
	}
}

// decodedBody returns a mail's body with quoted-printable soft breaks and
// escapes undone, enough to search it.
func decodedBody(t *testing.T, data []byte) string {
	t.Helper()
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, "=\n", "")
	s = strings.ReplaceAll(s, "=3D", "=")
	return s
}

// TestIncidentFlagErrors checks that the incident flags refuse bad values
// with one line and exit 2, before any AWS call.
func TestIncidentFlagErrors(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	own := []string{"git", e.repo.Dir, "--own-accounts", ownAccount}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown containment", append(own, "--contain", "delete"), `--contain: unknown containment "delete"`},
		{"negative grace", append(own, "--grace", "-1h"), "--grace must not be negative"},
		{"grace without a way to warn", append(own, "--grace", "72h"), "--notify-webhook or --smtp-url"},
		{"bad region", append(own, "--cloudtrail", "--cloudtrail-regions", "eu-west-1,mars-1"), "--cloudtrail-regions"},
		{"bad partition", append(own, "--partitions", "aws-iso"), `unknown AWS partition "aws-iso"`},
		{"plain-http webhook", append(own, "--notify-webhook", "http://hooks.example.com/x"), "--notify-webhook"},
		{"bad smtp url", append(own, "--smtp-url", "ftp://relay"), "--smtp-url"},
		{"bad notify email", append(own, "--notify-email", "Boss <boss@example.com>"), "--notify-email"},
		{"regions without cloudtrail", append(own, "--expected-regions", "eu-west-1"), "need --cloudtrail"},
		{"grace without own accounts", []string{"git", e.repo.Dir, "--verify", "--grace", "72h"}, "--grace needs --own-accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; code != exitError || !strings.HasPrefix(last, "keysweep: ") || !strings.Contains(last, tt.want) {
				t.Errorf("exit %d, last stderr line %q; want 2 and %q", code, last, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
	if n := len(e.s.Calls()); n != 0 {
		t.Errorf("bad flags made %d AWS calls", n)
	}
}

// TestRemediateQuarantinesFromReport: `keysweep remediate` takes the
// incident flags too. A reviewed, unredacted report's key is proven live
// again, then quarantined with AWS's newest quarantine policy and
// deactivated; the report's claims (here, public) never skip the proof.
func TestRemediateQuarantinesFromReport(t *testing.T) {
	e := newEstate(t)
	awsEnv(t, e.s.URL, e.admin)
	e.s.SetQuarantinePolicies(1, 2, 3, 4)
	reportFile := filepath.Join(t.TempDir(), "report.json")
	if code, _, errOut := runCLI(t, "git", e.repo.Dir, "--format", "json", "--no-redact", "--report", reportFile); code != exitFindings {
		t.Fatalf("scan: exit %d; stderr:\n%s", code, errOut)
	}
	code, out, errOut := runCLI(t, "remediate", reportFile, "--own-accounts", ownAccount, "--role-name", roleName, "--deactivate",
		"--contain", "quarantine,deactivate", "--format", "json")
	if code != exitFindings { // root and session keys are left to a person
		t.Fatalf("remediate: exit %d; stderr:\n%s", code, errOut)
	}
	var fs []finding.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatal(err)
	}
	own := e.leaks["own"]
	for _, f := range fs {
		if f.KeyID != own.KeyID || f.RuleID != "aws-access-key" {
			continue
		}
		r := f.Remediation
		if r == nil || r.Action != finding.ActionDeactivated || strings.Join(r.Steps, ",") != "quarantined,deactivated" ||
			r.Policy != "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV4" {
			t.Errorf("%s: remediation %+v", f.Path, r)
		}
		if f.BlastRadius == nil || f.Usage == nil {
			t.Errorf("%s: no incident response: %+v %+v", f.Path, f.BlastRadius, f.Usage)
		}
	}
	if got := e.s.AttachedUserPolicies(ownAccount, "ci/deploy-bot"); len(got) != 1 || !strings.HasSuffix(got[0], "QuarantineV4") {
		t.Errorf("attached: %v", got)
	}
	if e.s.Status(own.KeyID) != "Inactive" {
		t.Error("the key is still active")
	}
	if !strings.Contains(errOut, "quarantined: 1") {
		t.Errorf("the summary does not count the quarantine:\n%s", errOut)
	}
}
