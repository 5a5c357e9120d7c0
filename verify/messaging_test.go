package verify

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/providertest"
)

// Secrets of the shapes the rules find; none is real.
const (
	slackBot       = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	slackUser      = "xoxp-123456789012-1234567890123-1234567890123-0123456789abcdef0123456789abcdef"
	slackRevoked   = "xoxb-123456789012-9876543210987-ZyXwVuTsRqPoNmLkJiHgFeDc"
	slackRefresh   = "xoxr-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	slackApp       = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	slackHookPath  = "/services/T0123ABCD/B0123ABCD/AbCdEfGhIjKlMnOpQrStUvWx"
	slackHookLive  = "https://hooks.slack.com" + slackHookPath
	slackHookGone  = "https://hooks.slack.com/services/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"
	slackHookBad   = "https://hooks.slack.com/services/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"
	slackHookNone  = "https://hooks.slack.com/services/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"
	slackWorkflow  = "https://hooks.slack.com/workflows/T0123ABCD/A0123ABCD/AbCdEfGhIjKlMnOpQrStUvWx"
	discordID      = "123456789012345678"
	discordToken   = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz01"
	discordLive    = "https://discord.com/api/webhooks/" + discordID + "/" + discordToken
	discordPTB     = "https://ptb.discordapp.com/api/webhooks/" + discordID + "/" + discordToken
	discordBadTok  = "https://discord.com/api/webhooks/" + discordID + "/ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210_-ZyXwVuTsRqPoNmLkJiHgFeDcBa98"
	discordUnknown = "https://discord.com/api/webhooks/876543210987654321/" + discordToken
	telegramLive   = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
	telegramDead   = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw2"
	openaiLive     = "sk-proj-AbCdEfGhIjKlMnOpQrStT3BlbkFJUvWxYz0123456789AbCd"
	openaiDead     = "sk-proj-ZyXwVuTsRqPoNmLkJiHgT3BlbkFJFeDcBa9876543210ZyXw"
	openaiScoped   = "sk-proj-RestrictedKeyNoModelsT3BlbkFJScopeAbCdEfGhIjKl"
	openaiBroke    = "sk-proj-OutOfCreditAbCdEfGhIjT3BlbkFJQuotaZyXwVuTsRqPo"
	anthropicLive  = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvW-AA"
	anthropicDead  = "sk-ant-api03-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210ZyXwVuTsRqPoNmLkJiHgFeD-AA"
	anthropicDeny  = "sk-ant-api03-DeniedKeyAbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjK-AA"
	anthropicAdmin = "sk-ant-admin01-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrS-AA"
	sendgridLive   = "SG.AbCdEfGhIjKlMnOpQrStUv.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG"
	sendgridDead   = "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"
	mailgunUS      = "key-0123456789abcdef0123456789abcdef"
	mailgunEU      = "key-fedcba9876543210fedcba9876543210"
	mailgunDead    = "key-00000000000000000000000000000000"
)

// providerCase is one finding verified against a provider's stand-in.
var msgTwoWaits = []time.Duration{2 * time.Second, 2 * time.Second}

