package detectors

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"regexp"
	"regexp/syntax"
	"strings"
)

// tokenSpec describes a token with a fixed, vendor-chosen prefix: the most
// reliable kind of secret to find, since the prefix exists to be found.
type tokenSpec struct {
	id, desc string
	prefixes []string
	// charset is the body's character class content (`A-Za-z0-9_-`),
	// min and max its length.
	charset  string
	min, max int
	// entropy is the least Shannon entropy of the body.
	entropy float64
}

// boundary is what may not touch a token on either side.
const boundary = `A-Za-z0-9_`

func (s tokenSpec) rule() Rule {
	quoted := make([]string, len(s.prefixes))
	for i, p := range s.prefixes {
		quoted[i] = regexp.QuoteMeta(p)
	}
	count := `{` + itoa(s.min) + `}`
	if s.max > s.min {
		count = `{` + itoa(s.min) + `,` + itoa(s.max) + `}`
	}
	longest := 0
	for _, p := range s.prefixes {
		longest = max(longest, len(p))
	}
	trail := `[^` + boundary + s.charsetExtra() + `]`
	return Rule{
		ID:          s.id,
		Description: s.desc,
		Keywords:    s.prefixes,
		Regex: regexp.MustCompile(`(?:^|[^` + boundary + `])(?P<secret>(?:` + strings.Join(quoted, "|") + `)[` + s.charset + `]` + count +
			`)(?:` + trail + `|$)`),
		Before: 1, After: longest + s.max + 1,
		prefixed: true,
		token: &tokenShape{
			prefixes: s.prefixes,
			lead:     charClass(`[^` + boundary + `]`),
			body:     charClass(`[` + s.charset + `]`),
			trail:    charClass(trail),
			min:      s.min, max: s.max,
		},
		Valid: func(c Candidate) bool {
			body := c.Secret
			for _, p := range s.prefixes {
				if strings.HasPrefix(body, p) {
					body = body[len(p):]
					break
				}
			}
			return !isPlaceholder(body) && shannon(body) >= s.entropy
		},
	}
}

// tokenShape is a prefixed token's regex,
// `(?:^|[^B])(?P<secret>(?:P1|P2|…)[C]{min,max})(?:[^T]|$)`, taken apart:
// the engine matches it at each keyword hit without a regex, reading each
// run of body bytes once however many hits fall in it (a run of `+ops_eyJ`
// holds a hit every eight bytes, and each would read a thousand).
type tokenShape struct {
	prefixes []string
	// lead may precede the token, body make it up after its prefix,
	// trail may follow it (body bytes never do).
	lead, body, trail *[256]bool
	min, max          int
}

// tokenRun is the run of body bytes a rule's matching read last:
// data[from:to] are body bytes and, when ended, data[to] is not.
type tokenRun struct {
	from, to int
	ended    bool
	read     int // bytes read, for scanState.steps
}

// length returns how many body bytes follow q, up to limit, reading on
// from where the last call stopped when q is in the run it read.
func (r *tokenRun) length(data []byte, q int, body *[256]bool, limit int) int {
	if q < r.from || q > r.to {
		r.from, r.to, r.ended = q, q, false
	}
	for !r.ended && r.to-q < limit {
		if r.to == len(data) || !body[data[r.to]] {
			r.ended = true
			break
		}
		r.to++
		r.read++
	}
	return min(r.to-q, limit)
}

// match matches the token at a keyword hit at pos, as the rule's regex
// does in the hit's window, and returns where its secret ends and where
// the match does (past the byte after the token).
func (t *tokenShape) match(data []byte, pos int, run *tokenRun) (secretEnd, matchEnd int, ok bool) {
	// The regex's ^ is the start of its window: of the data or the line.
	if pos > 0 && data[pos-1] != '\n' && !t.lead[data[pos-1]] {
		return 0, 0, false
	}
	for _, p := range t.prefixes {
		if !hasPrefixAt(data, pos, p) {
			continue
		}
		q := pos + len(p)
		// The body is all of the run: a shorter one is followed by a body
		// byte, which may not follow the token.
		n := run.length(data, q, t.body, t.max+1)
		if n < t.min || n > t.max {
			continue
		}
		switch e := q + n; {
		case e == len(data):
			return e, e, true
		case t.trail[data[e]]:
			return e, e + 1, true
		}
	}
	return 0, 0, false
}

