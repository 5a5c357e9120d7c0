package providertest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// This file holds the stand-ins of chat, email and AI services: Slack,
// Discord, Telegram, OpenAI, Anthropic, SendGrid and Mailgun. Each method
// registers its provider's handler and may be called once per Server.

func msgText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// msgBearer is the token of an "Authorization: Bearer" header, "" when
// there is none or the scheme is another.
func msgBearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// SlackToken is what auth.test says of a token: its identity, its
// scopes (the X-OAuth-Scopes header), or, when Error is set, the error
// it answers with ok:false (token_revoked, account_inactive, ...).
type SlackToken struct {
	User, UserID, Team, TeamID, AppID string
	Scopes                            []string
	Error                             string
}

// Slack serves auth.test (below /auth.test, as below slack.com/api) for
// tokens, and incoming webhooks (below /services/, as below
// hooks.slack.com) for hooks: by webhook path (/services/T.../B.../X),
// "" for a live webhook, or the error a dead one answers with
// (channel_is_archived, no_team, ...). Any other token is invalid_auth;
// any other webhook path no_service, or invalid_token when its team and
// service are a known webhook's.
func (s *Server) Slack(tokens map[string]SlackToken, hooks map[string]string) {
	s.Handle("slack", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/auth.test":
			slackAuthTest(w, r, tokens)
		case strings.HasPrefix(r.URL.Path, "/services/"):
			slackHook(w, r, hooks)
		default:
			// Slack answers an unknown method 200 with ok:false.
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "unknown_method"})
		}
	})
}

func slackAuthTest(w http.ResponseWriter, r *http.Request, tokens map[string]SlackToken) {
	token := msgBearer(r)
	if token == "" {
		_ = r.ParseForm()
		token = r.PostForm.Get("token")
	}
	if token == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	t, ok := tokens[token]
	switch {
	case !ok:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
	case t.Error != "":
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": t.Error})
	default:
		w.Header().Set("X-OAuth-Scopes", strings.Join(t.Scopes, ","))
		body := map[string]any{"ok": true, "url": "https://" + strings.ToLower(strings.ReplaceAll(t.Team, " ", "")) + ".slack.com/", "team": t.Team, "team_id": t.TeamID}
		if t.User != "" {
			body["user"], body["user_id"] = t.User, t.UserID
		}
		if t.AppID != "" {
			body["app_id"] = t.AppID
		}
		writeJSON(w, http.StatusOK, body)
	}
}

func slackHook(w http.ResponseWriter, r *http.Request, hooks map[string]string) {
	if r.Method != http.MethodPost {
		msgText(w, http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	dead, ok := hooks[r.URL.Path]
	if !ok {
		parts := strings.Split(r.URL.Path, "/") // "", services, T, B, secret
		for path := range hooks {
			if p := strings.Split(path, "/"); len(parts) == 5 && len(p) == 5 && p[2] == parts[2] && p[3] == parts[3] {
				msgText(w, http.StatusForbidden, "invalid_token")
				return
			}
		}
		msgText(w, http.StatusNotFound, "no_service")
		return
	}
	status := map[string]int{"channel_is_archived": http.StatusGone, "no_team": http.StatusNotFound, "team_disabled": http.StatusNotFound,
		"channel_not_found": http.StatusNotFound, "action_prohibited": http.StatusForbidden, "invalid_token": http.StatusForbidden}
	if dead != "" {
		msgText(w, cmp.Or(status[dead], http.StatusBadRequest), dead)
		return
	}
	var msg map[string]any
	body, _ := io.ReadAll(r.Body)
	if strings.Contains(r.Header.Get("Content-Type"), "json") {
		if json.Unmarshal(body, &msg) != nil {
			msgText(w, http.StatusBadRequest, "invalid_payload")
			return
		}
	} else {
		_ = r.ParseForm()
		if json.Unmarshal([]byte(r.PostForm.Get("payload")), &msg) != nil {
			msgText(w, http.StatusBadRequest, "invalid_payload")
			return
		}
	}
	if text, _ := msg["text"].(string); text == "" && msg["blocks"] == nil && msg["attachments"] == nil {
		msgText(w, http.StatusBadRequest, "no_text")
		return
	}
	// A message with text would be posted: a verifier must never get
	// here, and the test that sees "ok" says so.
	msgText(w, http.StatusOK, "ok")
}

// DiscordWebhook is a webhook Discord knows, by id.
type DiscordWebhook struct {
	Token, Name, ChannelID, GuildID string
}

// Discord serves GET /v10/webhooks/{id}/{token} (as below
// discord.com/api) for hooks, by id: an unknown id is 404 Unknown
// Webhook (10015), a wrong token 401 Invalid Webhook Token (50027).
func (s *Server) Discord(hooks map[string]DiscordWebhook) {
	s.Handle("discord", func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) != 4 || parts[0] != "v10" || parts[1] != "webhooks" {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
			return
		}
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "405: Method Not Allowed", "code": 0})
			return
		}
		h, ok := hooks[parts[2]]
		switch {
		case !ok:
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Webhook", "code": 10015})
		case h.Token != parts[3]:
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid Webhook Token", "code": 50027})
		default:
			writeJSON(w, http.StatusOK, map[string]any{
				"application_id": nil, "avatar": nil, "channel_id": h.ChannelID, "guild_id": h.GuildID,
				"id": parts[2], "name": h.Name, "type": 1, "token": h.Token,
			})
		}
	})
}

// TelegramBot is a bot Telegram knows, by token.
type TelegramBot struct {
	ID                  int64
	Username, FirstName string
}

