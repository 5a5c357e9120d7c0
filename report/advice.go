package report

import "github.com/keysweep/keysweep/finding"

// advice is what to do about a leaked secret of some rules: a step, and
// the page of the provider where it is done. The link is always one of
// this table, never built from what a finding holds.
type advice struct {
	rules []string
	do    string
}

// genericAdvice is the step for a rule the table does not name.
const genericAdvice = "rotate the credential where it was issued"

// adviceTable is the step for each family of rules.
func adviceTable() []advice {
	return []advice{
		{[]string{"aws-access-key", "aws-access-key-id"},
			"deactivate and rotate the key in IAM: https://console.aws.amazon.com/iam/home#/security_credentials"},
		{[]string{"github-token"},
			"revoke it at https://github.com/settings/tokens and create a new one"},
		{[]string{"github-fine-grained-token"},
			"revoke it at https://github.com/settings/personal-access-tokens and create a new one"},
		{[]string{"gitlab-pat"},
			"revoke it at https://gitlab.com/-/user_settings/personal_access_tokens (or your instance's, or the project's Settings > Access tokens) and create a new one"},
		{[]string{"gitlab-pipeline-trigger-token", "gitlab-runner-token", "gitlab-deploy-token", "gitlab-oauth-secret"},
			"revoke or reset it in GitLab (the project's or group's Settings > CI/CD, Repository or Applications) and create a new one"},
		{[]string{"slack-token", "slack-app-token"},
			"revoke it at https://api.slack.com/apps (the app's OAuth & Permissions or Basic Information) and issue a new one"},
		{[]string{"slack-webhook"},
			"remove the webhook at https://api.slack.com/apps (the app's Incoming Webhooks) and add a new one"},
		{[]string{"stripe-live-key"},
			"roll the key at https://dashboard.stripe.com/apikeys"},
		{[]string{"stripe-webhook-secret"},
			"roll the endpoint's signing secret at https://dashboard.stripe.com/webhooks"},
		{[]string{"google-api-key", "google-oauth-client-secret"},
			"regenerate it at https://console.cloud.google.com/apis/credentials and restrict the new one"},
		{[]string{"google-oauth-refresh-token", "google-oauth-access-token"},
			"revoke the app's access at https://myaccount.google.com/permissions and sign in again"},
		{[]string{"openai-api-key"},
			"revoke it at https://platform.openai.com/api-keys and create a new one"},
		{[]string{"anthropic-api-key"},
			"revoke it at https://console.anthropic.com/settings/keys and create a new one"},
		{[]string{"npm-token", "npmrc-auth"},
			"revoke it at https://www.npmjs.com (Access Tokens, or npm token revoke) or at the registry that issued it, and create a new one"},
		{[]string{"pypi-token", "pypirc-password"},
			"remove it at https://pypi.org/manage/account/ (API tokens) and create a new token"},
		{[]string{"sendgrid-api-key"},
			"delete it at https://app.sendgrid.com/settings/api_keys and create a new one"},
		{[]string{"twilio-api-key"},
			"delete the key at https://console.twilio.com (API keys & tokens) and create a new one"},
		{[]string{"digitalocean-token"},
			"delete it at https://cloud.digitalocean.com/account/api/tokens and create a new one"},
		{[]string{"heroku-api-key"},
			"revoke it at https://dashboard.heroku.com/account/applications (or heroku authorizations:revoke) and create a new one"},
		{[]string{"azure-storage-account-key"},
			"rotate the storage account's access keys at https://portal.azure.com (Security + networking > Access keys)"},
		{[]string{"azure-ad-client-secret"},
			"delete the secret at https://entra.microsoft.com (App registrations > Certificates & secrets) and add a new one"},
		{[]string{"huggingface-token"},
			"revoke it at https://huggingface.co/settings/tokens and create a new one"},
		{[]string{"private-key", "putty-private-key"},
			"remove it from the repository's history and replace the key pair"},
		{[]string{"age-secret-key"},
			"generate a new identity (age-keygen), re-encrypt what the old one opens, and remove it from the history"},
		{[]string{"telegram-bot-token"},
			"revoke it with @BotFather (/revoke) and use the new token"},
		{[]string{"discord-webhook", "teams-webhook"},
			"delete the webhook in the channel's settings and create a new one"},
		{[]string{"database-connection-string", "jdbc-connection-string", "uri-credentials", "netrc-password", "maven-settings-password"},
			"change the password of that account on the server, then remove it from the history"},
		{[]string{"jwt-signing-secret"},
			"replace the signing secret: every token it signed stays valid until then"},
		{[]string{"gpp-cpassword"},
			"change the account's password and delete the Group Policy Preference that holds it"},
	}
}

// gcpAdvice is the step for a private key of a Google service account
// (the rule read its client_email beside it).
const gcpAdvice = "delete the service account's key at https://console.cloud.google.com/iam-admin/serviceaccounts and create a new one"

// Advice says in one line what to do about f's secret, with a link to
// the provider's page for the big providers: revoke or rotate it there.
func Advice(f finding.Finding) string {
	if f.RuleID == "private-key" && f.Context["client_email"] != "" {
		return gcpAdvice
	}
	for _, a := range adviceTable() {
		for _, id := range a.rules {
			if id == f.RuleID {
				return a.do
			}
		}
	}
	return genericAdvice
}
