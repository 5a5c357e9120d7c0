package verify

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
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

// msgCase is one finding verified against a provider's stand-in.
type msgCase struct {
	name         string
	rule, secret string
	// serve replaces the provider's stand-in (a failing or strange
	// service).
	serve func(s *providertest.Server)
	// limited answers the first requests 429, Retry-After: 2.
	limited int
	want    *finding.Verification
	waits   []time.Duration
	// calls are the requests the stand-in got: "METHOD /path".
	calls []string
}

// msgSent checks that a request carried the secret where the provider
// takes it, and nowhere else.
type msgSent func(t *testing.T, c providertest.Call, secret string)

// msgInHeader: the secret only in header name, as format puts it.
func msgInHeader(name, format string) msgSent {
	return func(t *testing.T, c providertest.Call, secret string) {
		t.Helper()
		if got, want := c.Header.Get(name), fmt.Sprintf(format, secret); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
		h := c.Header.Clone()
		h.Del(name)
		msgNotElsewhere(t, c, h, secret)
	}
}

// msgInPath: the secret (or its parts) only in the path, as the provider's
// API requires.
func msgInPath(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	c.Path = ""
	msgNotElsewhere(t, c, c.Header, secret)
	if c.Header.Get("Authorization") != "" {
		t.Error("an Authorization header was sent")
	}
}

func msgNotElsewhere(t *testing.T, c providertest.Call, h http.Header, secret string) {
	t.Helper()
	parts := []string{secret}
	if u, err := url.Parse(secret); err == nil && u.Host != "" {
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
		parts = parts[len(parts)-1:] // the webhook's token
	}
	for _, p := range parts {
		enc := base64.StdEncoding.EncodeToString([]byte("api:" + p))
		for _, where := range []string{c.Path, c.Query.Encode(), string(c.Body), fmt.Sprint(h)} {
			if strings.Contains(where, p) || strings.Contains(where, enc) {
				t.Errorf("the secret was sent in %q", where)
			}
		}
	}
}