func TestSlackToken(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Slack(map[string]providertest.SlackToken{
			slackBot:     {User: "deploybot", UserID: "U0BOT", Team: "Acme", TeamID: "T0123ABCD", Scopes: []string{"chat:write", "channels:read"}},
			slackUser:    {User: "grace", UserID: "W012345", Team: "Acme", TeamID: "T0123ABCD", Scopes: []string{"identify"}},
			slackApp:     {AppID: "A0123456789", Team: "Acme", TeamID: "T0123ABCD"},
			slackRevoked: {Error: "token_revoked"},
		}, nil)
	}
	post := []string{"POST /auth.test"}
	runProvider(t, "slack", serve, inHeader("Authorization", "Bearer %s"), "2", []providerCase{
		{name: "bot token", rule: "slack-token", secret: slackBot, calls: post,
			want: verifiedAs("slack", "user deploybot (U0BOT), team Acme (T0123ABCD)", "chat:write", "channels:read")},
		{name: "user token", rule: "slack-token", secret: slackUser, calls: post,
			want: verifiedAs("slack", "user grace (W012345), team Acme (T0123ABCD)", "identify")},
		{name: "app-level token", rule: "slack-app-token", secret: slackApp, calls: post,
			want: verifiedAs("slack", "app A0123456789, team Acme (T0123ABCD)")},
		{name: "unknown token", rule: "slack-token", secret: "xoxb-123456789012-0000000000000-NotAKnownTokenAtAll00", calls: post,
			want: invalidAs("slack", "slack: invalid_auth")},
		{name: "revoked token", rule: "slack-token", secret: slackRevoked, calls: post,
			want: invalidAs("slack", "slack: token_revoked")},
		{name: "rate limited twice", rule: "slack-token", secret: slackBot, limited: 2, waits: msgTwoWaits, calls: []string{"POST /auth.test", "POST /auth.test", "POST /auth.test"},
			want: verifiedAs("slack", "user deploybot (U0BOT), team Acme (T0123ABCD)", "chat:write", "channels:read")},
		{name: "refresh token: not asked", rule: "slack-token", secret: slackRefresh},
		{name: "an error that says nothing of the token", rule: "slack-token", secret: slackBot, calls: post,
			serve: failing("slack", http.StatusOK, `{"ok":false,"error":"not_allowed_token_type"}`),
			want:  unknownAs("slack", "slack: not_allowed_token_type")},
		{name: "an error that is not a code", rule: "slack-token", secret: slackBot, calls: post,
			serve: failing("slack", http.StatusOK, `{"ok":false,"error":"call \u001b[31m+1 555 0100 now"}`),
			want:  unknownAs("slack", "unexpected answer: HTTP 200")},
		{name: "500", rule: "slack-token", secret: slackBot, calls: post,
			serve: failing("slack", http.StatusInternalServerError, `oops`),
			want:  unknownAs("slack", "HTTP 500: the provider failed")},
		{name: "not Slack's answer", rule: "slack-token", secret: slackBot, calls: post,
			serve: failing("slack", http.StatusOK, `<html>captive portal</html>`),
			want:  unknownAs("slack", "unexpected answer: HTTP 200")},
	})
}

func TestSlackWebhook(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Slack(nil, map[string]string{
			slackHookPath: "",
			"/services/T0123ABCD/B0999ZZZZ/ZyXwVuTsRqPoNmLkJiHgFeDc": "channel_is_archived",
		})
	}
	post := func(secret string) []string {
		return []string{"POST " + strings.TrimPrefix(secret, "https://hooks.slack.com")}
	}
	runProvider(t, "slack", serve, slackHookSent, "2", []providerCase{
		{name: "live", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			want: verifiedAs("slack", "incoming webhook of team T0123ABCD")},
		{name: "http URL: sent over https to Slack's host", rule: "slack-webhook", secret: "http://hooks.slack.com" + slackHookPath, calls: post(slackHookLive),
			want: verifiedAs("slack", "incoming webhook of team T0123ABCD")},
		{name: "archived channel", rule: "slack-webhook", secret: slackHookGone, calls: post(slackHookGone),
			want: invalidAs("slack", "HTTP 410 channel_is_archived: the webhook cannot post")},
		{name: "wrong token", rule: "slack-webhook", secret: slackHookBad, calls: post(slackHookBad),
			want: invalidAs("slack", "HTTP 403 invalid_token: the webhook cannot post")},
		{name: "no such webhook", rule: "slack-webhook", secret: slackHookNone, calls: post(slackHookNone),
			want: invalidAs("slack", "HTTP 404 no_service: the webhook cannot post")},
		{name: "rate limited twice", rule: "slack-webhook", secret: slackHookLive, limited: 2, waits: msgTwoWaits,
			calls: append(append(post(slackHookLive), post(slackHookLive)...), post(slackHookLive)...),
			want:  verifiedAs("slack", "incoming webhook of team T0123ABCD")},
		{name: "workflow webhook: not asked", rule: "slack-webhook", secret: slackWorkflow},
		{name: "500", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			serve: failing("slack", http.StatusInternalServerError, "rollup_error"),
			want:  unknownAs("slack", "HTTP 500: the provider failed")},
		{name: "posted: no answer to trust", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			serve: failing("slack", http.StatusOK, "ok"),
			want:  unknownAs("slack", "unexpected answer: HTTP 200")},
		{name: "not Slack's answer", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			serve: failing("slack", http.StatusBadRequest, "<html>Bad Request</html>"),
			want:  unknownAs("slack", "unexpected answer: HTTP 400")},
	})
}