// charClass returns the bytes of a regex character class (see classBytes).
func charClass(class string) *[256]bool {
	re, err := syntax.Parse(class, syntax.Perl)
	if err != nil || re.Op != syntax.OpCharClass {
		panic("detectors: not a character class: " + class)
	}
	return classBytes(re)
}

// charsetExtra is what the body may hold beyond the boundary's letters,
// digits and underscore, so that a longer run is not cut into a match.
func (s tokenSpec) charsetExtra() string {
	var extra string
	for _, c := range []string{`\-`, `.`, `+`, `/`, `=`, `~`} {
		if strings.Contains(s.charset, c) || c == `\-` && strings.HasSuffix(s.charset, "-") {
			extra += c
		}
	}
	return extra
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// notPlaceholder drops tokens that are documentation placeholders (see
// isPlaceholder).
func notPlaceholder(c Candidate) bool { return !isPlaceholder(c.Secret) }

// tokenSpecs are the prefixed tokens of the catalog.
func tokenSpecs() []tokenSpec {
	const (
		alnum   = `A-Za-z0-9`
		url     = `A-Za-z0-9_\-`
		hex     = `a-f0-9`
		b64     = `A-Za-z0-9+/=`
		lowalnm = `a-z0-9`
	)
	return []tokenSpec{
		// Source hosts and CI/CD.
		{"gitlab-pat", "GitLab personal, project or group access token", []string{"glpat-"}, url, 20, 64, 3.0},
		{"gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", []string{"glptt-"}, hex, 40, 40, 3.0},
		{"gitlab-runner-token", "GitLab runner authentication token", []string{"glrt-"}, url, 20, 64, 3.0},
		{"gitlab-deploy-token", "GitLab deploy token", []string{"gldt-"}, url, 20, 64, 3.0},
		{"gitlab-oauth-secret", "GitLab OAuth application secret", []string{"gloas-"}, url, 64, 64, 3.5},
		{"bitbucket-app-password", "Bitbucket app password", []string{"ATBB"}, alnum, 32, 40, 3.5},
		{"atlassian-api-token", "Atlassian API token", []string{"ATATT3"}, `A-Za-z0-9_=\-`, 180, 200, 4.0},
		{"circleci-token", "CircleCI personal API token", []string{"CCIPAT_"}, url, 60, 66, 3.5},
		{"buildkite-token", "Buildkite agent or API token", []string{"bkua_"}, hex, 40, 40, 3.0},
		{"sonarqube-token", "SonarQube token", []string{"squ_", "sqp_", "sqa_"}, hex, 40, 40, 3.0},
		{"jfrog-api-key", "JFrog Artifactory API key", []string{"AKCp"}, alnum, 69, 69, 4.0},
		{"terraform-cloud-token", "Terraform Cloud / HCP Terraform API token", []string{"atlasv1."}, `A-Za-z0-9_=\-`, 60, 70, 4.0},
		{"pulumi-token", "Pulumi access token", []string{"pul-"}, hex, 40, 40, 3.0},
		{"doppler-token", "Doppler token", []string{"dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."}, alnum, 40, 44, 3.5},
		{"vault-token", "HashiCorp Vault service or batch token", []string{"hvs.", "hvb."}, url, 24, 300, 3.5},
		{"octopus-deploy-api-key", "Octopus Deploy API key", []string{"API-"}, `A-Z0-9`, 26, 32, 3.5},

		// Cloud and infrastructure.
		{"digitalocean-token", "DigitalOcean token", []string{"dop_v1_", "doo_v1_", "dor_v1_"}, hex, 64, 64, 3.0},
		{"databricks-token", "Databricks access token", []string{"dapi"}, hex, 32, 32, 3.0},
		{"alibaba-access-key-id", "Alibaba Cloud AccessKey id", []string{"LTAI"}, alnum, 12, 20, 3.0},
		{"heroku-api-key", "Heroku API key", []string{"HRKU-"}, url, 56, 64, 3.5},
		{"flyio-token", "Fly.io access token", []string{"fo1_"}, url, 43, 43, 3.5},
		{"supabase-token", "Supabase access token", []string{"sbp_"}, hex, 40, 40, 3.0},
		{"planetscale-token", "PlanetScale token or password", []string{"pscale_tkn_", "pscale_pw_", "pscale_oauth_"}, `A-Za-z0-9_.\-`, 32, 64, 3.5},
		{"google-oauth-client-secret", "Google OAuth client secret", []string{"GOCSPX-"}, url, 28, 28, 3.5},
		{"google-oauth-refresh-token", "Google OAuth refresh token", []string{"1//0"}, url, 40, 300, 3.5},
		{"google-oauth-access-token", "Google OAuth access token", []string{"ya29."}, url, 50, 1000, 3.5},
		{"tailscale-key", "Tailscale API or auth key", []string{"tskey-api-", "tskey-auth-", "tskey-client-", "tskey-scim-", "tskey-webhook-"}, url, 30, 80, 3.5},
		{"infracost-api-key", "Infracost API key", []string{"ico-"}, alnum, 32, 32, 3.5},
		{"dynatrace-token", "Dynatrace API token", []string{"dt0c01."}, `A-Z0-9.`, 89, 89, 3.5},
		{"newrelic-api-key", "New Relic user or insert key", []string{"NRAK-", "NRII-"}, url, 27, 32, 3.5},
		{"sentry-org-token", "Sentry organization auth token", []string{"sntrys_"}, `A-Za-z0-9+/=_`, 60, 300, 4.0},
		{"sentry-user-token", "Sentry user auth token", []string{"sntryu_"}, hex, 64, 64, 3.0},
		{"grafana-cloud-token", "Grafana Cloud access policy token", []string{"glc_"}, b64, 32, 400, 4.0},
		{"onepassword-service-account-token", "1Password service account token", []string{"ops_eyJ"}, b64, 250, 1000, 4.0},

		// AI services.
		{"anthropic-api-key", "Anthropic API key", []string{"sk-ant-api03-", "sk-ant-admin01-"}, url, 93, 95, 4.0},
		{"huggingface-token", "Hugging Face access token", []string{"hf_"}, `A-Za-z`, 34, 34, 3.5},
		{"groq-api-key", "Groq API key", []string{"gsk_"}, alnum, 52, 52, 4.0},
		{"replicate-api-token", "Replicate API token", []string{"r8_"}, alnum, 37, 37, 3.5},
		{"perplexity-api-key", "Perplexity API key", []string{"pplx-"}, alnum, 48, 48, 4.0},

		// Chat, email and SMS.
		{"brevo-api-key", "Brevo (Sendinblue) API key", []string{"xkeysib-"}, url, 81, 81, 3.5},
		{"linear-api-key", "Linear API key", []string{"lin_api_"}, alnum, 40, 40, 3.5},
		{"notion-token", "Notion integration token", []string{"ntn_"}, alnum, 46, 46, 3.5},

		// Payment and commerce.
		{"stripe-webhook-secret", "Stripe webhook signing secret", []string{"whsec_"}, b64, 32, 64, 3.5},
		{"square-token", "Square access token or application secret", []string{"sq0atp-", "sq0csp-"}, url, 22, 43, 3.5},
		{"shopify-token", "Shopify access token or shared secret", []string{"shpat_", "shpss_", "shpca_", "shppa_"}, `a-fA-F0-9`, 32, 32, 3.0},
		{"easypost-api-key", "EasyPost production API key", []string{"EZAK"}, `a-zA-Z0-9`, 54, 54, 3.5},
		{"duffel-token", "Duffel live access token", []string{"duffel_live_"}, url, 43, 43, 3.5},

		// Package registries.
		{"npm-token", "npm access token", []string{"npm_"}, alnum, 36, 36, 3.5},
		{"pypi-token", "PyPI upload token", []string{"pypi-AgEIcHlwaS5vcmc"}, url, 50, 300, 3.5},
		{"rubygems-api-key", "RubyGems API key", []string{"rubygems_"}, hex, 48, 48, 3.0},
		{"nuget-api-key", "NuGet API key", []string{"oy2"}, lowalnm, 43, 43, 3.5},
		{"dockerhub-pat", "Docker Hub personal access token", []string{"dckr_pat_"}, url, 27, 27, 3.5},
		{"clojars-token", "Clojars deploy token", []string{"CLOJARS_"}, lowalnm, 60, 60, 3.5},

		// Other services.
		{"postman-api-key", "Postman API key", []string{"PMAK-"}, `a-f0-9\-`, 59, 59, 3.0},
		{"contentful-token", "Contentful personal access token", []string{"CFPAT-"}, url, 43, 43, 3.5},
		{"figma-token", "Figma personal access token", []string{"figd_"}, url, 40, 40, 3.5},
		{"prefect-api-key", "Prefect API key", []string{"pnu_"}, alnum, 36, 36, 3.5},
		{"readme-api-key", "ReadMe API key", []string{"rdme_"}, lowalnm, 70, 70, 3.5},
		{"typeform-token", "Typeform personal access token", []string{"tfp_"}, `A-Za-z0-9_\-.`, 59, 59, 3.5},
		{"adafruit-io-key", "Adafruit IO key", []string{"aio_"}, alnum, 28, 28, 3.5},
		{"age-secret-key", "age encryption secret key", []string{"AGE-SECRET-KEY-1"}, `QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L`, 58, 58, 3.5},
		{"frameio-token", "Frame.io API token", []string{"fio-u-"}, `A-Za-z0-9_=\-`, 64, 64, 3.5},
	}
}

// structuredRules are secrets whose shape needs more than a prefix and a
// body: several parts, a context word, or a URL.
func structuredRules() []Rule {
	return []Rule{
		{
			ID: "openai-api-key", Description: "OpenAI API key",
			Keywords: []string{"T3BlbkFJ"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,160}T3BlbkFJ[A-Za-z0-9_-]{20,160})(?:[^A-Za-z0-9_-]|$)`),
			Before:   200, After: 200, MinEntropy: 4.0, Valid: notPlaceholder,
		},
		{
			ID: "azure-storage-account-key", Description: "Azure Storage account key (in a connection string)",
			Keywords: []string{"AccountKey="},
			Regex:    regexp.MustCompile(`AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)`),
			Before:   0, After: 100, MinEntropy: 4.5, Valid: notPlaceholder,
			Context:  azureContext,
			prefixed: true,
		},
		{
			ID: "azure-ad-client-secret", Description: "Microsoft Entra ID (Azure AD) client secret",
			Keywords: []string{"0Q~", "1Q~", "2Q~", "3Q~", "4Q~", "5Q~", "6Q~", "7Q~", "8Q~", "9Q~"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_~.-])(?P<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)`),
			Before:   5, After: 40, MinEntropy: 4.0, Valid: notPlaceholder,
		},
		{
			ID: "cloudflare-origin-ca-key", Description: "Cloudflare Origin CA key",
			Keywords: []string{"v1.0-"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(?P<secret>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})(?:[^A-Za-z0-9_-]|$)`),
			Before:   1, After: 180, MinEntropy: 3.0,
			prefixed: true,
		},
		{
			ID: "slack-app-token", Description: "Slack app-level token",
			Keywords: []string{"xapp-"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(?P<secret>xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,16}-[a-f0-9]{64})(?:[^A-Za-z0-9_-]|$)`),
			Before:   1, After: 110, MinEntropy: 3.0,
			prefixed: true,
		},
		{
			ID: "discord-webhook", Description: "Discord webhook URL",
			Keywords: []string{"discord.com/api/webhooks/", "discordapp.com/api/webhooks/"},
			Regex:    regexp.MustCompile(`(?P<secret>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})`),
			Before:   20, After: 160, MinEntropy: 4.0, Valid: notPlaceholder,
		},
		{
			ID: "telegram-bot-token", Description: "Telegram bot token",
			Keywords: []string{":AA"},
			Regex:    regexp.MustCompile(`(?:^|[^0-9A-Za-z_:])(?P<secret>[0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)`),
			Before:   11, After: 37, MinEntropy: 3.5, Valid: notPlaceholder,
		},
		{
			ID: "teams-webhook", Description: "Microsoft Teams incoming webhook URL",
			Keywords: []string{".webhook.office.com/webhookb2/"},
			Regex:    regexp.MustCompile(`(?P<secret>https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36}(?:/[A-Za-z0-9_-]+)?)`),
			Before:   60, After: 260, MinEntropy: 3.0,
		},
		{
			ID: "sendgrid-api-key", Description: "SendGrid API key",
			Keywords: []string{"SG."},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)`),
			Before:   1, After: 70, MinEntropy: 4.0, Valid: notPlaceholder,
			prefixed: true,
		},
		{
			ID: "mailchimp-api-key", Description: "Mailchimp API key",
			Keywords: []string{"-us"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})(?:[^A-Za-z0-9]|$)`),
			Before:   33, After: 6, MinEntropy: 3.0,
		},
		{
			ID: "twilio-api-key", Description: "Twilio API key (SK...) near the word Twilio",
			Keywords: []string{"twilio"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?P<secret>SK[0-9a-f]{32})(?:[^A-Za-z0-9]|$)`),
			Before:   300, After: 300, Multiline: true, MinEntropy: 3.0,
		},
		{
			ID: "mailgun-api-key", Description: "Mailgun API key near the word Mailgun",
			Keywords: []string{"mailgun"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?P<secret>key-[0-9a-f]{32})(?:[^A-Za-z0-9]|$)`),
			Before:   300, After: 300, Multiline: true, MinEntropy: 3.0,
		},
		{
			ID: "braintree-access-token", Description: "Braintree / PayPal production access token",
			Keywords: []string{"access_token$production$"},
			Regex:    regexp.MustCompile(`(?P<secret>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})`),
			Before:   0, After: 80, MinEntropy: 3.0,
			prefixed: true,
		},
		{
			ID: "flutterwave-secret-key", Description: "Flutterwave secret key",
			Keywords: []string{"FLWSECK-"},
			Regex:    regexp.MustCompile(`(?P<secret>FLWSECK-[a-f0-9]{32}-X)`),
			Before:   0, After: 45, MinEntropy: 3.0,
			prefixed: true,
		},
		{
			ID: "grafana-service-account-token", Description: "Grafana service account token",
			Keywords: []string{"glsa_"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(?P<secret>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?:[^A-Za-z0-9_]|$)`),
			Before:   1, After: 48, MinEntropy: 3.5, Valid: notPlaceholder,
			prefixed: true,
		},
		{
			ID: "mapbox-secret-token", Description: "Mapbox secret access token",
			Keywords: []string{"sk.eyJ"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_.-])(?P<secret>sk\.eyJ[A-Za-z0-9_-]{50,300}\.[A-Za-z0-9_-]{20,60})(?:[^A-Za-z0-9_-]|$)`),
			Before:   1, After: 380, MinEntropy: 4.0, Valid: notPlaceholder,
			prefixed: true,
		},
		{
			ID: "jwt", Description: "JSON Web Token (signed)",
			Keywords: []string{"eyJ"},
			Regex:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_.-])(?P<secret>eyJ[A-Za-z0-9_-]{10,1000}\.eyJ[A-Za-z0-9_-]{10,1000}\.[A-Za-z0-9_-]{20,1000})(?:[^A-Za-z0-9_.-]|$)`),
			Before:   1, After: 3100, Valid: validJWT,
			prefixed: true,
		},
		{
			ID: "putty-private-key", Description: "PuTTY private key",
			Keywords: []string{"PuTTY-User-Key-File-"},
			Regex:    regexp.MustCompile(`(?s)(?P<secret>PuTTY-User-Key-File-[23]: [^\n]+\n.*?Private-Lines: [0-9]+\r?\n(?:[A-Za-z0-9+/=]+\r?\n)+)`),
			Before:   0, After: 8000, Multiline: true,
		},
		{
			ID: "database-connection-string", Description: "Database or broker connection string with a password",
			Keywords: []string{"postgres://", "postgresql://", "mysql://", "mariadb://", "mongodb://", "mongodb+srv://", "redis://", "rediss://",
				"amqp://", "amqps://", "mssql://", "sqlserver://", "clickhouse://", "cockroachdb://"},
			Regex: regexp.MustCompile(`(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|cockroachdb)://` +
				`(?P<user>[^:@/\s'"` + "`" + `<>]*):(?P<secret>[^@/\s'"` + "`" + `<>]{1,128})@(?P<host>[^\s/'"` + "`" + `?:,<>]+)`),
			Before: 0, After: 300, Needs: "@", Valid: validURLPassword,
			prefixed: true,
		},
		{
			ID: "uri-credentials", Description: "Password in a URL",
			Keywords: []string{"http://", "https://", "ftp://", "ftps://", "sftp://", "smtp://", "smtps://", "ldap://", "ldaps://"},
			Regex: regexp.MustCompile(`(?:https?|ftps?|sftp|smtps?|ldaps?)://` +
				`(?P<user>[A-Za-z0-9._%+~-]{1,64}):(?P<secret>[^@/\s'"` + "`" + `<>:]{1,128})@(?P<host>[A-Za-z0-9.-]+)`),
			Before: 0, After: 300, Needs: "@", Valid: validURLPassword,
			prefixed: true,
		},
		{
			ID: "jdbc-connection-string", Description: "JDBC connection string with a password",
			Keywords: []string{"jdbc:"},
			Regex:    regexp.MustCompile(`jdbc:[a-z0-9]+:[^\s'"` + "`" + `]*?[;?&][Pp]assword=(?P<secret>[^;&\s'"` + "`" + `<>]{1,128})`),
			Before:   0, After: 400, Needs: "assword=", Valid: validURLPassword,
		},
		{
			ID: "jwt-signing-secret", Description: "JWT signing secret assigned in code or config",
			Keywords:   []string{"jwt"},
			Assignment: true,
			Valid:      validJWTSecret,
		},
	}
}

