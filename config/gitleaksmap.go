package config

import (
	"slices"
	"strings"

	"github.com/keysweep/keysweep/detectors"
)

// gitleaksEquivalent names gitleaks default rules and the keysweep rules
// that find the same secrets.
type gitleaksEquivalent struct {
	gitleaks []string
	keysweep []string
}

// gitleaksEquivalents lists the gitleaks default rules whose secrets a
// keysweep built-in rule finds. Only obvious equivalents are listed: a
// gitleaks id that is not here stands for no keysweep rule but the one of
// the same id.
func gitleaksEquivalents() []gitleaksEquivalent {
	return []gitleaksEquivalent{
		{[]string{"aws-access-token"}, []string{detectors.AWSKeyIDRule, detectors.AWSKeyRule}},
		{[]string{"generic-api-key"}, []string{detectors.GenericRule}},
		{[]string{"github-pat", "github-oauth", "github-app-token", "github-refresh-token"}, []string{"github-token"}},
		{[]string{"github-fine-grained-pat"}, []string{"github-fine-grained-token"}},
		{[]string{"gitlab-ptt"}, []string{"gitlab-pipeline-trigger-token"}},
		{[]string{"gitlab-runner-authentication-token"}, []string{"gitlab-runner-token"}},
		{[]string{"slack-bot-token", "slack-user-token", "slack-legacy-token", "slack-legacy-bot-token", "slack-legacy-workspace-token", "slack-config-access-token", "slack-config-refresh-token"}, []string{"slack-token"}},
		{[]string{"slack-webhook-url"}, []string{"slack-webhook"}},
		{[]string{"stripe-access-token"}, []string{"stripe-live-key"}},
		{[]string{"gcp-api-key"}, []string{"google-api-key"}},
		{[]string{"anthropic-admin-api-key"}, []string{"anthropic-api-key"}},
		{[]string{"sendgrid-api-token"}, []string{"sendgrid-api-key"}},
		{[]string{"mailgun-private-api-token"}, []string{"mailgun-api-key"}},
		{[]string{"npm-access-token"}, []string{"npm-token"}},
		{[]string{"pypi-upload-token"}, []string{"pypi-token"}},
		{[]string{"rubygems-api-token"}, []string{"rubygems-api-key"}},
		{[]string{"heroku-api-key-v2"}, []string{"heroku-api-key"}},
		{[]string{"digitalocean-pat", "digitalocean-access-token", "digitalocean-refresh-token"}, []string{"digitalocean-token"}},
		{[]string{"databricks-api-token"}, []string{"databricks-token"}},
		{[]string{"doppler-api-token"}, []string{"doppler-token"}},
		{[]string{"hashicorp-tf-api-token"}, []string{"terraform-cloud-token"}},
		{[]string{"vault-service-token", "vault-batch-token"}, []string{"vault-token"}},
		{[]string{"pulumi-api-token"}, []string{"pulumi-token"}},
		{[]string{"grafana-cloud-api-token"}, []string{"grafana-cloud-token"}},
		{[]string{"shopify-access-token", "shopify-custom-access-token", "shopify-private-app-access-token", "shopify-shared-secret"}, []string{"shopify-token"}},
		{[]string{"square-access-token"}, []string{"square-token"}},
		{[]string{"adafruit-api-key"}, []string{"adafruit-io-key"}},
		{[]string{"dynatrace-api-token"}, []string{"dynatrace-token"}},
		{[]string{"flyio-access-token"}, []string{"flyio-token"}},
		{[]string{"huggingface-access-token", "huggingface-organization-api-token"}, []string{"huggingface-token"}},
		{[]string{"new-relic-user-api-key", "new-relic-insert-key"}, []string{"newrelic-api-key"}},
		{[]string{"planetscale-password", "planetscale-api-token", "planetscale-oauth-token"}, []string{"planetscale-token"}},
		{[]string{"postman-api-token"}, []string{"postman-api-key"}},
		{[]string{"prefect-api-token"}, []string{"prefect-api-key"}},
		{[]string{"readme-api-token"}, []string{"readme-api-key"}},
		{[]string{"sendinblue-api-token"}, []string{"brevo-api-key"}},
		{[]string{"sourcegraph-access-token"}, []string{"sourcegraph-token"}},
		{[]string{"telegram-bot-api-token"}, []string{"telegram-bot-token"}},
		{[]string{"typeform-api-token"}, []string{"typeform-token"}},
		{[]string{"frameio-api-token"}, []string{"frameio-token"}},
		{[]string{"clojars-api-token"}, []string{"clojars-token"}},
		{[]string{"microsoft-teams-webhook"}, []string{"teams-webhook"}},
		{[]string{"duffel-api-token"}, []string{"duffel-token"}},
		{[]string{"easypost-api-token"}, []string{"easypost-api-key"}},
		{[]string{"1password-service-account-token"}, []string{"onepassword-service-account-token"}},
		{[]string{"infracost-api-token"}, []string{"infracost-api-key"}},
		{[]string{"sonar-api-token"}, []string{"sonarqube-token"}},
	}
}

// gitleaksMapped returns the keysweep rules listed as the equivalents of
// gitleaks rule id, nil when there are none.
func gitleaksMapped(id string) []string {
	for _, e := range gitleaksEquivalents() {
		if slices.Contains(e.gitleaks, id) {
			return e.keysweep
		}
	}
	return nil
}

// GitleaksRuleIDs returns the keysweep rules that a gitleaks rule id
// stands for: its listed equivalents in keysweep's catalog, the rule of
// the same id (a built-in rule such as private-key or jwt, or a rule
// `config import` brought over), and the name `config import` gives a
// rule whose id a built-in rule has.
func GitleaksRuleIDs(id string) []string {
	norm := normalizeRuleID(id)
	out := append([]string(nil), gitleaksMapped(id)...)
	for _, r := range []string{norm, importedName(norm)} {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// normalizeRuleID makes a gitleaks rule id a keysweep one: lower-case
// letters, digits and dashes, 2 to 63 of them, starting with a letter or
// digit.
func normalizeRuleID(id string) string {
	b := []byte(strings.ToLower(id))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	s := strings.TrimLeft(string(b), "-")
	if len(s) < 2 {
		s = "gitleaks-" + s
	}
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

// importedName is the id `config import` gives a gitleaks rule whose id
// a keysweep built-in rule has.
func importedName(id string) string {
	s := id + "-gitleaks"
	if len(s) > 63 {
		s = id[:63-len("-gitleaks")] + "-gitleaks"
	}
	return s
}

// builtinIDs returns the ids of keysweep's built-in rules.
func builtinIDs() map[string]bool {
	out := map[string]bool{}
	for _, r := range detectors.Catalog() {
		out[r.ID] = true
	}
	return out
}
