package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/keysweep/keysweep/finding"
)

// cloudBearer is an Authorization header with secret as a bearer token.
func cloudBearer(secret string) http.Header {
	return http.Header{"Authorization": {"Bearer " + secret}}
}

// cloudDecode reads a JSON answer into v, reporting whether it parsed.
func cloudDecode(resp *Response, v any) bool {
	return json.Unmarshal(resp.Body, v) == nil
}

// cloudJoin joins the non-empty parts of an identity, cleaned.
func cloudJoin(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = Clean(p, 120); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

const stripeBase = "https://api.stripe.com"

// stripeAccountRe finds the account a Stripe permission error names.
var stripeAccountRe = regexp.MustCompile(`acct_[A-Za-z0-9]{1,64}`)

// stripe reads the key's own account: a live secret key sees it, a
// restricted key without the permission is refused with a 403 that names
// the account, which shows the key is live.
func stripe() *Provider {
	return &Provider{
		Name: "stripe",
		Base: stripeBase,
		Verifiers: []Verifier{{
			Rules: []string{"stripe-live-key"},
			Calls: []string{"GET " + stripeBase + "/v1/account"},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/account", Header: cloudBearer(f.Secret)})
				if err != nil {
					return Unknown("%v", err)
				}
				return stripeResult(resp)
			},
		}},
		Unverified: map[string]string{
			"stripe-webhook-secret": "a webhook signing secret is never sent to Stripe: no request can check it",
		},
	}
}

func stripeResult(resp *Response) Result {
	var body struct {
		ID       string `json:"id"`
		Object   string `json:"object"`
		Email    string `json:"email"`
		Settings struct {
			Dashboard struct {
				DisplayName string `json:"display_name"`
			} `json:"dashboard"`
		} `json:"settings"`
		Error *struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	ok := cloudDecode(resp, &body)
	switch resp.Status {
	case http.StatusOK:
		if !ok || body.Object != "account" || !strings.HasPrefix(body.ID, "acct_") {
			return Unexpected(resp)
		}
		return Verified(cloudJoin("account "+body.ID, body.Settings.Dashboard.DisplayName, body.Email))
	case http.StatusForbidden:
		// A restricted key that lacks the permission: Stripe names the
		// account and the permission it would need.
		if !ok || body.Error == nil || !strings.Contains(body.Error.Message, "permission") {
			return Unexpected(resp)
		}
		id := "restricted key"
		if acct := stripeAccountRe.FindString(body.Error.Message); acct != "" {
			id += " of account " + acct
		}
		return Verified(id + " (cannot read the account)")
	}
	return ByStatus(resp, nil)
}

// shopify has no verifier: its API is the shop's own host.
func shopify() *Provider {
	return &Provider{
		Name: "shopify",
		Unverified: map[string]string{
			"shopify-token": "the Admin API is at the shop's own domain (SHOP.myshopify.com), which the rule does not find",
		},
	}
}

const googleBase = "https://generativelanguage.googleapis.com"

// google lists the Generative Language API's models, which is free: a
// live key is answered, or refused for a reason that shows it exists
// (the API is off in its project, or the key is restricted).
func google() *Provider {
	return &Provider{
		Name: "google",
		Base: googleBase,
		Verifiers: []Verifier{{
			Rules: []string{"google-api-key"},
			Calls: []string{"GET " + googleBase + "/v1beta/models?pageSize=1"},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				resp, err := c.Do(ctx, Request{
					Method: http.MethodGet, Path: "/v1beta/models?pageSize=1",
					Header: http.Header{"X-Goog-Api-Key": {f.Secret}},
				})
				if err != nil {
					return Unknown("%v", err)
				}
				return googleResult(resp)
			},
		}},
		Unverified: map[string]string{
			"google-oauth-client-secret": "a client secret is checked only with its client id, which the rule does not find",
			"google-oauth-refresh-token": "a refresh token is exchanged only with its client id and secret, which the rule does not find",
			"google-oauth-access-token":  "an access token lives an hour; not checked",
		},
	}
}

// googleLive are the reasons Google gives for refusing a key that
// exists, and what each says of it.
var googleLive = map[string]string{
	"SERVICE_DISABLED":              "the Generative Language API is off in its project",
	"BILLING_DISABLED":              "billing is off in its project",
	"API_KEY_SERVICE_BLOCKED":       "restricted to other APIs",
	"API_KEY_HTTP_REFERRER_BLOCKED": "restricted to some websites",
	"API_KEY_IP_ADDRESS_BLOCKED":    "restricted to some IP addresses",
	"API_KEY_ANDROID_APP_BLOCKED":   "restricted to some Android apps",
	"API_KEY_IOS_APP_BLOCKED":       "restricted to some iOS apps",
}

