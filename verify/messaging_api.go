package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/keysweep/keysweep/finding"
)

func openai() *Provider {
	return &Provider{
		Name: "openai",
		Base: "https://api.openai.com",
		Verifiers: []Verifier{{
			Rules: []string{"openai-api-key"},
			Calls: []string{"GET https://api.openai.com/v1/models"},
			Check: openaiModels,
		}},
	}
}

// openaiModels lists the models the key may use: a read that costs
// nothing.
func openaiModels(ctx context.Context, c *Caller, f finding.Finding) Result {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/models", Header: http.Header{"Authorization": {"Bearer " + f.Secret}}})
	if err != nil {
		return Unknown("%v", err)
	}
	org := ""
	if o := Clean(resp.Header.Get("Openai-Organization"), 100); o != "" {
		org = "organization " + o
	}
	msg := Field(resp, "error.message")
	switch resp.Status {
	case http.StatusOK:
		if Field(resp, "object") != "list" {
			return Unexpected(resp)
		}
		return Verified(org)
	case http.StatusUnauthorized:
		// A restricted key without the models scope is refused with 401
		// too, but says it lacks a scope: the key itself was accepted.
		if strings.Contains(msg, "insufficient permissions") || strings.Contains(msg, "Missing scopes") {
			return Verified(strings.TrimPrefix(org+", restricted key: may not list models", ", "))
		}
		if code := messagingCode(Field(resp, "error.code")); code != "" {
			return Invalid("HTTP 401: " + code)
		}
		return Invalid("HTTP 401: OpenAI does not accept the key")
	case http.StatusTooManyRequests:
		// Out of credit is a live key with nothing to spend.
		if Field(resp, "error.code") == "insufficient_quota" || Field(resp, "error.type") == "insufficient_quota" {
			return Verified(strings.TrimPrefix(org+", out of credit (insufficient_quota)", ", "))
		}
	}
	return ByStatus(resp, nil)
}

func anthropic() *Provider {
	return &Provider{
		Name: "anthropic",
		Base: "https://api.anthropic.com",
		Verifiers: []Verifier{{
			Rules: []string{"anthropic-api-key"},
			// An API key lists models; an Admin API key (sk-ant-admin01-)
			// reads its organization instead.
			Calls: []string{"GET https://api.anthropic.com/v1/models", "GET https://api.anthropic.com/v1/organizations/me"},
			Check: anthropicCheck,
		}},
	}
}

func anthropicCheck(ctx context.Context, c *Caller, f finding.Finding) Result {
	admin := strings.HasPrefix(f.Secret, "sk-ant-admin")
	path := "/v1/models?limit=1"
	if admin {
		path = "/v1/organizations/me"
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Header: http.Header{
		"X-Api-Key":         {f.Secret},
		"Anthropic-Version": {"2023-06-01"},
	}})
	if err != nil {
		return Unknown("%v", err)
	}
	org := ""
	if o := Clean(resp.Header.Get("Anthropic-Organization-Id"), 100); o != "" {
		org = "organization " + o
	}
	kind := Field(resp, "error.type")
	switch resp.Status {
	case http.StatusOK:
		if admin {
			if Field(resp, "type") != "organization" || Field(resp, "id") == "" {
				return Unexpected(resp)
			}
			return Verified("admin key of organization " + nameAndID(Field(resp, "name"), Field(resp, "id")))
		}
		var list struct {
			Data *[]json.RawMessage `json:"data"`
		}
		if json.Unmarshal(resp.Body, &list) != nil || list.Data == nil {
			return Unexpected(resp)
		}
		return Verified(org)
	case http.StatusUnauthorized:
		if kind != "authentication_error" {
			return Unexpected(resp)
		}
		return Invalid("HTTP 401: authentication_error")
	case http.StatusForbidden:
		// The key authenticated, but may not do this.
		if kind != "permission_error" {
			return Unexpected(resp)
		}
		return Verified(strings.TrimPrefix(org+", permission_error: may not read this", ", "))
	}
	return ByStatus(resp, nil)
}

func sendgrid() *Provider {
	return &Provider{
		Name: "sendgrid",
		Base: "https://api.sendgrid.com",
		Verifiers: []Verifier{{
			Rules: []string{"sendgrid-api-key"},
			Calls: []string{"GET https://api.sendgrid.com/v3/scopes"},
			Check: sendgridScopes,
		}},
	}
}

// sendgridScopes asks for the key's own scopes, which any key may read.
func sendgridScopes(ctx context.Context, c *Caller, f finding.Finding) Result {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v3/scopes", Header: http.Header{"Authorization": {"Bearer " + f.Secret}}})
	if err != nil {
		return Unknown("%v", err)
	}
	switch resp.Status {
	case http.StatusOK:
		var body struct {
			Scopes *[]string `json:"scopes"`
		}
		if json.Unmarshal(resp.Body, &body) != nil || body.Scopes == nil {
			return Unexpected(resp)
		}
		return Verified(fmt.Sprintf("API key with %d scopes", len(*body.Scopes)), *body.Scopes...)
	case http.StatusForbidden:
		// SendGrid's 403 is an authenticated key without the permission.
		return Verified("API key, not allowed to read its scopes (HTTP 403)")
	}
	return ByStatus(resp, nil)
}

func mailgun() *Provider {
	return &Provider{
		Name:  "mailgun",
		Base:  "https://api.mailgun.net",
		Bases: map[string]string{"eu": "https://api.eu.mailgun.net"},
		Verifiers: []Verifier{{
			Rules: []string{"mailgun-api-key"},
			// The EU host is asked only when the US one refuses the key.
			Calls: []string{"GET https://api.mailgun.net/v3/domains?limit=1", "GET https://api.eu.mailgun.net/v3/domains?limit=1"},
			Check: mailgunDomains,
		}},
	}
}

func mailgunDomains(ctx context.Context, c *Caller, f finding.Finding) Result {
	var resp *Response
	region := ""
	for _, base := range []string{"", "eu"} {
		r, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v3/domains?limit=1", Base: base, Header: http.Header{
			"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("api:"+f.Secret))},
		}})
		if err != nil {
			return Unknown("%v", err)
		}
		resp, region = r, map[string]string{"": "US", "eu": "EU"}[base]
		if r.Status != http.StatusUnauthorized {
			break
		}
	}
	switch resp.Status {
	case http.StatusOK:
		var body struct {
			Total *int `json:"total_count"`
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		}
		if json.Unmarshal(resp.Body, &body) != nil || body.Total == nil {
			return Unexpected(resp)
		}
		id := fmt.Sprintf("%s region, %d domains", region, *body.Total)
		if *body.Total == 1 {
			id = region + " region, 1 domain"
		}
		if len(body.Items) > 0 && body.Items[0].Name != "" {
			id += " (" + Clean(body.Items[0].Name, 100) + ", ...)"
		}
		return Verified(id)
	case http.StatusUnauthorized:
		return Invalid("HTTP 401 from the US and EU hosts: Mailgun does not accept the key")
	case http.StatusForbidden:
		// Mailgun's 403 is a valid key without access to the domains
		// (a domain sending key, for one).
		return Verified(region + " region, not allowed to list domains (HTTP 403)")
	}
	return ByStatus(resp, nil)
}

func twilio() *Provider {
	return &Provider{
		Name: "twilio",
		Base: "https://api.twilio.com",
		Unverified: map[string]string{
			"twilio-api-key": "the rule finds only the API key's SID (SK...); Twilio's API needs its secret and the account SID too",
		},
	}
}
