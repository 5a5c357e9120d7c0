package detectors

import (
	"encoding/base64"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// expandClass turns a regexp character class body (`A-Za-z0-9_\-`) into
// its characters.
func expandClass(class string) []byte {
	var out []byte
	for i := 0; i < len(class); i++ {
		c := class[i]
		if c == '\\' && i+1 < len(class) {
			out = append(out, class[i+1])
			i++
			continue
		}
		if i+2 < len(class) && class[i+1] == '-' {
			for x := c; x <= class[i+2]; x++ {
				out = append(out, x)
			}
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

// fake returns n random characters of class, the same for the same seed:
// credentials for tests, made at run time so that no file holds one.
func fake(seed, class string, n int) string {
	h := fnv.New64a()
	h.Write([]byte(seed))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(n)))
	chars := expandClass(class)
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

// sample is a true or false positive of one rule.
type sample struct {
	rule   string
	data   string
	secret string // "" for a false positive
}

// tokenSamples makes, for every prefixed token rule, true positives in the
// shapes secrets are written in, and false positives: placeholders,
// low-entropy fillers, too-short bodies, and tokens glued to a longer word.
func tokenSamples() []sample {
	var out []sample
	for _, s := range tokenSpecs() {
		for i, p := range s.prefixes {
			n := (s.min + s.max) / 2
			tok := p + fake(s.id+p, s.charset, n)
			switch i % 3 {
			case 0:
				out = append(out, sample{s.id, "export " + strings.ToUpper(strings.ReplaceAll(s.id, "-", "_")) + "=" + tok + "\n", tok})
			case 1:
				out = append(out, sample{s.id, "auth:\n  token: \"" + tok + "\"\n", tok})
			default:
				out = append(out, sample{s.id, `{"credentials": {"value": "` + tok + `"}}`, tok})
			}
			filler := strings.Repeat(string(expandClass(s.charset)[0]), n)
			out = append(out,
				sample{s.id, "token = " + p + strings.Repeat("x", n) + "\n", ""},
				sample{s.id, "token = " + p + filler + "\n", ""},
				sample{s.id, "token = " + p + fake(s.id, s.charset, s.min-1) + "\n", ""},
				sample{s.id, "token = abc" + tok + "\n", ""},
				// Placeholders that fillers and entropy miss (isPlaceholder).
				sample{s.id, "token = " + p + inOrder(s.charset, n) + "\n", ""},
			)
			if w := markerIn(s.charset); w != "" {
				out = append(out, sample{s.id, "token = " + p + fake(s.id+"placeholder", s.charset, n-len(w)) + w + "\n", ""})
			}
		}
	}
	return out
}

// inOrder returns n characters of class in byte order, over and over:
// 0123…ABC…abc…, a placeholder of high entropy.
func inOrder(class string, n int) string {
	chars := expandClass(class)
	slices.Sort(chars)
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[i%len(chars)]
	}
	return string(b)
}

// markerIn returns EXAMPLE, or example, when class holds its letters: a
// marker word of placeholders (see markerWords).
func markerIn(class string) string {
	chars := string(expandClass(class))
	for _, w := range []string{"EXAMPLE", "example"} {
		if !strings.ContainsFunc(w, func(r rune) bool { return !strings.ContainsRune(chars, r) }) {
			return w
		}
	}
	return ""
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// structuredSamples are the samples of rules that are not plain prefixed
// tokens.
func structuredSamples() []sample {
	const url, hex, alnum = `A-Za-z0-9_\-`, `a-f0-9`, `A-Za-z0-9`
	openai := "sk-proj-" + fake("openai1", url, 40) + "T3BlbkFJ" + fake("openai2", url, 40)
	azure := fake("azure", `A-Za-z0-9+/`, 86) + "=="
	entra := fake("entra1", alnum, 3) + "8Q~" + fake("entra2", `A-Za-z0-9_~.\-`, 34)
	origin := "v1.0-" + fake("cf1", hex, 24) + "-" + fake("cf2", hex, 146)
	xapp := "xapp-1-A0" + fake("xapp1", `A-Z0-9`, 9) + "-" + fake("xapp2", `0-9`, 13) + "-" + fake("xapp3", hex, 64)
	discord := "https://discord.com/api/webhooks/" + fake("dw1", `0-9`, 18) + "/" + fake("dw2", url, 68)
	telegram := "5" + fake("tg1", `0-9`, 9) + ":AA" + fake("tg2", url, 33)
	teams := "https://contoso.webhook.office.com/webhookb2/" + fake("t1", hex, 8) + "-1111-2222-3333-" + fake("t2", hex, 12) + "@" +
		fake("t3", hex, 8) + "-4444-5555-6666-" + fake("t4", hex, 12) + "/IncomingWebhook/" + fake("t5", hex, 32) + "/" +
		fake("t6", hex, 8) + "-7777-8888-9999-" + fake("t7", hex, 12)
	sendgrid := "SG." + fake("sg1", url, 22) + "." + fake("sg2", url, 43)
	mailchimp := fake("mc", hex, 32) + "-us21"
	twilio := "SK" + fake("tw", hex, 32)
	mailgun := "key-" + fake("mg", hex, 32)
	braintree := "access_token$production$" + fake("bt1", `a-z0-9`, 16) + "$" + fake("bt2", hex, 32)
	flw := "FLWSECK-" + fake("flw", hex, 32) + "-X"
	glsa := "glsa_" + fake("glsa1", alnum, 32) + "_" + fake("glsa2", hex, 8)
	mapbox := "sk.eyJ" + fake("mb1", url, 60) + "." + fake("mb2", url, 22)
	jwt := b64url(`{"alg":"HS256","typ":"JWT"}`) + "." + b64url(`{"sub":"svc-deploy","iat":1700000000}`) + "." + fake("jwt", url, 43)
	jwtExample := b64url(`{"alg":"HS256","typ":"JWT"}`) + "." + b64url(`{"sub":"1234567890","name":"John Doe","iat":1516239022}`) + "." + fake("jwt2", url, 43)
	jwtNone := b64url(`{"alg":"none"}`) + "." + b64url(`{"sub":"svc"}`) + "." + fake("jwt3", url, 43)
	puttyBody := fake("putty", `A-Za-z0-9+/`, 64) + "\n"
	putty := "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n" + fake("pub", `A-Za-z0-9+/`, 60) +
		"\nPrivate-Lines: 1\n" + puttyBody
	dbPass := fake("db", alnum, 18)
	urlPass := fake("url", alnum, 20)
	jdbcPass := fake("jdbc", alnum, 16)
	jwtSecret := fake("jwtsecret", `A-Za-z0-9+/`, 40)
	return []sample{
		{"openai-api-key", "OPENAI_API_KEY=" + openai + "\n", openai},
		{"openai-api-key", "OPENAI_API_KEY=sk-proj-" + strings.Repeat("x", 40) + "T3BlbkFJ" + strings.Repeat("x", 40) + "\n", ""},
		{"openai-api-key", "OPENAI_API_KEY=sk-proj-" + inOrder(alnum, 40) + "T3BlbkFJ" + inOrder(alnum, 40) + "\n", ""},
		{"azure-storage-account-key", "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=" + azure + ";EndpointSuffix=core.windows.net", azure},
		{"azure-storage-account-key", "AccountKey=" + strings.Repeat("A", 86) + "==", ""},
		{"azure-storage-account-key", "AccountKey=" + inOrder(`A-Za-z0-9+/`, 86) + "==", ""},
		{"azure-ad-client-secret", "AZURE_CLIENT_SECRET=" + entra + "\n", entra},
		{"azure-ad-client-secret", "AZURE_CLIENT_SECRET=abc8Q~" + strings.Repeat("x", 34) + "\n", ""},
		{"azure-ad-client-secret", "AZURE_CLIENT_SECRET=" + fake("entra1", alnum, 3) + "8Q~Sample" + fake("entra3", alnum, 28) + "\n", ""},
		{"cloudflare-origin-ca-key", "key: " + origin + "\n", origin},
		{"cloudflare-origin-ca-key", "key: v1.0-" + strings.Repeat("0", 24) + "-" + strings.Repeat("0", 146) + "\n", ""},
		{"slack-app-token", "SLACK_APP_TOKEN=" + xapp + "\n", xapp},
		{"slack-app-token", "SLACK_APP_TOKEN=xapp-1-A0123-" + fake("x", hex, 64) + "\n", ""},
		{"discord-webhook", "url = \"" + discord + "\"\n", discord},
		{"discord-webhook", "url = \"https://discord.com/api/webhooks/123456789012345678/" + strings.Repeat("x", 68) + "\"\n", ""},
		{"discord-webhook", "url = \"https://discord.com/api/webhooks/" + fake("dw1", `0-9`, 18) + "/EXAMPLE" + fake("dw2", url, 61) + "\"\n", ""},
		{"telegram-bot-token", "BOT_TOKEN=" + telegram + "\n", telegram},
		{"telegram-bot-token", "BOT_TOKEN=123456789:AA" + strings.Repeat("x", 33) + "\n", ""},
		{"telegram-bot-token", "BOT_TOKEN=123456789:AA" + "YOUR_BOT_TOKEN_HERE_" + strings.Repeat("x", 13) + "\n", ""},
		{"teams-webhook", "webhook: " + teams + "\n", teams},
		{"teams-webhook", "webhook: https://contoso.webhook.office.com/webhookb2/<id>@<tenant>/IncomingWebhook/<key>/<owner>\n", ""},
		{"sendgrid-api-key", "SENDGRID_API_KEY='" + sendgrid + "'\n", sendgrid},
		{"sendgrid-api-key", "SENDGRID_API_KEY='SG." + strings.Repeat("x", 22) + "." + strings.Repeat("x", 43) + "'\n", ""},
		{"sendgrid-api-key", "SENDGRID_API_KEY='SG." + fake("sg1", url, 22) + "." + fake("sg2", url, 36) + "EXAMPLE'\n", ""},
		{"mailchimp-api-key", "mailchimp_key: " + mailchimp + "\n", mailchimp},
		{"mailchimp-api-key", "id: " + strings.Repeat("0", 32) + "-us1\n", ""},
		{"twilio-api-key", "# Twilio credentials\nTWILIO_API_KEY=" + twilio + "\n", twilio},
		{"twilio-api-key", "signing_key_id = " + twilio + "\n", ""},
		{"mailgun-api-key", "MAILGUN_API_KEY=" + mailgun + "\n", mailgun},
		{"mailgun-api-key", "cache-key: " + mailgun + "\n", ""},
		{"braintree-access-token", "BT_TOKEN=" + braintree + "\n", braintree},
		{"braintree-access-token", "BT_TOKEN=access_token$sandbox$" + fake("bt1", `a-z0-9`, 16) + "$" + fake("bt2", hex, 32) + "\n", ""},
		{"flutterwave-secret-key", "FLW_SECRET_KEY=" + flw + "\n", flw},
		{"flutterwave-secret-key", "FLW_SECRET_KEY=FLWSECK_TEST-" + fake("flw", hex, 32) + "-X\n", ""},
		{"grafana-service-account-token", "GRAFANA_TOKEN=" + glsa + "\n", glsa},
		{"grafana-service-account-token", "GRAFANA_TOKEN=glsa_" + strings.Repeat("x", 32) + "_00000000\n", ""},
		{"grafana-service-account-token", "GRAFANA_TOKEN=glsa_" + "Example" + fake("glsa1", alnum, 25) + "_" + fake("glsa2", hex, 8) + "\n", ""},
		{"mapbox-secret-token", "MAPBOX_TOKEN=" + mapbox + "\n", mapbox},
		{"mapbox-secret-token", "MAPBOX_TOKEN=pk.eyJ" + fake("mb1", url, 60) + "." + fake("mb2", url, 22) + "\n", ""},
		{"mapbox-secret-token", "MAPBOX_TOKEN=sk.eyJ" + fake("mb1", url, 60) + "." + "Redacted" + fake("mb2", url, 14) + "\n", ""},
		{"jwt", "Authorization: Bearer " + jwt + "\n", jwt},
		{"jwt", "token: " + jwtExample + "\n", ""},
		{"jwt", "token: " + jwtNone + "\n", ""},
		{"putty-private-key", putty + "Private-MAC: 00\n", putty},
		{"putty-private-key", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: docs\n", ""},
		{"database-connection-string", "DATABASE_URL=postgres://app:" + dbPass + "@db.prod.internal:5432/app\n", dbPass},
		{"database-connection-string", "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app\n", ""},
		{"database-connection-string", "url: mysql://app:${DB_PASSWORD}@db/app\n", ""},
		{"database-connection-string", "mongodb://user:password@mongo.example.com/db\n", ""},
		{"uri-credentials", "git clone https://deploy:" + urlPass + "@git.corp.net/app.git\n", urlPass},
		{"uri-credentials", "proxy: http://admin:admin@localhost:8080\n", ""},
		{"uri-credentials", "see https://user:pass@example.com/path\n", ""},
		{"jdbc-connection-string", "url=jdbc:postgresql://db.prod:5432/app?user=app&password=" + jdbcPass + "\n", jdbcPass},
		{"jdbc-connection-string", "url=jdbc:mysql://localhost/db?user=root&password=root\n", ""},
		{"jwt-signing-secret", "JWT_SECRET=" + jwtSecret + "\n", jwtSecret},
		{"jwt-signing-secret", "JWT_EXPIRATION=36000000000\njwt_secret: ${JWT_SECRET}\n", ""},
	}
}

func TestCatalogSamples(t *testing.T) {
	t.Parallel()
	samples := append(tokenSamples(), structuredSamples()...)
	samples = append(samples, fileSamples()...)
	tp, fp := map[string]int{}, map[string]int{}
	e := Default()
	for _, s := range samples {
		var got []string
		for _, m := range e.Scan("config/app.env", []byte(s.data)) {
			if m.RuleID == s.rule {
				got = append(got, m.Secret)
			}
		}
		if s.secret != "" {
			tp[s.rule]++
			if len(got) != 1 || got[0] != s.secret {
				t.Errorf("%s: true positive %q: got %q, want [%q]", s.rule, s.data, got, s.secret)
			}
		} else {
			fp[s.rule]++
			if len(got) != 0 {
				t.Errorf("%s: false positive %q reported: %q", s.rule, s.data, got)
			}
		}
	}
	// Rules with samples elsewhere (TestTruePositives, TestFalsePositives).
	for _, id := range []string{AWSKeyIDRule, AWSKeyRule, "private-key", "github-token", "github-fine-grained-token", "slack-token",
		"slack-webhook", "stripe-live-key", "google-api-key", GenericRule} {
		tp[id]++
		fp[id]++
	}
	for _, r := range Catalog() {
		if tp[r.ID] == 0 || fp[r.ID] == 0 {
			t.Errorf("rule %s has %d true and %d false positive samples; want at least one of each", r.ID, tp[r.ID], fp[r.ID])
		}
	}
	if n := len(Catalog()); n < 60 {
		t.Errorf("catalog has %d rules, want at least 60", n)
	}
}

func TestCatalogIsWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range Catalog() {
		if seen[r.ID] {
			t.Errorf("rule id %s used twice", r.ID)
		}
		seen[r.ID] = true
		if r.Pairs != "" {
			// A rule that reports another's matches with their secret.
			if r.Description == "" || len(r.Keywords) > 0 || r.Regex != nil || !seen[r.Pairs] {
				t.Errorf("rule %s pairs %s: want a description, no keywords or regex, and the rule it pairs before it", r.ID, r.Pairs)
			}
			continue
		}
		if r.ID == "" || r.Description == "" || len(r.Keywords) == 0 {
			t.Errorf("rule %q lacks an id, description or keywords", r.ID)
		}
		if r.Regex == nil && !r.Assignment {
			t.Errorf("rule %s has no regex", r.ID)
		}
		for _, k := range r.Keywords {
			if len(k) < 3 {
				t.Errorf("rule %s: keyword %q is shorter than 3 bytes", r.ID, k)
			}
		}
	}
}