// googleProjectRe is the project number of an error's consumer.
var googleProjectRe = regexp.MustCompile(`^projects/([0-9]{1,20})$`)

func googleResult(resp *Response) Result {
	var body struct {
		Models []json.RawMessage `json:"models"`
		Error  *struct {
			Status  string `json:"status"`
			Details []struct {
				Type     string            `json:"@type"`
				Reason   string            `json:"reason"`
				Domain   string            `json:"domain"`
				Metadata map[string]string `json:"metadata"`
			} `json:"details"`
		} `json:"error"`
	}
	ok := cloudDecode(resp, &body)
	if resp.Status == http.StatusOK {
		if !ok || body.Models == nil {
			return Unexpected(resp)
		}
		return Verified("Generative Language API enabled")
	}
	if resp.Status != http.StatusBadRequest && resp.Status != http.StatusForbidden || !ok || body.Error == nil {
		return ByStatus(resp, nil)
	}
	for _, d := range body.Error.Details {
		if !strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") || d.Domain != "googleapis.com" {
			continue
		}
		switch {
		case d.Reason == "API_KEY_INVALID" && resp.Status == http.StatusBadRequest:
			return Invalid("HTTP 400 API_KEY_INVALID: Google does not accept the key (unknown or expired)")
		case googleLive[d.Reason] != "" && resp.Status == http.StatusForbidden:
			id := "key " + googleLive[d.Reason]
			if m := googleProjectRe.FindStringSubmatch(d.Metadata["consumer"]); m != nil {
				id = "project " + m[1] + ": " + id
			}
			return Verified(id)
		case d.Reason != "":
			return Unknown("HTTP %d %s: no answer about the key", resp.Status, Clean(d.Reason, 60))
		}
	}
	return Unexpected(resp)
}

const digitaloceanBase = "https://api.digitalocean.com"

// digitalocean reads the token's account. A refresh token (dor_v1_) is
// not an API token, and exchanging it would spend it: it is not checked.
func digitalocean() *Provider {
	return &Provider{
		Name: "digitalocean",
		Base: digitaloceanBase,
		Verifiers: []Verifier{{
			Rules: []string{"digitalocean-token"},
			Calls: []string{"GET " + digitaloceanBase + "/v2/account"},
			Applies: func(f finding.Finding) bool {
				return strings.HasPrefix(f.Secret, "dop_v1_") || strings.HasPrefix(f.Secret, "doo_v1_")
			},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v2/account", Header: cloudBearer(f.Secret)})
				if err != nil {
					return Unknown("%v", err)
				}
				return digitaloceanResult(resp)
			},
		}},
	}
}

func digitaloceanResult(resp *Response) Result {
	var body struct {
		Account *struct {
			Email  string `json:"email"`
			UUID   string `json:"uuid"`
			Status string `json:"status"`
			Team   *struct {
				Name string `json:"name"`
			} `json:"team"`
		} `json:"account"`
		ID string `json:"id"`
	}
	ok := cloudDecode(resp, &body)
	switch resp.Status {
	case http.StatusOK:
		if !ok || body.Account == nil || body.Account.UUID == "" {
			return Unexpected(resp)
		}
		a := body.Account
		team := ""
		if a.Team != nil && a.Team.Name != "" {
			team = "team " + a.Team.Name
		}
		return Verified(cloudJoin("email "+a.Email, "uuid "+a.UUID, team))
	case http.StatusForbidden:
		// Authenticated, but a token of custom scopes without
		// account:read may not see the account.
		if !ok || !strings.EqualFold(body.ID, "forbidden") {
			return Unexpected(resp)
		}
		return Verified("scoped token without account:read")
	}
	return ByStatus(resp, nil)
}

const herokuBase = "https://api.heroku.com"

// heroku reads the key's account with the Platform API, version 3.
func heroku() *Provider {
	return &Provider{
		Name: "heroku",
		Base: herokuBase,
		Verifiers: []Verifier{{
			Rules: []string{"heroku-api-key"},
			Calls: []string{"GET " + herokuBase + "/account"},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				h := cloudBearer(f.Secret)
				h.Set("Accept", "application/vnd.heroku+json; version=3")
				resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/account", Header: h})
				if err != nil {
					return Unknown("%v", err)
				}
				var body struct {
					Email string `json:"email"`
					ID    string `json:"id"`
				}
				if resp.Status == http.StatusOK && (!cloudDecode(resp, &body) || body.ID == "") {
					return Unexpected(resp)
				}
				return ByStatus(resp, func(*Response) string { return cloudJoin("email "+body.Email, "id "+body.ID) })
			},
		}},
	}
}

// datadog has no rule in the catalog yet, so nothing to verify.
func datadog() *Provider { return &Provider{Name: "datadog"} }

