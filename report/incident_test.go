package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/finding"
)

// incidentFindings are two findings of one live own key with what
// incident response learned, some of it from CloudTrail events an
// attacker's requests made (a user agent and an event name with terminal
// escapes).
func incidentFindings() []finding.Finding {
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	account := "111122223333"
	public := true
	base := finding.Finding{
		RuleID: "aws-access-key", Description: "AWS access key", Secret: secret, KeyID: "AKIAIOSFODNN7EXAMPLE", AccountID: &account,
		Commit: strings.Repeat("ab", 20), Path: "deploy/prod.env", Line: 2, Column: 1, Fingerprint: "aws-access-key:0011223344556677",
		Exposure:          &finding.Exposure{Since: "2026-06-01T12:00:00Z", Commit: strings.Repeat("ab", 20)},
		Public:            &public,
		Verification:      &finding.Verification{Status: finding.StatusVerified, Account: account, ARN: "arn:aws:iam::111122223333:user/ci/deploy-bot"},
		Usage:             &finding.Usage{LastUsed: "2026-07-01T00:00:00Z", Service: "s3", Region: "ap-south-1"},
		UsedAfterExposure: finding.Yes(),
		CloudTrail: &finding.CloudTrail{From: "2026-06-01T12:00:00Z", To: "2026-07-02T00:00:00Z", Regions: []string{"ap-south-1"}, Events: 3,
			First: "2026-06-02T00:00:00Z", Last: "2026-07-01T00:00:00Z", EventNames: []finding.Count{{Name: "List\x1b]8;;http://evil\x07Buckets", Count: 3}},
			EventRegions: []string{"ap-south-1"}, SourceIPs: []string{"203.0.113.7"}, UserAgents: []string{"curl\x1b[2J"}, Unexpected: 3,
			UnexpectedRegions: []string{"ap-south-1"}},
		BlastRadius: &finding.BlastRadius{User: "deploy-bot", Groups: []string{"ops"}, Admin: true, Approximate: true,
			Allowed: []string{"iam:CreateUser"}, Policies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
		Remediation: &finding.Remediation{Action: finding.ActionDeactivated, Account: account, User: "deploy-bot",
			Steps: []string{finding.ActionQuarantined, finding.ActionDeactivated}, Policy: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
			Notified: []string{"webhook"}},
	}
	second := base
	second.Path, second.Line = "deploy/copy.env", 1
	return []finding.Finding{base, second}
}

func TestIncidentCard(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, incidentFindings(), Options{Format: "text"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Remediation: quarantined + deactivated, user deploy-bot in 111122223333; policy arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3; told webhook",
		"Incident:    live key of your account 111122223333, arn:aws:iam::111122223333:user/ci/deploy-bot; in a public repository: take it as compromised",
		"used:    USED AFTER IT LEAKED; IAM's last use 2026-07-01T00:00:00Z (s3, ap-south-1)",
		"events:  3 events in CloudTrail since 2026-06-01T12:00:00Z",
		"3 UNEXPECTED (ap-south-1)",
		"reach:   ADMIN: every action on every resource; user deploy-bot in ops (approximate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Incident:"); n != 1 {
		t.Errorf("%d incident cards for one key, want 1", n)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("a control character reached the text:\n%q", out)
	}
	if strings.Contains(out, "wJalrXUtnFEMI/K7MDENG") {
		t.Error("the secret is in the text")
	}
}

func TestIncidentSARIFProperties(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, incidentFindings()[:1], Options{Format: "sarif"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "wJalrXUtnFEMI/K7MDENG") {
		t.Error("the secret is in the SARIF log")
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	props := log.Runs[0].Results[0].Properties
	for key, want := range map[string]any{
		"usedAfterExposure": true, "admin": true, "cloudtrailEvents": 3.0, "cloudtrailUnexpected": 3.0, "public": true,
		"remediation": "deactivated", "blastRadiusApproximate": true, "exposedSince": "2026-06-01T12:00:00Z",
	} {
		if props[key] != want {
			t.Errorf("property %s = %v, want %v", key, props[key], want)
		}
	}
}