// weakPasswords are the defaults of examples and local set-ups.
var weakPasswords = map[string]bool{
	"password": true, "pass": true, "passwd": true, "secret": true, "changeme": true, "admin": true, "root": true,
	"postgres": true, "mysql": true, "redis": true, "guest": true, "test": true, "example": true, "pwd": true,
	"user": true, "username": true, "foo": true, "bar": true, "foobar": true, "123456": true, "12345678": true,
	"default": true, "demo": true, "sample": true, "dev": true, "local": true, "qwerty": true, "letmein": true,
	"mypassword": true, "yourpassword": true, "hunter2": true, "p@ssw0rd": true, "passw0rd": true, "s3cr3t": true,
}

// placeholderRe matches upper-case words as used for placeholders.
var placeholderRe = regexp.MustCompile(`^[A-Z]+(?:[-_][A-Z]+)*$`)

// validURLPassword keeps the password of a URL unless it is a
// placeholder, a reference, a default, or the password of a local
// service in an example.
func validURLPassword(c Candidate) bool {
	pw := c.Secret
	lpw := strings.ToLower(pw)
	if weakPasswords[lpw] || len(pw) < 4 || strings.ContainsAny(pw, "$%{}<>*") && !strings.Contains(pw, "%40") {
		return false
	}
	for _, w := range []string{"xxx", "password", "passwd", "secret", "changeme", "example", "placeholder", "your", "redacted", "***"} {
		if strings.Contains(lpw, w) {
			return false
		}
	}
	if isExamplePassword(pw) || wordy(pw) || placeholderRe.MatchString(pw) {
		return false // MACHINE-PASS, personal-access-token, P@ssw0rd
	}
	user, host := urlParts(c)
	if strings.EqualFold(user, pw) {
		return false
	}
	lh := strings.ToLower(host)
	local := lh == "localhost" || strings.HasSuffix(lh, ".local") || strings.HasSuffix(lh, ".localhost") ||
		strings.HasSuffix(lh, ".example") || strings.Contains(lh, "example.") || strings.HasSuffix(lh, ".test") || strings.HasSuffix(lh, ".invalid")
	if ip := net.ParseIP(lh); ip != nil && (ip.IsLoopback() || ip.IsUnspecified() || ip.IsPrivate()) {
		local = true
	}
	if local && shannon(pw) < 3.5 {
		return false
	}
	return shannon(pw) >= 2.5 || len(pw) >= 12
}