const (
	newrelicBase   = "https://api.newrelic.com"
	newrelicEUBase = "https://api.eu.newrelic.com"
)

// newrelicQuery reads the key's user, and changes nothing.
const newrelicQuery = `{"query":"{ actor { user { name email } } }"}`

// newrelic asks NerdGraph who the user key is. A key is regional: one
// the US region refuses is asked of the EU region before it is called
// invalid. Insert keys (NRII-) only write data: they are not checked.
func newrelic() *Provider {
	return &Provider{
		Name:  "newrelic",
		Base:  newrelicBase,
		Bases: map[string]string{"eu": newrelicEUBase},
		Verifiers: []Verifier{{
			Rules: []string{"newrelic-api-key"},
			Calls: []string{"POST " + newrelicBase + "/graphql", "POST " + newrelicEUBase + "/graphql"},
			Applies: func(f finding.Finding) bool {
				return strings.HasPrefix(f.Secret, "NRAK-")
			},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				var r Result
				for _, base := range []string{"", "eu"} {
					resp, err := c.Do(ctx, Request{
						Method: http.MethodPost, Path: "/graphql", Base: base, Body: []byte(newrelicQuery),
						Header: http.Header{"Api-Key": {f.Secret}, "Content-Type": {"application/json"}},
					})
					if err != nil {
						return Unknown("%v", err)
					}
					r = newrelicResult(resp)
					if r.Status != finding.StatusInvalid {
						if base == "eu" && r.Status == finding.StatusVerified {
							r.Identity = cloudJoin(r.Identity, "EU region")
						}
						return r
					}
				}
				r.Error += " (US and EU regions)"
				return r
			},
		}},
	}
}

func newrelicResult(resp *Response) Result {
	var body struct {
		Data *struct {
			Actor *struct {
				User *struct {
					Name  string `json:"name"`
					Email string `json:"email"`
				} `json:"user"`
			} `json:"actor"`
		} `json:"data"`
	}
	if resp.Status != http.StatusOK {
		return ByStatus(resp, nil)
	}
	if !cloudDecode(resp, &body) || body.Data == nil || body.Data.Actor == nil || body.Data.Actor.User == nil || body.Data.Actor.User.Email == "" {
		return Unexpected(resp)
	}
	u := body.Data.Actor.User
	return Verified(cloudJoin("user "+u.Email, u.Name))
}

const sentryBase = "https://sentry.io"

// sentry asks the API's root, which says who the token authenticates
// and its scopes, or answers 401.
func sentry() *Provider {
	return &Provider{
		Name: "sentry",
		Base: sentryBase,
		Verifiers: []Verifier{{
			Rules: []string{"sentry-org-token", "sentry-user-token"},
			Calls: []string{"GET " + sentryBase + "/api/0/"},
			Check: func(ctx context.Context, c *Caller, f finding.Finding) Result {
				// An organization token names its Sentry: one of a
				// self-hosted Sentry goes there only if the user names it.
				if host := sentryTokenHost(f.Secret); host != "" && !c.Overridden() && host != "sentry.io" && !strings.HasSuffix(host, ".sentry.io") {
					return Unknown("a token of the Sentry at %s: name it with --verify-endpoint sentry=URL to check it", Clean(host, 100))
				}
				resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/api/0/", Header: cloudBearer(f.Secret)})
				if err != nil {
					return Unknown("%v", err)
				}
				return sentryResult(resp)
			},
		}},
	}
}

// sentryTokenHost is the host an organization token (sntrys_PAYLOAD_KEY,
// PAYLOAD base64 JSON) names in its "url", "" when it names none.
func sentryTokenHost(secret string) string {
	rest, ok := strings.CutPrefix(secret, "sntrys_")
	if !ok {
		return ""
	}
	payload, _, _ := strings.Cut(rest, "_")
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(payload, "=")); err != nil {
			return ""
		}
	}
	var p struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(raw, &p) != nil || p.URL == "" {
		return ""
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func sentryResult(resp *Response) Result {
	var body struct {
		Version string `json:"version"`
		Auth    *struct {
			Scopes []string `json:"scopes"`
		} `json:"auth"`
		User *struct {
			Username string `json:"username"`
			Email    string `json:"email"`
		} `json:"user"`
	}
	if resp.Status != http.StatusOK {
		return ByStatus(resp, nil)
	}
	// Without auth, the root answers too: "auth" null says the token
	// was not taken, which is no answer about it.
	if !cloudDecode(resp, &body) || body.Version == "" || body.Auth == nil {
		return Unexpected(resp)
	}
	id := "organization token"
	if u := body.User; u != nil {
		id = cloudJoin("user "+u.Username, u.Email)
	}
	return Verified(id, body.Auth.Scopes...)
}