// slackHookSent: the webhook's path, and a JSON body with no text.
func slackHookSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if string(c.Body) != "{}" || c.Header.Get("Content-Type") != "application/json" {
		t.Errorf("sent %q (%s), want {} as JSON", c.Body, c.Header.Get("Content-Type"))
	}
	inPath(t, c, secret)
}

func TestDiscordWebhook(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Discord(map[string]providertest.DiscordWebhook{
			discordID: {Token: discordToken, Name: "Deploys", ChannelID: "199737254929760256", GuildID: "199737254929760257"},
		})
	}
	get := func(secret string) []string {
		return []string{"GET /v10/webhooks/" + strings.TrimPrefix(secret[strings.Index(secret, "/webhooks/"):], "/webhooks/")}
	}
	live := verifiedAs("discord", "webhook Deploys ("+discordID+"), channel 199737254929760256, guild 199737254929760257")
	runProvider(t, "discord", serve, inPath, "2", []providerCase{
		{name: "live", rule: "discord-webhook", secret: discordLive, calls: get(discordLive), want: live},
		{name: "discordapp host: asked at discord.com", rule: "discord-webhook", secret: discordPTB, calls: get(discordLive), want: live},
		{name: "wrong token", rule: "discord-webhook", secret: discordBadTok, calls: get(discordBadTok),
			want: invalidAs("discord", "HTTP 401: invalid webhook token")},
		{name: "deleted webhook", rule: "discord-webhook", secret: discordUnknown, calls: get(discordUnknown),
			want: invalidAs("discord", "HTTP 404: unknown webhook")},
		{name: "rate limited twice", rule: "discord-webhook", secret: discordLive, limited: 2, waits: msgTwoWaits,
			calls: append(append(get(discordLive), get(discordLive)...), get(discordLive)...), want: live},
		{name: "not a webhook URL: not asked", rule: "discord-webhook", secret: "https://discord.com/api/webhooks/123/short"},
		{name: "500", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: failing("discord", http.StatusBadGateway, ""),
			want:  unknownAs("discord", "HTTP 502: the provider failed")},
		{name: "a 401 that is not Discord's", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: failing("discord", http.StatusUnauthorized, "Unauthorized"),
			want:  unknownAs("discord", "unexpected answer: HTTP 401")},
		{name: "a 404 that is not Discord's", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: failing("discord", http.StatusNotFound, "not here"),
			want:  unknownAs("discord", "unexpected answer: HTTP 404")},
		{name: "another webhook's answer", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: failing("discord", http.StatusOK, `{"id":"1","channel_id":"2","name":"x"}`),
			want:  unknownAs("discord", "unexpected answer: HTTP 200")},
	})
}