// urlParts returns the user and host around the password of a URL match.
func urlParts(c Candidate) (user, host string) {
	d := c.Data
	i := c.Start - 1 // the ':' before the password
	us := i
	for us > 0 && d[us-1] != '/' && d[us-1] != ' ' {
		us--
	}
	if i > us {
		user = string(d[us:i])
	}
	hs := c.End + 1 // after '@'
	he := hs
	for he < len(d) && (d[he] >= 'a' && d[he] <= 'z' || d[he] >= 'A' && d[he] <= 'Z' || d[he] >= '0' && d[he] <= '9' || d[he] == '.' || d[he] == '-') {
		he++
	}
	if hs <= len(d) {
		host = string(d[hs:he])
	}
	return user, host
}

// validJWT keeps a token whose header is JSON naming a signing algorithm
// (not "none") and whose payload is JSON: a real signed token.
func validJWT(c Candidate) bool {
	parts := strings.Split(c.Secret, ".")
	if len(parts) != 3 {
		return false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	h, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil || json.Unmarshal(h, &header) != nil || header.Alg == "" || strings.EqualFold(header.Alg, "none") {
		return false
	}
	p, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	var payload map[string]any
	if err != nil || json.Unmarshal(p, &payload) != nil {
		return false
	}
	if payload["sub"] == "1234567890" {
		return false // the example token of jwt.io and countless tutorials
	}
	return shannon(parts[2]) >= 3.5
}

// validJWTSecret keeps a value assigned to a name that says it signs JWTs
// (JWT_SECRET, jwtSigningKey, jwt.secret), judged like the generic rule's
// values.
func validJWTSecret(c Candidate) bool {
	name := strings.ToLower(c.Name)
	if !strings.Contains(name, "secret") && !strings.Contains(name, "key") && !strings.Contains(name, "sign") {
		return false
	}
	if strings.Contains(name, "public") || strings.Contains(name, "expir") || strings.Contains(name, "algorithm") || strings.Contains(name, "header") {
		return false
	}
	return validGeneric(c)
}

// azureContext reads, from the connection string around an Azure storage
// key (on its line, at most 512 bytes either side), the account's name and
// endpoint suffix, which verification needs.
func azureContext(c Candidate) map[string]string {
	lo, hi := max(0, c.Start-512), min(len(c.Data), c.End+512)
	if i := bytes.LastIndexByte(c.Data[lo:c.Start], '\n'); i >= 0 {
		lo += i + 1
	}
	if i := bytes.IndexByte(c.Data[c.End:hi], '\n'); i >= 0 {
		hi = c.End + i
	}
	out := map[string]string{}
	for _, part := range strings.FieldsFunc(string(c.Data[lo:hi]), func(r rune) bool { return r == ';' || r == '"' || r == '\'' || r == ' ' }) {
		k, v, ok := strings.Cut(part, "=")
		switch {
		case !ok:
		case k == "AccountName" && azureAccountRe.MatchString(v):
			out["account"] = v
		case k == "EndpointSuffix" && azureSuffixRe.MatchString(v):
			out["endpoint_suffix"] = v
		}
	}
	if out["account"] == "" {
		return nil
	}
	return out
}

var (
	azureAccountRe = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	azureSuffixRe  = regexp.MustCompile(`^core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$`)
)