// Telegram serves /bot{token}/getMe for bots: an unknown token is 401
// Unauthorized, a path that holds no token 404 Not Found.
func (s *Server) Telegram(bots map[string]TelegramBot) {
	s.Handle("telegram", func(w http.ResponseWriter, r *http.Request) {
		token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
		if !ok || !strings.HasPrefix(r.URL.Path, "/bot") || !strings.Contains(token, ":") {
			writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
			return
		}
		b, known := bots[token]
		if !known {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
			return
		}
		if method != "getMe" {
			writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
			"id": b.ID, "is_bot": true, "first_name": b.FirstName, "username": b.Username,
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
		}})
	})
}

// OpenAIKey is a key OpenAI knows: its organization, and whether it is a
// restricted key without the models scope or an account out of credit.
type OpenAIKey struct {
	Organization  string
	MissingScopes bool
	NoQuota       bool
}

// OpenAI serves GET /v1/models for keys (Bearer).
func (s *Server) OpenAI(keys map[string]OpenAIKey) {
	s.Handle("openai", func(w http.ResponseWriter, r *http.Request) {
		openaiError := func(status int, msg, typ string, code any) {
			writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
		}
		if r.URL.Path != "/v1/models" {
			openaiError(http.StatusNotFound, "Invalid URL ("+r.Method+" "+r.URL.Path+")", "invalid_request_error", nil)
			return
		}
		token := msgBearer(r)
		if token == "" {
			openaiError(http.StatusUnauthorized, "You didn't provide an API key.", "invalid_request_error", nil)
			return
		}
		k, ok := keys[token]
		if !ok {
			openaiError(http.StatusUnauthorized, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key")
			return
		}
		if k.Organization != "" {
			w.Header().Set("Openai-Organization", k.Organization)
		}
		switch {
		case k.MissingScopes:
			openaiError(http.StatusUnauthorized, "You have insufficient permissions for this operation. Missing scopes: api.model.read.", "invalid_request_error", nil)
		case k.NoQuota:
			openaiError(http.StatusTooManyRequests, "You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", "insufficient_quota")
		default:
			writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{
				map[string]any{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
			}})
		}
	})
}

// AnthropicKey is a key Anthropic knows. An admin key
// (sk-ant-admin01-) reads /v1/organizations/me, any other /v1/models;
// Forbidden answers 403 permission_error.
type AnthropicKey struct {
	OrganizationID, OrganizationName string
	Forbidden                        bool
}

// Anthropic serves GET /v1/models and GET /v1/organizations/me for keys
// (x-api-key, with anthropic-version).
func (s *Server) Anthropic(keys map[string]AnthropicKey) {
	s.Handle("anthropic", func(w http.ResponseWriter, r *http.Request) {
		anthropicError := func(status int, typ, msg string) {
			writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
		}
		if r.URL.Path != "/v1/models" && r.URL.Path != "/v1/organizations/me" {
			anthropicError(http.StatusNotFound, "not_found_error", "Not Found")
			return
		}
		if r.Header.Get("Anthropic-Version") == "" {
			anthropicError(http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
			return
		}
		key := r.Header.Get("X-Api-Key")
		k, ok := keys[key]
		admin := strings.HasPrefix(key, "sk-ant-admin")
		if !ok || admin != (r.URL.Path == "/v1/organizations/me") {
			anthropicError(http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
			return
		}
		w.Header().Set("Anthropic-Organization-Id", k.OrganizationID)
		switch {
		case k.Forbidden:
			anthropicError(http.StatusForbidden, "permission_error", "Your API key does not have permission to use the specified resource.")
		case admin:
			writeJSON(w, http.StatusOK, map[string]any{"id": k.OrganizationID, "name": k.OrganizationName, "type": "organization"})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"data": []any{
				map[string]any{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
			}, "has_more": true, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"})
		}
	})
}

// SendGrid serves GET /v3/scopes for keys (Bearer), by key: its scopes.
func (s *Server) SendGrid(keys map[string][]string) {
	s.Handle("sendgrid", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/scopes" {
			writeJSON(w, http.StatusNotFound, map[string]any{"errors": []any{map[string]any{"field": nil, "message": "resource not found"}}})
			return
		}
		scopes, ok := keys[msgBearer(r)]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []any{map[string]any{"field": nil, "message": "authorization required"}}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"scopes": scopes})
	})
}

// MailgunAccount is an account Mailgun knows, by key: its region ("us"
// or "eu") and its domains.
type MailgunAccount struct {
	Region  string
	Domains []string
}

// Mailgun serves GET /v3/domains (basic auth, user "api") for accounts:
// the US host's stand-in below Base("mailgun"), the EU host's below
// Base("mailgun-eu"), each knowing only its region's keys. An unknown
// key is 401 "Forbidden", as Mailgun answers.
func (s *Server) Mailgun(accounts map[string]MailgunAccount) {
	for provider, region := range map[string]string{"mailgun": "us", "mailgun-eu": "eu"} {
		s.Handle(provider, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v3/domains" {
				writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
				return
			}
			user, key, ok := r.BasicAuth()
			a, known := accounts[key]
			if !ok || user != "api" || !known || a.Region != region {
				msgText(w, http.StatusUnauthorized, "Forbidden")
				return
			}
			var items []any
			for i, d := range a.Domains {
				if i >= msgQueryInt(r, "limit", 100) {
					break
				}
				items = append(items, map[string]any{"name": d, "state": "active", "type": "custom", "created_at": "Thu, 13 Oct 2011 18:02:00 GMT"})
			}
			writeJSON(w, http.StatusOK, map[string]any{"total_count": len(a.Domains), "items": items})
		})
	}
}

func msgQueryInt(r *http.Request, name string, fallback int) int {
	var n int
	if _, err := fmt.Sscan(r.URL.Query().Get(name), &n); err != nil || n <= 0 {
		return fallback
	}
	return n
}
