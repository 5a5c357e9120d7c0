package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
)

// This file holds the verifiers of source hosts and package registries:
// GitHub, GitLab, npm, PyPI, Docker Hub and Hugging Face.

func github() *Provider {
	return &Provider{
		Name: "github",
		// A GitHub Enterprise Server is its API root as an override
		// (https://ghe.example.com/api/v3): the paths are relative to it.
		Base: "https://api.github.com",
		Verifiers: []Verifier{{
			Rules: []string{"github-token", "github-fine-grained-token"},
			// A user's token (ghp_, gho_, ghu_, github_pat_) reads its
			// user; an installation token (ghs_) has none, and lists one
			// repository it may read instead.
			Calls: []string{"GET https://api.github.com/user", "GET https://api.github.com/installation/repositories?per_page=1"},
			// A refresh token (ghr_) is accepted only by the request that
			// trades it for a new token, and that request revokes it.
			Applies: func(f finding.Finding) bool { return !strings.HasPrefix(f.Secret, "ghr_") },
			Check:   githubCheck,
		}},
	}
}

func githubCheck(ctx context.Context, c *Caller, f finding.Finding) Result {
	installation := strings.HasPrefix(f.Secret, "ghs_")
	path := "/user"
	if installation {
		path = "/installation/repositories?per_page=1"
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Header: http.Header{
		"Authorization":        {"Bearer " + f.Secret},
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {"2022-11-28"},
	}})
	if err != nil {
		return Unknown("%v", err)
	}
	switch resp.Status {
	case http.StatusOK:
		if installation {
			return githubInstallation(resp)
		}
		login := Field(resp, "login")
		if login == "" {
			return Unexpected(resp)
		}
		// Classic tokens name their scopes; fine-grained and app tokens
		// send no header.
		var scopes []string
		for _, s := range strings.Split(resp.Header.Get("X-Oauth-Scopes"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		return Verified("login "+login, scopes...)
	case http.StatusForbidden, http.StatusTooManyRequests:
		// GitHub answers a spent rate limit with 403 or 429, and a
		// secondary limit with Retry-After.
		if resp.Header.Get("X-Ratelimit-Remaining") == "0" || resp.Header.Get("Retry-After") != "" {
			return Unknown("rate limited by GitHub (HTTP %d)", resp.Status)
		}
		if resp.Status == http.StatusForbidden {
			// 401 is GitHub's answer to a bad token; a 403 here (a
			// suspended account or installation) says nothing certain.
			return Unknown("HTTP 403: GitHub refused the request without calling the token invalid")
		}
	}
	return ByStatus(resp, nil)
}

// githubInstallation reads what an installation token may reach.
func githubInstallation(resp *Response) Result {
	var body struct {
		TotalCount   *int `json:"total_count"`
		Repositories []struct {
			FullName string `json:"full_name"`
			Owner    struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repositories"`
	}
	if json.Unmarshal(resp.Body, &body) != nil || body.TotalCount == nil {
		return Unexpected(resp)
	}
	id := fmt.Sprintf("installation token: %d repositories", *body.TotalCount)
	if len(body.Repositories) > 0 {
		r := body.Repositories[0]
		id = fmt.Sprintf("installation token of %s: %d repositories (%s, ...)", Clean(r.Owner.Login, 60), *body.TotalCount, Clean(r.FullName, 100))
	}
	return Verified(id)
}

func gitlab() *Provider {
	return &Provider{
		Name: "gitlab",
		// A GitLab of one's own is its root as an override
		// (https://gitlab.example.com): the paths start at /api/v4.
		Base: "https://gitlab.com",
		Verifiers: []Verifier{{
			// Project and group access tokens are personal access tokens
			// of a bot user: the same request reads them.
			Rules: []string{"gitlab-pat"},
			Calls: []string{"GET https://gitlab.com/api/v4/personal_access_tokens/self"},
			Check: gitlabSelf,
		}},
		Unverified: map[string]string{
			"gitlab-deploy-token":           "a deploy token is accepted only with its username, by a project's or group's git or registry, none of which the rule finds",
			"gitlab-runner-token":           "the only check (POST /api/v4/runners/verify) records a heartbeat: it changes the runner's last contact and address that its owners read",
			"gitlab-pipeline-trigger-token": "a trigger token is accepted only by the request that runs a pipeline, for a project the rule does not find",
			"gitlab-oauth-secret":           "an application secret is accepted only with its application id, in a token grant; the rule does not find the id",
		},
	}
}

// gitlabSelf reads the token itself: any token may, whatever its scopes.
func gitlabSelf(ctx context.Context, c *Caller, f finding.Finding) Result {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/api/v4/personal_access_tokens/self", Header: http.Header{"Private-Token": {f.Secret}}})
	if err != nil {
		return Unknown("%v", err)
	}
	switch resp.Status {
	case http.StatusOK:
		var tok struct {
			Name      string   `json:"name"`
			UserID    *int64   `json:"user_id"`
			Scopes    []string `json:"scopes"`
			Revoked   bool     `json:"revoked"`
			Active    *bool    `json:"active"`
			ExpiresAt *string  `json:"expires_at"`
		}
		if json.Unmarshal(resp.Body, &tok) != nil || tok.UserID == nil {
			return Unexpected(resp)
		}
		if tok.Revoked || tok.Active != nil && !*tok.Active {
			return Invalid("GitLab says the token is revoked or expired")
		}
		id := fmt.Sprintf("token %q of user id %d", Clean(tok.Name, 80), *tok.UserID)
		if tok.ExpiresAt != nil && *tok.ExpiresAt != "" {
			id += ", expires " + Clean(*tok.ExpiresAt, 30)
		}
		return Verified(id, tok.Scopes...)
	case http.StatusUnauthorized:
		// A revoked or expired token says so in error_description.
		if why := Field(resp, "error_description"); why != "" {
			return Invalid("HTTP 401: " + Clean(why, 100))
		}
	}
	return ByStatus(resp, nil)
}

func npm() *Provider {
	return &Provider{
		Name: "npm",
		Base: "https://registry.npmjs.org",
		Verifiers: []Verifier{{
			Rules: []string{"npm-token"},
			Calls: []string{"GET https://registry.npmjs.org/-/whoami"},
			Check: npmWhoami,
		}},
	}
}

func npmWhoami(ctx context.Context, c *Caller, f finding.Finding) Result {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/-/whoami", Header: http.Header{"Authorization": {"Bearer " + f.Secret}}})
	if err != nil {
		return Unknown("%v", err)
	}
	if resp.Status == http.StatusOK {
		user := Field(resp, "username")
		if user == "" {
			return Unexpected(resp)
		}
		return Verified("user " + user)
	}
	return ByStatus(resp, nil)
}

func pypi() *Provider {
	return &Provider{
		Name: "pypi",
		Base: "https://upload.pypi.org",
		Verifiers: []Verifier{{
			Rules: []string{"pypi-token"},
			// PyPI has no request that reads a token. Its upload endpoint
			// authenticates before it reads the form: an upload with no
			// name and no file is refused, 403 for a bad token, 400 for a
			// good one, and nothing is stored.
			Calls: []string{"POST https://upload.pypi.org/legacy/"},
			Check: pypiUpload,
		}},
	}
}

// pypiProbe is the whole form sent: the action and protocol the upload
// endpoint routes on, and no name, version or content, so that the form
// check refuses it even when the token may upload.
var pypiProbe = url.Values{":action": {"file_upload"}, "protocol_version": {"1"}}.Encode()

func pypiUpload(ctx context.Context, c *Caller, f finding.Finding) Result {
	auth := base64.StdEncoding.EncodeToString([]byte("__token__:" + f.Secret))
	resp, err := c.Do(ctx, Request{Method: http.MethodPost, Path: "/legacy/", Body: []byte(pypiProbe), Header: http.Header{
		"Authorization": {"Basic " + auth},
		"Content-Type":  {"application/x-www-form-urlencoded"},
	}})
	if err != nil {
		return Unknown("%v", err)
	}
	body := strings.ToLower(string(resp.Body))
	switch resp.Status {
	case http.StatusBadRequest:
		// The form check comes after authentication.
		if strings.Contains(body, "invalid value") || strings.Contains(body, "required") {
			caveats, _ := pypiReadCaveats(f.Secret)
			if why := pypiExpired(caveats, time.Now()); why != "" {
				return Invalid(why)
			}
			return Verified("accepted by PyPI's upload endpoint (PyPI names no owner)", pypiScopes(caveats)...)
		}
		return Unexpected(resp)
	case http.StatusForbidden:
		if strings.Contains(body, "invalid or non-existent authentication") {
			return Invalid("HTTP 403: PyPI does not accept the token")
		}
		// Read-only mode, uploads paused: no answer about the token.
		return Unknown("HTTP 403: PyPI refused uploads without judging the token")
	case http.StatusOK:
		return Unexpected(resp)
	}
	return ByStatus(resp, nil)
}

func dockerhub() *Provider {
	return &Provider{
		Name: "dockerhub",
		Base: "https://hub.docker.com",
		Unverified: map[string]string{
			"dockerhub-pat": "Docker Hub accepts a personal access token only with its username, which the rule does not find",
		},
	}
}

func huggingface() *Provider {
	return &Provider{
		Name: "huggingface",
		Base: "https://huggingface.co",
		Verifiers: []Verifier{{
			Rules: []string{"huggingface-token"},
			Calls: []string{"GET https://huggingface.co/api/whoami-v2"},
			Check: huggingfaceWhoami,
		}},
	}
}

func huggingfaceWhoami(ctx context.Context, c *Caller, f finding.Finding) Result {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/api/whoami-v2", Header: http.Header{"Authorization": {"Bearer " + f.Secret}}})
	if err != nil {
		return Unknown("%v", err)
	}
	if resp.Status != http.StatusOK {
		return ByStatus(resp, nil)
	}
	var who struct {
		Type string `json:"type"`
		Name string `json:"name"`
		Auth struct {
			AccessToken struct {
				DisplayName string `json:"displayName"`
				Role        string `json:"role"`
				FineGrained struct {
					Global []string `json:"global"`
					Scoped []struct {
						Permissions []string `json:"permissions"`
					} `json:"scoped"`
				} `json:"fineGrained"`
			} `json:"accessToken"`
		} `json:"auth"`
	}
	if json.Unmarshal(resp.Body, &who) != nil || who.Name == "" {
		return Unexpected(resp)
	}
	kind := Clean(who.Type, 20)
	if kind == "" {
		kind = "account"
	}
	id := kind + " " + Clean(who.Name, 100)
	tok := who.Auth.AccessToken
	if tok.DisplayName != "" {
		id += fmt.Sprintf(", token %q", Clean(tok.DisplayName, 60))
	}
	var scopes []string
	if tok.Role != "" {
		scopes = append(scopes, tok.Role)
	}
	// A fine-grained token's permissions: its global ones, then those it
	// holds on some repositories or organizations, once each.
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] && len(scopes) < 50 {
			seen[p] = true
			scopes = append(scopes, p)
		}
	}
	for _, p := range tok.FineGrained.Global {
		add(p)
	}
	for _, s := range tok.FineGrained.Scoped {
		for _, p := range s.Permissions {
			add(p)
		}
	}
	return Verified(id, scopes...)
}
