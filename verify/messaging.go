package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/keysweep/keysweep/finding"
)

// slackDead are the auth.test errors that say the token itself is not
// valid; any other error (not_allowed_token_type, ekm_access_denied,
// ratelimited, ...) says nothing certain about it.
var slackDead = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}

// slackHook is an incoming webhook's URL: only its path is sent, to
// Slack's own hooks host.
var slackHook = regexp.MustCompile(`^https?://hooks\.slack\.com(/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})$`)

func slack() *Provider {
	return &Provider{
		Name:  "slack",
		Base:  "https://slack.com/api",
		Bases: map[string]string{"hooks": "https://hooks.slack.com"},
		Verifiers: []Verifier{
			{
				// auth.test takes bot, user and app-level tokens alike,
				// needs no scope and changes nothing.
				Rules: []string{"slack-token", "slack-app-token"},
				Calls: []string{"POST https://slack.com/api/auth.test"},
				// A refresh token (xoxr-) is only ever exchanged, with its
				// app's client secret: auth.test would refuse it, live or
				// not.
				Applies: func(f finding.Finding) bool { return !strings.HasPrefix(f.Secret, "xoxr-") },
				Check:   slackAuthTest,
			},
			{
				// Workflow and trigger webhooks (/workflows/, /triggers/)
				// start a workflow whatever they are sent: they are not
				// asked.
				Rules:   []string{"slack-webhook"},
				Calls:   []string{"POST https://hooks.slack.com/services/{team}/{bot}/{secret}"},
				Applies: func(f finding.Finding) bool { return slackHook.MatchString(f.Secret) },
				Check:   slackWebhook,
			},
		},
	}
}

