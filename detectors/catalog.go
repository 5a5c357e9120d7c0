package detectors

import (
	"regexp"
	"strings"
)

// Catalog returns the built-in rules.
func Catalog() []Rule {
	rules := baseRules()
	for _, s := range tokenSpecs() {
		rules = append(rules, s.rule())
	}
	rules = append(rules, structuredRules()...)
	return append(rules, fileRules(rules)...)
}

func baseRules() []Rule {
	return []Rule{
		{
			ID:          AWSKeyIDRule,
			Description: "AWS access key id",
			Keywords:    []string{"AKIA", "ASIA", "ABIA", "ACCA", "A3T"},
			// The id must not touch other letters or digits; the IAM
			// unique-id prefixes (AIDA, AROA, ...) are not credentials.
			Regex:  regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?:[^A-Za-z0-9]|$)`),
			Before: 1, After: 21,
			Valid:    validAWSKeyID,
			prefixed: true,
		},
		{
			// Findings of the key id rule that have their secret: not a
			// rule that searches, but one the configuration names like
			// any other.
			ID:          AWSKeyRule,
			Description: awsPairDescription,
			Pairs:       AWSKeyIDRule,
		},
		{
			ID:          "private-key",
			Description: "Private key (PEM or OpenSSH)",
			Keywords:    []string{"PRIVATE KEY"},
			Regex:       regexp.MustCompile(`(?s)-----BEGIN(?: [A-Z0-9]+)* PRIVATE KEY(?: BLOCK)?-----.*?-----END(?: [A-Z0-9]+)* PRIVATE KEY(?: BLOCK)?-----`),
			Before:      40, After: 16500, Multiline: true,
			Valid:   validPrivateKey,
			Context: serviceAccountContext,
		},
		{
			ID:          "github-token",
			Description: "GitHub token (personal, OAuth, user-to-server, server-to-server or refresh)",
			Keywords:    []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(?P<secret>gh[pousr]_[A-Za-z0-9]{36})(?:[^A-Za-z0-9_]|$)`),
			Before:      1, After: 41,
			Valid:    randomTail(4, 3.0),
			prefixed: true,
		},
		{
			ID:          "github-fine-grained-token",
			Description: "GitHub fine-grained personal access token",
			Keywords:    []string{"github_pat_"},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?:[^A-Za-z0-9_]|$)`),
			Before:      1, After: 95,
			Valid:    randomTail(11, 3.5),
			prefixed: true,
		},
		{
			ID:          "slack-token",
			Description: "Slack token",
			Keywords:    []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-"},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9-])(?P<secret>xox[bparso]-[0-9]{6,}-[0-9A-Za-z-]{8,250})`),
			Before:      1, After: 260,
			Valid:    randomTail(5, 3.0),
			prefixed: true,
		},
		{
			ID:          "slack-webhook",
			Description: "Slack incoming webhook URL",
			Keywords:    []string{"hooks.slack.com"},
			Regex:       regexp.MustCompile(`(?P<secret>https?://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,}/[A-Z0-9]{6,}/[A-Za-z0-9]{20,})`),
			Before:      8, After: 160,
			Valid: randomTail(40, 3.0),
		},
		{
			ID:          "stripe-live-key",
			Description: "Stripe live secret or restricted key",
			Keywords:    []string{"sk_live_", "rk_live_"},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(?P<secret>[sr]k_live_[0-9A-Za-z]{20,247})(?:[^A-Za-z0-9_]|$)`),
			Before:      1, After: 260,
			Valid:    randomTail(8, 3.3),
			prefixed: true,
		},
		{
			ID:          "google-api-key",
			Description: "Google API key",
			Keywords:    []string{"AIza"},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^A-Za-z0-9_-]|$)`),
			Before:      1, After: 41,
			Valid:    randomTail(4, 3.5),
			prefixed: true,
		},
		{
			ID:          GenericRule,
			Description: "High-entropy value assigned to a password, secret, token or key",
			Keywords: []string{
				"pass", "pwd", "secret", "token", "api_key", "apikey", "api-key",
				"access_key", "accesskey", "auth_key", "authkey", "private_key", "privatekey",
				"credential",
			},
			Assignment: true,
			Valid:      validGeneric,
		},
	}
}

// randomTail accepts a token whose part after the fixed prefix of n bytes
// is random enough and is not a placeholder.
func randomTail(n int, minEntropy float64) func(Candidate) bool {
	return func(c Candidate) bool {
		if len(c.Secret) <= n {
			return false
		}
		tail := c.Secret[n:]
		return !isPlaceholder(tail) && shannon(tail) >= minEntropy
	}
}

// validPrivateKey keeps key blocks with a real body: at least 64 base64
// characters once line breaks (real or escaped as \n in JSON and code) and
// headers are removed, and not a "..." placeholder.
func validPrivateKey(c Candidate) bool {
	s := c.Secret
	body := s[strings.Index(s, "-----")+5:]
	if i := strings.Index(body, "-----"); i >= 0 {
		body = body[i+5:]
	}
	if i := strings.Index(body, "-----END"); i >= 0 {
		body = body[:i]
	}
	if strings.Contains(body, "...") || strings.Contains(strings.ToLower(body), "xxxx") {
		return false
	}
	n := 0
	for _, line := range strings.FieldsFunc(strings.ReplaceAll(body, `\n`, "\n"), func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.Contains(line, ":") {
			continue // Proc-Type:, DEK-Info: and other headers
		}
		for i := 0; i < len(line); i++ {
			if isBase64Byte(line[i]) {
				n++
			}
		}
	}
	return n >= 64
}

// serviceAccountContext reads, around a private key in a Google service
// account's JSON key file (at most 4 KiB either side), the account's
// email and the key's id, which verification needs.
func serviceAccountContext(c Candidate) map[string]string {
	lo, hi := max(0, c.Start-4096), min(len(c.Data), c.End+4096)
	around := c.Data[lo:hi]
	if !serviceAccountTypeRe.Match(around) {
		return nil
	}
	email := serviceAccountEmailRe.FindSubmatch(around)
	if email == nil {
		return nil
	}
	out := map[string]string{"client_email": string(email[1])}
	if id := serviceAccountKeyIDRe.FindSubmatch(around); id != nil {
		out["private_key_id"] = string(id[1])
	}
	return out
}

var (
	serviceAccountTypeRe  = regexp.MustCompile(`"type"\s*:\s*"service_account"`)
	serviceAccountEmailRe = regexp.MustCompile(`"client_email"\s*:\s*"([a-z][a-z0-9-]{4,61}[a-z0-9]@[a-z][a-z0-9-]{4,61}[a-z0-9]\.iam\.gserviceaccount\.com)"`)
	serviceAccountKeyIDRe = regexp.MustCompile(`"private_key_id"\s*:\s*"([a-f0-9]{40})"`)
)