func runMessaging(t *testing.T, provider string, serve func(s *providertest.Server), sent msgSent, tests []msgCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := providertest.New(t)
			if tt.serve != nil {
				tt.serve(s)
			} else {
				serve(s)
			}
			if tt.limited > 0 {
				s.RateLimit(provider, tt.limited, "2")
			}
			var waits []time.Duration
			got := verifyOne(t, session(t, s, &waits, provider), tt.rule, tt.secret, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verification (-want +got):\n%s", diff)
			}
			if got != nil && got.Error != "" && strings.Contains(got.Error, tt.secret) {
				t.Error("the error holds the secret")
			}
			if got != nil && strings.Contains(got.Identity, tt.secret) {
				t.Error("the identity holds the secret")
			}
			if diff := cmp.Diff(tt.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			all := s.Calls("")
			var calls []string
			host := strings.TrimPrefix(s.URL, "http://")
			for _, c := range all {
				calls = append(calls, c.Method+" "+c.Path)
				if c.Provider != provider || c.Host != host {
					t.Errorf("a request to %s at %s", c.Provider, c.Host)
				}
				sent(t, c, tt.secret)
			}
			if diff := cmp.Diff(tt.calls, calls); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// msgFailing answers every request with status and body.
func msgFailing(provider string, status int, body string) func(s *providertest.Server) {
	return func(s *providertest.Server) {
		s.Handle(provider, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		})
	}
}

func msgVerified(provider, identity string, scopes ...string) *finding.Verification {
	return &finding.Verification{Status: finding.StatusVerified, Provider: provider, Identity: identity, Scopes: scopes}
}

func msgInvalid(provider, why string) *finding.Verification {
	return &finding.Verification{Status: finding.StatusInvalid, Provider: provider, Error: why}
}

func msgUnknown(provider, why string) *finding.Verification {
	return &finding.Verification{Status: finding.StatusUnknown, Provider: provider, Error: why}
}

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
	runMessaging(t, "slack", serve, msgInHeader("Authorization", "Bearer %s"), []msgCase{
		{name: "bot token", rule: "slack-token", secret: slackBot, calls: post,
			want: msgVerified("slack", "user deploybot (U0BOT), team Acme (T0123ABCD)", "chat:write", "channels:read")},
		{name: "user token", rule: "slack-token", secret: slackUser, calls: post,
			want: msgVerified("slack", "user grace (W012345), team Acme (T0123ABCD)", "identify")},
		{name: "app-level token", rule: "slack-app-token", secret: slackApp, calls: post,
			want: msgVerified("slack", "app A0123456789, team Acme (T0123ABCD)")},
		{name: "unknown token", rule: "slack-token", secret: "xoxb-123456789012-0000000000000-NotAKnownTokenAtAll00", calls: post,
			want: msgInvalid("slack", "slack: invalid_auth")},
		{name: "revoked token", rule: "slack-token", secret: slackRevoked, calls: post,
			want: msgInvalid("slack", "slack: token_revoked")},
		{name: "rate limited twice", rule: "slack-token", secret: slackBot, limited: 2, waits: msgTwoWaits, calls: []string{"POST /auth.test", "POST /auth.test", "POST /auth.test"},
			want: msgVerified("slack", "user deploybot (U0BOT), team Acme (T0123ABCD)", "chat:write", "channels:read")},
		{name: "refresh token: not asked", rule: "slack-token", secret: slackRefresh},
		{name: "an error that says nothing of the token", rule: "slack-token", secret: slackBot, calls: post,
			serve: msgFailing("slack", http.StatusOK, `{"ok":false,"error":"not_allowed_token_type"}`),
			want:  msgUnknown("slack", "slack: not_allowed_token_type")},
		{name: "an error that is not a code", rule: "slack-token", secret: slackBot, calls: post,
			serve: msgFailing("slack", http.StatusOK, `{"ok":false,"error":"call \u001b[31m+1 555 0100 now"}`),
			want:  msgUnknown("slack", "unexpected answer: HTTP 200")},
		{name: "500", rule: "slack-token", secret: slackBot, calls: post,
			serve: msgFailing("slack", http.StatusInternalServerError, `oops`),
			want:  msgUnknown("slack", "HTTP 500: the provider failed")},
		{name: "not Slack's answer", rule: "slack-token", secret: slackBot, calls: post,
			serve: msgFailing("slack", http.StatusOK, `<html>captive portal</html>`),
			want:  msgUnknown("slack", "unexpected answer: HTTP 200")},
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
	runMessaging(t, "slack", serve, slackHookSent, []msgCase{
		{name: "live", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			want: msgVerified("slack", "incoming webhook of team T0123ABCD")},
		{name: "http URL: sent over https to Slack's host", rule: "slack-webhook", secret: "http://hooks.slack.com" + slackHookPath, calls: post(slackHookLive),
			want: msgVerified("slack", "incoming webhook of team T0123ABCD")},
		{name: "archived channel", rule: "slack-webhook", secret: slackHookGone, calls: post(slackHookGone),
			want: msgInvalid("slack", "HTTP 410 channel_is_archived: the webhook cannot post")},
		{name: "wrong token", rule: "slack-webhook", secret: slackHookBad, calls: post(slackHookBad),
			want: msgInvalid("slack", "HTTP 403 invalid_token: the webhook cannot post")},
		{name: "no such webhook", rule: "slack-webhook", secret: slackHookNone, calls: post(slackHookNone),
			want: msgInvalid("slack", "HTTP 404 no_service: the webhook cannot post")},
		{name: "rate limited twice", rule: "slack-webhook", secret: slackHookLive, limited: 2, waits: msgTwoWaits,
			calls: append(append(post(slackHookLive), post(slackHookLive)...), post(slackHookLive)...),
			want:  msgVerified("slack", "incoming webhook of team T0123ABCD")},
		{name: "workflow webhook: not asked", rule: "slack-webhook", secret: slackWorkflow},
		{name: "500", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			serve: msgFailing("slack", http.StatusInternalServerError, "rollup_error"),
			want:  msgUnknown("slack", "HTTP 500: the provider failed")},
		{name: "posted: no answer to trust", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			serve: msgFailing("slack", http.StatusOK, "ok"),
			want:  msgUnknown("slack", "unexpected answer: HTTP 200")},
		{name: "not Slack's answer", rule: "slack-webhook", secret: slackHookLive, calls: post(slackHookLive),
			serve: msgFailing("slack", http.StatusBadRequest, "<html>Bad Request</html>"),
			want:  msgUnknown("slack", "unexpected answer: HTTP 400")},
	})
}

// slackHookSent: the webhook's path, and a JSON body with no text.
func slackHookSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if string(c.Body) != "{}" || c.Header.Get("Content-Type") != "application/json" {
		t.Errorf("sent %q (%s), want {} as JSON", c.Body, c.Header.Get("Content-Type"))
	}
	msgInPath(t, c, secret)
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
	live := msgVerified("discord", "webhook Deploys ("+discordID+"), channel 199737254929760256, guild 199737254929760257")
	runMessaging(t, "discord", serve, msgInPath, []msgCase{
		{name: "live", rule: "discord-webhook", secret: discordLive, calls: get(discordLive), want: live},
		{name: "discordapp host: asked at discord.com", rule: "discord-webhook", secret: discordPTB, calls: get(discordLive), want: live},
		{name: "wrong token", rule: "discord-webhook", secret: discordBadTok, calls: get(discordBadTok),
			want: msgInvalid("discord", "HTTP 401: invalid webhook token")},
		{name: "deleted webhook", rule: "discord-webhook", secret: discordUnknown, calls: get(discordUnknown),
			want: msgInvalid("discord", "HTTP 404: unknown webhook")},
		{name: "rate limited twice", rule: "discord-webhook", secret: discordLive, limited: 2, waits: msgTwoWaits,
			calls: append(append(get(discordLive), get(discordLive)...), get(discordLive)...), want: live},
		{name: "not a webhook URL: not asked", rule: "discord-webhook", secret: "https://discord.com/api/webhooks/123/short"},
		{name: "500", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: msgFailing("discord", http.StatusBadGateway, ""),
			want:  msgUnknown("discord", "HTTP 502: the provider failed")},
		{name: "a 401 that is not Discord's", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: msgFailing("discord", http.StatusUnauthorized, "Unauthorized"),
			want:  msgUnknown("discord", "unexpected answer: HTTP 401")},
		{name: "a 404 that is not Discord's", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: msgFailing("discord", http.StatusNotFound, "not here"),
			want:  msgUnknown("discord", "unexpected answer: HTTP 404")},
		{name: "another webhook's answer", rule: "discord-webhook", secret: discordLive, calls: get(discordLive),
			serve: msgFailing("discord", http.StatusOK, `{"id":"1","channel_id":"2","name":"x"}`),
			want:  msgUnknown("discord", "unexpected answer: HTTP 200")},
	})
}

func TestTelegramBot(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.Telegram(map[string]providertest.TelegramBot{telegramLive: {ID: 123456789, Username: "acme_deploy_bot", FirstName: "Acme Deploy"}})
	}
	get := func(token string) []string { return []string{"GET /bot" + token + "/getMe"} }
	live := msgVerified("telegram", "bot @acme_deploy_bot (Acme Deploy)")
	runMessaging(t, "telegram", serve, msgInPath, []msgCase{
		{name: "live", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive), want: live},
		{name: "dead", rule: "telegram-bot-token", secret: telegramDead, calls: get(telegramDead),
			want: msgInvalid("telegram", "HTTP 401: Telegram does not accept the token")},
		{name: "a token Telegram cannot read", rule: "telegram-bot-token", secret: telegramDead, calls: get(telegramDead),
			serve: msgFailing("telegram", http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`),
			want:  msgInvalid("telegram", "HTTP 404: Telegram does not accept the token")},
		{name: "rate limited twice", rule: "telegram-bot-token", secret: telegramLive, limited: 2, waits: msgTwoWaits,
			calls: append(append(get(telegramLive), get(telegramLive)...), get(telegramLive)...), want: live},
		{name: "not a token: not asked", rule: "telegram-bot-token", secret: "123456789:AA/../../x"},
		{name: "500", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive),
			serve: msgFailing("telegram", http.StatusInternalServerError, `{"ok":false,"error_code":500}`),
			want:  msgUnknown("telegram", "HTTP 500: the provider failed")},
		{name: "not Telegram's answer", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive),
			serve: msgFailing("telegram", http.StatusOK, `{"ok":true,"result":{"is_bot":false,"username":"someone"}}`),
			want:  msgUnknown("telegram", "unexpected answer: HTTP 200")},
		{name: "a 401 that is not Telegram's", rule: "telegram-bot-token", secret: telegramLive, calls: get(telegramLive),
			serve: msgFailing("telegram", http.StatusUnauthorized, `proxy authentication required`),
			want:  msgUnknown("telegram", "unexpected answer: HTTP 401")},
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
	runMessaging(t, "openai", serve, msgInHeader("Authorization", "Bearer %s"), []msgCase{
		{name: "live", rule: "openai-api-key", secret: openaiLive, calls: get, want: msgVerified("openai", "organization org-acme")},
		{name: "dead", rule: "openai-api-key", secret: openaiDead, calls: get, want: msgInvalid("openai", "HTTP 401: invalid_api_key")},
		{name: "restricted key", rule: "openai-api-key", secret: openaiScoped, calls: get,
			want: msgVerified("openai", "organization org-acme, restricted key: may not list models")},
		// insufficient_quota is a 429: the caller asks three times.
		{name: "out of credit", rule: "openai-api-key", secret: openaiBroke, calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"},
			waits: []time.Duration{time.Second, 2 * time.Second}, want: msgVerified("openai", "out of credit (insufficient_quota)")},
		{name: "rate limited twice", rule: "openai-api-key", secret: openaiLive, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"}, want: msgVerified("openai", "organization org-acme")},
		{name: "rate limited throughout", rule: "openai-api-key", secret: openaiLive, limited: 3, waits: msgTwoWaits,
			calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"}, want: msgUnknown("openai", "rate limited (HTTP 429) after retries")},
		{name: "500", rule: "openai-api-key", secret: openaiLive, calls: get,
			serve: msgFailing("openai", http.StatusInternalServerError, `{"error":{"message":"The server had an error"}}`),
			want:  msgUnknown("openai", "HTTP 500: the provider failed")},
		{name: "not OpenAI's answer", rule: "openai-api-key", secret: openaiLive, calls: get,
			serve: msgFailing("openai", http.StatusOK, `{"hello":"world"}`),
			want:  msgUnknown("openai", "unexpected answer: HTTP 200")},
		{name: "region not served", rule: "openai-api-key", secret: openaiLive, calls: get,
			serve: msgFailing("openai", http.StatusForbidden, `{"error":{"code":"unsupported_country_region_territory"}}`),
			want:  msgUnknown("openai", "unexpected answer: HTTP 403")},
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
	runMessaging(t, "anthropic", serve, anthropicSent, []msgCase{
		{name: "live", rule: "anthropic-api-key", secret: anthropicLive, calls: models,
			want: msgVerified("anthropic", "organization 0f1e2d3c-aaaa-bbbb-cccc-000000000001")},
		{name: "dead", rule: "anthropic-api-key", secret: anthropicDead, calls: models,
			want: msgInvalid("anthropic", "HTTP 401: authentication_error")},
		{name: "not allowed", rule: "anthropic-api-key", secret: anthropicDeny, calls: models,
			want: msgVerified("anthropic", "organization 0f1e2d3c-aaaa-bbbb-cccc-000000000001, permission_error: may not read this")},
		{name: "admin key", rule: "anthropic-api-key", secret: anthropicAdmin, calls: []string{"GET /v1/organizations/me"},
			want: msgVerified("anthropic", "admin key of organization Acme (0f1e2d3c-aaaa-bbbb-cccc-000000000001)")},
		{name: "rate limited twice", rule: "anthropic-api-key", secret: anthropicLive, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v1/models", "GET /v1/models", "GET /v1/models"},
			want:  msgVerified("anthropic", "organization 0f1e2d3c-aaaa-bbbb-cccc-000000000001")},
		{name: "overloaded", rule: "anthropic-api-key", secret: anthropicLive, calls: models,
			serve: msgFailing("anthropic", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
			want:  msgUnknown("anthropic", "HTTP 529: the provider failed")},
		{name: "not Anthropic's answer", rule: "anthropic-api-key", secret: anthropicLive, calls: models,
			serve: msgFailing("anthropic", http.StatusUnauthorized, `Unauthorized`),
			want:  msgUnknown("anthropic", "unexpected answer: HTTP 401")},
	})
}

func anthropicSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if v := c.Header.Get("Anthropic-Version"); v != "2023-06-01" {
		t.Errorf("anthropic-version %q", v)
	}
	msgInHeader("X-Api-Key", "%s")(t, c, secret)
}

func TestSendGridKey(t *testing.T) {
	t.Parallel()
	serve := func(s *providertest.Server) {
		s.SendGrid(map[string][]string{sendgridLive: {"mail.send", "templates.read"}})
	}
	get := []string{"GET /v3/scopes"}
	live := msgVerified("sendgrid", "API key with 2 scopes", "mail.send", "templates.read")
	runMessaging(t, "sendgrid", serve, msgInHeader("Authorization", "Bearer %s"), []msgCase{
		{name: "live", rule: "sendgrid-api-key", secret: sendgridLive, calls: get, want: live},
		{name: "dead", rule: "sendgrid-api-key", secret: sendgridDead, calls: get,
			want: msgInvalid("sendgrid", "HTTP 401: the provider does not accept it")},
		{name: "rate limited twice", rule: "sendgrid-api-key", secret: sendgridLive, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v3/scopes", "GET /v3/scopes", "GET /v3/scopes"}, want: live},
		{name: "500", rule: "sendgrid-api-key", secret: sendgridLive, calls: get,
			serve: msgFailing("sendgrid", http.StatusInternalServerError, ``),
			want:  msgUnknown("sendgrid", "HTTP 500: the provider failed")},
		{name: "not SendGrid's answer", rule: "sendgrid-api-key", secret: sendgridLive, calls: get,
			serve: msgFailing("sendgrid", http.StatusOK, `{"result":[]}`),
			want:  msgUnknown("sendgrid", "unexpected answer: HTTP 200")},
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
	live := msgVerified("mailgun", "US region, 2 domains (mg.acme.example, ...)")
	// The Basic header holds "api:KEY", not the key: check it apart.
	runMessaging(t, "mailgun", serve, mailgunSent, []msgCase{
		{name: "live", rule: "mailgun-api-key", secret: mailgunUS, calls: get, want: live},
		{name: "dead", rule: "mailgun-api-key", secret: mailgunDead, calls: []string{"GET /v3/domains", "GET /v3/domains"},
			want: msgInvalid("mailgun", "HTTP 401 from the US and EU hosts: Mailgun does not accept the key")},
		{name: "rate limited twice", rule: "mailgun-api-key", secret: mailgunUS, limited: 2, waits: msgTwoWaits,
			calls: []string{"GET /v3/domains", "GET /v3/domains", "GET /v3/domains"}, want: live},
		{name: "500", rule: "mailgun-api-key", secret: mailgunUS, calls: get,
			serve: msgFailing("mailgun", http.StatusInternalServerError, ``),
			want:  msgUnknown("mailgun", "HTTP 500: the provider failed")},
		{name: "not Mailgun's answer", rule: "mailgun-api-key", secret: mailgunUS, calls: get,
			serve: msgFailing("mailgun", http.StatusOK, `[]`),
			want:  msgUnknown("mailgun", "unexpected answer: HTTP 200")},
	})
}

func mailgunSent(t *testing.T, c providertest.Call, secret string) {
	t.Helper()
	if got, want := c.Header.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("api:"+secret)); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
	h := c.Header.Clone()
	h.Del("Authorization")
	msgNotElsewhere(t, c, h, secret)
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