func slackAuthTest(ctx context.Context, c *Caller, f finding.Finding) Result {
	resp, err := c.Do(ctx, Request{
		Method: http.MethodPost,
		Path:   "/auth.test",
		Header: http.Header{
			"Authorization": {"Bearer " + f.Secret},
			"Content-Type":  {"application/x-www-form-urlencoded"},
		},
		Body: []byte{},
	})
	if err != nil {
		return Unknown("%v", err)
	}
	if resp.Status != http.StatusOK {
		return ByStatus(resp, nil)
	}
	switch Field(resp, "ok") {
	case "true":
	case "false":
		code := messagingCode(Field(resp, "error"))
		if slices.Contains(slackDead, code) {
			return Invalid("slack: " + code)
		}
		if code == "" {
			return Unexpected(resp)
		}
		return Unknown("slack: %s", code)
	default:
		return Unexpected(resp)
	}
	var who []string
	if u := Field(resp, "user"); u != "" {
		who = append(who, "user "+nameAndID(u, Field(resp, "user_id")))
	} else if id := Field(resp, "user_id"); id != "" {
		who = append(who, "user "+id)
	}
	if a := Field(resp, "app_name"); a != "" {
		who = append(who, "app "+nameAndID(a, Field(resp, "app_id")))
	} else if id := Field(resp, "app_id"); id != "" {
		who = append(who, "app "+id)
	}
	if t := Field(resp, "team"); t != "" {
		who = append(who, "team "+nameAndID(t, Field(resp, "team_id")))
	} else if id := Field(resp, "team_id"); id != "" {
		who = append(who, "team "+id)
	}
	if e := Field(resp, "enterprise_id"); e != "" {
		who = append(who, "enterprise "+e)
	}
	var scopes []string
	for _, s := range strings.Split(resp.Header.Get("X-OAuth-Scopes"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	return Verified(strings.Join(who, ", "), scopes...)
}

// nameAndID is "name (id)", or name alone.
func nameAndID(name, id string) string {
	if id == "" {
		return name
	}
	return name + " (" + id + ")"
}

// slackWebhook posts to the webhook a message with no text. Slack refuses
// it before posting anything, and says why: a live webhook's refusal is
// about the payload, a dead one's about the webhook.
func slackWebhook(ctx context.Context, c *Caller, f finding.Finding) Result {
	m := slackHook.FindStringSubmatch(f.Secret)
	if m == nil {
		return Unknown("not an incoming webhook URL")
	}
	resp, err := c.Do(ctx, Request{
		Method: http.MethodPost,
		Path:   m[1],
		Base:   "hooks",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(`{}`),
	})
	if err != nil {
		return Unknown("%v", err)
	}
	// The body is one short code in plain text.
	code := messagingCode(strings.TrimSpace(string(resp.Body[:min(len(resp.Body), 100)])))
	switch {
	case resp.Status == http.StatusOK:
		// No message can be posted without text; an ok is no answer
		// about the webhook that can be trusted.
		return Unexpected(resp)
	case resp.Status == http.StatusBadRequest && (code == "no_text" || code == "invalid_payload" || code == "missing_text_or_fallback_or_attachments"):
		return Verified("incoming webhook of team " + strings.Split(m[1], "/")[2])
	case resp.Status == http.StatusBadRequest && code == "no_service_id",
		resp.Status == http.StatusForbidden && code == "invalid_token",
		resp.Status == http.StatusNotFound && (code == "no_service" || code == "no_team" || code == "team_disabled" || code == "channel_not_found"),
		resp.Status == http.StatusGone && code == "channel_is_archived":
		return Invalid(fmt.Sprintf("HTTP %d %s: the webhook cannot post", resp.Status, code))
	case resp.Status == http.StatusTooManyRequests || resp.Status >= 500 || resp.Status >= 300 && resp.Status < 400:
		return ByStatus(resp, nil)
	}
	if code != "" {
		return Unknown("HTTP %d %s", resp.Status, code)
	}
	return Unexpected(resp)
}

// messagingCode is s if it is an error code (a short word of lower-case
// letters, digits and underscores), else "": what a provider chose to
// say is repeated only when it is that.
func messagingCode(s string) string {
	if s == "" || len(s) > 60 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return ""
	}
	return s
}

// discordHook is a webhook's URL: its id and token go, in the path the
// API requires, to discord.com whichever host the URL names.
var discordHook = regexp.MustCompile(`^https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/([0-9]{17,20})/([A-Za-z0-9_-]{60,68})$`)

func discord() *Provider {
	return &Provider{
		Name: "discord",
		Base: "https://discord.com/api",
		Verifiers: []Verifier{{
			Rules:   []string{"discord-webhook"},
			Calls:   []string{"GET https://discord.com/api/v10/webhooks/{id}/{token}"},
			Applies: func(f finding.Finding) bool { return discordHook.MatchString(f.Secret) },
			Check:   discordWebhook,
		}},
	}
}

// discordWebhook gets the webhook with its token: a read that describes
// it and posts nothing.
func discordWebhook(ctx context.Context, c *Caller, f finding.Finding) Result {
	m := discordHook.FindStringSubmatch(f.Secret)
	if m == nil {
		return Unknown("not a webhook URL")
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v10/webhooks/" + m[1] + "/" + m[2]})
	if err != nil {
		return Unknown("%v", err)
	}
	switch resp.Status {
	case http.StatusOK:
		if Field(resp, "id") != m[1] || Field(resp, "channel_id") == "" {
			return Unexpected(resp)
		}
		id := "webhook " + nameAndID(Field(resp, "name"), m[1]) + ", channel " + Field(resp, "channel_id")
		if g := Field(resp, "guild_id"); g != "" {
			id += ", guild " + g
		}
		return Verified(id)
	case http.StatusUnauthorized, http.StatusNotFound:
		// Discord's own answers carry a JSON error code: 50027 Invalid
		// Webhook Token, 10015 Unknown Webhook. Any other 401 or 404 (a
		// proxy's, a page's) is no answer about the webhook.
		switch Field(resp, "code") {
		case "50027":
			return Invalid(fmt.Sprintf("HTTP %d: invalid webhook token", resp.Status))
		case "10015":
			return Invalid(fmt.Sprintf("HTTP %d: unknown webhook", resp.Status))
		case "":
			return Unexpected(resp)
		}
		if resp.Status == http.StatusUnauthorized {
			return Invalid("HTTP 401: Discord does not accept the token")
		}
		return Unexpected(resp)
	}
	return ByStatus(resp, nil)
}

// telegramToken is a bot token as the API takes it in its path.
var telegramToken = regexp.MustCompile(`^[0-9]{8,10}:AA[A-Za-z0-9_-]{33}$`)

func telegram() *Provider {
	return &Provider{
		Name: "telegram",
		Base: "https://api.telegram.org",
		Verifiers: []Verifier{{
			Rules: []string{"telegram-bot-token"},
			// The Bot API takes the token in the path, nowhere else.
			Calls:   []string{"GET https://api.telegram.org/bot{token}/getMe"},
			Applies: func(f finding.Finding) bool { return telegramToken.MatchString(f.Secret) },
			Check:   telegramGetMe,
		}},
	}
}

func telegramGetMe(ctx context.Context, c *Caller, f finding.Finding) Result {
	if !telegramToken.MatchString(f.Secret) {
		return Unknown("not a bot token")
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/bot" + f.Secret + "/getMe"})
	if err != nil {
		return Unknown("%v", err)
	}
	switch resp.Status {
	case http.StatusOK:
		var body struct {
			OK     bool `json:"ok"`
			Result *struct {
				IsBot     bool   `json:"is_bot"`
				Username  string `json:"username"`
				FirstName string `json:"first_name"`
			} `json:"result"`
		}
		if json.Unmarshal(resp.Body, &body) != nil || !body.OK || body.Result == nil || !body.Result.IsBot {
			return Unexpected(resp)
		}
		id := "bot"
		if u := Clean(body.Result.Username, 64); u != "" {
			id += " @" + u
		}
		if n := Clean(body.Result.FirstName, 64); n != "" {
			id += " (" + n + ")"
		}
		return Verified(id)
	case http.StatusUnauthorized, http.StatusNotFound:
		// 401 for a token Telegram does not know, 404 for one it cannot
		// even read; both come with ok:false.
		if Field(resp, "ok") != "false" {
			return Unexpected(resp)
		}
		return Invalid(fmt.Sprintf("HTTP %d: Telegram does not accept the token", resp.Status))
	}
	return ByStatus(resp, nil)
}