func TestTelegramBot(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Telegram(map[string]providertest.TelegramBot{telegramLive: {ID: 123456789, Username: "acme_deploy_bot", FirstName: "Acme Deploy"}})
	}
	get := func(token string) []string { return []string{"GET /bot" + token + "/getMe"} }
	live := verifiedAs("telegram", "bot @acme_deploy_bot (Acme Deploy)")
	runProvider(t, "telegram", serve, inPath, "2", []providerCase{
		{name: "live", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive), want: live},
		{name: "dead", rule: "telegram-bot-token", secret: telegramDead, calls: get(telegramDead),
			want: invalidAs("telegram", "HTTP 401: Telegram does not accept the token")},
		{name: "a token Telegram cannot read", rule: "telegram-bot-token", secret: telegramDead, calls: get(telegramDead),
			serve: failing("telegram", http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`),
			want:  invalidAs("telegram", "HTTP 404: Telegram does not accept the token")},
		{name: "rate limited twice", rule: "telegram-bot-token", secret: telegramLive, limited: 2, waits: msgTwoWaits,
			calls: append(append(get(telegramLive), get(telegramLive)...), get(telegramLive)...), want: live},
		{name: "not a token: not asked", rule: "telegram-bot-token", secret: "123456789:AA/../../x"},
		{name: "500", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive),
			serve: failing("telegram", http.StatusInternalServerError, `{"ok":false,"error_code":500}`),
			want:  unknownAs("telegram", "HTTP 500: the provider failed")},
		{name: "not Telegram's answer", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive),
			serve: failing("telegram", http.StatusOK, `{"ok":true,"result":{"is_bot":false,"username":"someone"}}`),
			want:  unknownAs("telegram", "unexpected answer: HTTP 200")},
		{name: "a 401 that is not Telegram's", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive),
			serve: failing("telegram", http.StatusUnauthorized, `proxy authentication required`),
			want:  unknownAs("telegram", "unexpected answer: HTTP 401")},
	})
}

func TestOpenAIKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.OpenAI(map[string]providertest.OpenAIKey{
			openaiLive:   {Organization: "org-acme"},
			openaiScoped: {Organization: "org-acme", MissingScopes: true},
			openaiBroke:  {NoQuota: true},
		})
	}
	get := []string{"GET /v1/models"}
	runProvider(t, "openai", serve, inHeader("Authorization", "Bearer %s"), "2", []providerCase{
		{name: "live", rule: "openai-api-key", secret: openaiLive, calls: get, want: verifiedAs("openai", "organization org-acme")},
		{name: "dead", rule: "openai-api-key", secret: openaiDead, calls: get, want: invalidAs("openai", "HTTP 401: invalid_api_key")},
		{name: "restricted key", rule: "openai-api-key", secret: openaiScoped, calls: get,
			want: verifiedAs("openai", "organization org-acme, restricted key: may not list models")},
		// insufficient_quota is a 429: the caller asks three times.
		{name: "out of credit", rule: "openai-api-key", secret: openaiBroke, calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"},
			waits: []time.Duration{time.Second, 2 * time.Second}, want: verifiedAs("openai", "out of credit (insufficient_quota)")},
		{name: "rate limited twice", rule: "openai-api-key", secret: openaiLive, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"}, want: verifiedAs("openai", "organization org-acme")},
		{name: "rate limited throughout", rule: "openai-api-key", secret: openaiLive, limited: 3, waits: msgTwoWaits,
			calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"}, want: unknownAs("openai", "rate limited (HTTP 429) after retries")},
		{name: "500", rule: "openai-api-key", secret: openaiLive, calls: get,
			serve: failing("openai", http.StatusInternalServerError, `{"error":{"message":"The server had an error"}}`),
			want:  unknownAs("openai", "HTTP 500: the provider failed")},
		{name: "not OpenAI's answer", rule: "openai-api-key", secret: openaiLive, calls: get,
			serve: failing("openai", http.StatusOK, `{"hello":"world"}`),
			want:  unknownAs("openai", "unexpected answer: HTTP 200")},
		{name: "region not served", rule: "openai-api-key", secret: openaiLive, calls: get,
			serve: failing("openai", http.StatusForbidden, `{"error":{"code":"unsupported_country_region_territory"}}`),
			want:  unknownAs("openai", "unexpected answer: HTTP 403")},
	})
}

func TestAnthropicKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Anthropic(map[string]providertest.AnthropicKey{
			anthropicLive:  {OrganizationID: "0f1e2d3c-aaaa-bbbb-cccc-000000000001"},
			anthropicDeny:  {OrganizationID: "0f1e2d3c-aaaa-bbbb-cccc-000000000001", Forbidden: true},
			anthropicAdmin: {OrganizationID: "0f1e2d3c-aaaa-bbbb-cccc-000000000001", OrganizationName: "Acme"},
		})
	}
	models := []string{"GET /v1/models"}
	runProvider(t, "anthropic", serve, anthropicSent, "2", []providerCase{
		{name: "live", rule: "anthropic-api-key", secret: anthropicLive, calls: models,
			want: verifiedAs("anthropic", "organization 0f1e2d3c-aaaa-bbbb-cccc-000000000001")},
		{name: "dead", rule: "anthropic-api-key", secret: anthropicDead, calls: models,
			want: invalidAs("anthropic", "HTTP 401: authentication_error")},
		{name: "not allowed", rule: "anthropic-api-key", secret: anthropicDeny, calls: models,
			want: verifiedAs("anthropic", "organization 0f1e2d3c-aaaa-bbbb-cccc-000000000001, permission_error: may not read this")},
		{name: "admin key", rule: "anthropic-api-key", secret: anthropicAdmin, calls: []string{"GET /v1/organizations/me"},
			want: verifiedAs("anthropic", "admin key of organization Acme (0f1e2d3c-aaaa-bbbb-cccc-000000000001)")},
		{name: "rate limited twice", rule: "anthropic-api-key", secret: anthropicLive, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"},
			want:  verifiedAs("anthropic", "organization 0f1e2d3c-aaaa-bbbb-cccc-000000000001")},
		{name: "overloaded", rule: "anthropic-api-key", secret: anthropicLive, calls: models,
			serve: failing("anthropic", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
			want:  unknownAs("anthropic", "HTTP 529: the provider failed")},
		{name: "not Anthropic's answer", rule: "anthropic-api-key", secret: anthropicLive, calls: models,
			serve: failing("anthropic", http.StatusUnauthorized, `Unauthorized`),
			want:  unknownAs("anthropic", "unexpected answer: HTTP 401")},
	})
}

func anthropicSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if v := c.Header.Get("Anthropic-Version"); v != "2023-06-01" {
		t.Errorf("anthropic-version %q", v)
	}
	inHeader("X-Api-Key", "%s")(t, c, secret)
}

func TestSendGridKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.SendGrid(map[string][]string{sendgridLive: {"mail.send", "templates.read"}})
	}
	get := []string{"GET /v3/scopes"}
	live := verifiedAs("sendgrid", "API key with 2 scopes", "mail.send", "templates.read")
	runProvider(t, "sendgrid", serve, inHeader("Authorization", "Bearer %s"), "2", []providerCase{
		{name: "live", rule: "sendgrid-api-key", secret: sendgridLive, calls: get, want: live},
		{name: "dead", rule: "sendgrid-api-key", secret: sendgridDead, calls: get,
			want: invalidAs("sendgrid", "HTTP 401: the provider does not accept it")},
		{name: "rate limited twice", rule: "sendgrid-api-key", secret: sendgridLive, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v3/scopes", "GET /v3/scopes", "GET /v3/scopes"}, want: live},
		{name: "500", rule: "sendgrid-api-key", secret: sendgridLive, calls: get,
			serve: failing("sendgrid", http.StatusInternalServerError, ``),
			want:  unknownAs("sendgrid", "HTTP 500: the provider failed")},
		{name: "not SendGrid's answer", rule: "sendgrid-api-key", secret: sendgridLive, calls: get,
			serve: failing("sendgrid", http.StatusOK, `{"result":[]}`),
			want:  unknownAs("sendgrid", "unexpected answer: HTTP 200")},
	})
}

func TestMailgunKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Mailgun(map[string]providertest.MailgunAccount{
			mailgunUS: {Region: "us", Domains: []string{"mg.acme.example", "mail.acme.example"}},
		})
	}
	get := []string{"GET /v3/domains"}
	live := verifiedAs("mailgun", "US region, 2 domains (mg.acme.example, ...)")
	// The Basic header holds "api:KEY", not the key: check it apart.
	runProvider(t, "mailgun", serve, mailgunSent, "2", []providerCase{
		{name: "live", rule: "mailgun-api-key", secret: mailgunUS, calls: get, want: live},
		{name: "dead", rule: "mailgun-api-key", secret: mailgunDead, calls: []string{"GET /v3/domains", "GET /v3/domains"},
			want: invalidAs("mailgun", "HTTP 401 from the US and EU hosts: Mailgun does not accept the key")},
		{name: "rate limited twice", rule: "mailgun-api-key", secret: mailgunUS, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v3/domains", "GET /v3/domains", "GET /v3/domains"}, want: live},
		{name: "500", rule: "mailgun-api-key", secret: mailgunUS, calls: get,
			serve: failing("mailgun", http.StatusInternalServerError, ``),
			want:  unknownAs("mailgun", "HTTP 500: the provider failed")},
		{name: "not Mailgun's answer", rule: "mailgun-api-key", secret: mailgunUS, calls: get,
			serve: failing("mailgun", http.StatusOK, `[]`),
			want:  unknownAs("mailgun", "unexpected answer: HTTP 200")},
	})
}

func mailgunSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if got, want := c.Header.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("api:"+secret)); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
	h := c.Header.Clone()
	h.Del("Authorization")
	notElsewhere(t, c, h, secret)
	if c.Query.Get("limit") != "1" {
		t.Errorf("query %q, want limit=1", c.Query.Encode())
	}
}

// TestMailgunRegions: a key the US host refuses is asked at the EU host,
// and only there; a key of neither is invalid after two requests.
func TestMailgunRegions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret string
		want         Result
		us, eu       int
	}{
		{"US key", mailgunUS, Verified("US region, 1 domain (mg.acme.example, ...)"), 1, 0},
		{"EU key", mailgunEU, Verified("EU region, 1 domain (mg.acme.eu.example, ...)"), 1, 1},
		{"neither", mailgunDead, Invalid("HTTP 401 from the US and EU hosts: Mailgun does not accept the key"), 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := providertest.New(t)
			s.Mailgun(map[string]providertest.MailgunAccount{
				mailgunUS: {Region: "us", Domains: []string{"mg.acme.example"}},
				mailgunEU: {Region: "eu", Domains: []string{"mg.acme.eu.example"}},
			})
			p := mailgun()
			p.Base, p.Bases["eu"] = s.Base("mailgun"), s.Base("mailgun-eu")
			c := newCaller(p, nil, &Options{Timeout: 5 * time.Second, MaxWait: time.Second,
				Sleep: func(context.Context, time.Duration) error { return nil },
				// The stand-in is on loopback, which the caller refuses
				// without an override.
				Transport: func(tr *http.Transport) *http.Transport {
					tr.DialContext = (&net.Dialer{}).DialContext
					return tr
				},
			})
			got := p.Verifiers[0].Check(t.Context(), c, finding.Finding{RuleID: "mailgun-api-key", Secret: tt.secret})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if us, eu := len(s.Calls("mailgun")), len(s.Calls("mailgun-eu")); us != tt.us || eu != tt.eu {
				t.Errorf("%d US and %d EU requests, want %d and %d", us, eu, tt.us, tt.eu)
			}
		})
	}
}

// TestMessagingCatalog: each verifier of these providers says what it
// requests, on its provider's hosts; Twilio's key is listed as
// unverified, with why.
func TestMessagingCatalog(t *testing.T) {
	t.Parallel()
	for _, p := range []*Provider{slack(), discord(), telegram(), openai(), anthropic(), sendgrid(), mailgun(), twilio()} {
		hosts := []string{p.Base}
		for _, b := range p.Bases {
			hosts = append(hosts, b)
		}
		for _, v := range p.Verifiers {
			if len(v.Rules) == 0 || len(v.Calls) == 0 || v.Check == nil {
				t.Errorf("%s: a verifier without rules, calls or check", p.Name)
			}
			for _, call := range v.Calls {
				method, target, _ := strings.Cut(call, " ")
				ok := false
				for _, h := range hosts {
					ok = ok || strings.HasPrefix(target, h+"/")
				}
				if (method != "GET" && method != "POST") || !ok {
					t.Errorf("%s: call %q is not on its hosts %v", p.Name, call, hosts)
				}
			}
		}
	}
	if why := twilio().Unverified["twilio-api-key"]; why == "" {
		t.Error("twilio-api-key: no reason it is not verified")
	}
}
