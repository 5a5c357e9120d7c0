package providertest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// This file holds the stand-ins of source hosts and package registries:
// GitHub, GitLab, npm, PyPI and Hugging Face. Each method registers its
// provider's handler and may be called once per Server.

// chAuth is the credential of an Authorization header with one of
// schemes (compared as the services do, in any case), "" when there is
// none.
func chAuth(r *http.Request, schemes ...string) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return ""
	}
	for _, s := range schemes {
		if strings.EqualFold(scheme, s) {
			return strings.TrimSpace(cred)
		}
	}
	return ""
}

// GitHubToken is what GitHub says of a live token: the login of its
// user and, for a classic token, its scopes (X-OAuth-Scopes; nil sends
// no header). An installation token (ghs_) has no user: Repositories
// are those it may read ("owner/name"), and /user refuses it.
type GitHubToken struct {
	Login        string
	Scopes       []string
	Repositories []string
}

// GitHub serves GET /user and GET /installation/repositories of the REST
// API (below its root, as below api.github.com or a GitHub Enterprise
// Server's /api/v3) for tokens sent as "Authorization: Bearer" or
// "token". Any other token is 401 Bad credentials.
func (s *Server) GitHub(tokens map[string]GitHubToken) {
	s.Handle("github", func(w http.ResponseWriter, r *http.Request) {
		notFound := map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}
		if r.Method != http.MethodGet || r.URL.Path != "/user" && r.URL.Path != "/installation/repositories" {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		w.Header().Set("X-Ratelimit-Limit", "5000")
		w.Header().Set("X-Ratelimit-Remaining", "4999")
		cred := chAuth(r, "Bearer", "token")
		if cred == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest", "status": "401"})
			return
		}
		tok, ok := tokens[cred]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
			return
		}
		installation := strings.HasPrefix(cred, "ghs_")
		switch {
		case r.URL.Path == "/user" && installation:
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user", "status": "403"})
		case r.URL.Path == "/user":
			if tok.Scopes != nil {
				w.Header().Set("X-Oauth-Scopes", strings.Join(tok.Scopes, ", "))
			}
			writeJSON(w, http.StatusOK, map[string]any{"login": tok.Login, "id": 583231, "type": "User", "site_admin": false})
		case !installation:
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "You must authenticate with an installation access token in order to list repositories for an installation.", "status": "403"})
		default:
			perPage := 30
			if _, err := fmt.Sscan(r.URL.Query().Get("per_page"), &perPage); err != nil || perPage < 1 {
				perPage = 30
			}
			var repos []map[string]any
			for i, full := range tok.Repositories {
				if i >= perPage {
					break
				}
				owner, _, _ := strings.Cut(full, "/")
				repos = append(repos, map[string]any{"full_name": full, "owner": map[string]string{"login": owner}, "private": true})
			}
			writeJSON(w, http.StatusOK, map[string]any{"total_count": len(tok.Repositories), "repository_selection": "selected", "repositories": repos})
		}
	})
}

// GitLabToken is a personal, project or group access token: its name,
// user, scopes and expiry date (""), or, when Dead is set, the
// error_description GitLab answers a revoked or expired token with.
type GitLabToken struct {
	Name      string
	UserID    int
	Scopes    []string
	ExpiresAt string
	Dead      string
}

// GitLab serves GET /api/v4/personal_access_tokens/self (below the
// instance root) for tokens sent as "PRIVATE-TOKEN" or "Authorization:
// Bearer". Any other token is 401 Unauthorized.
func (s *Server) GitLab(tokens map[string]GitLabToken) {
	s.Handle("gitlab", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v4/personal_access_tokens/self" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
			return
		}
		cred := r.Header.Get("Private-Token")
		if cred == "" {
			cred = chAuth(r, "Bearer")
		}
		tok, ok := tokens[cred]
		switch {
		case cred == "" || !ok:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		case tok.Dead != "":
			w.Header().Set("Www-Authenticate", `Bearer realm="Protected by OAuth 2.0", error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": tok.Dead})
		default:
			var expires any
			if tok.ExpiresAt != "" {
				expires = tok.ExpiresAt
			}
			writeJSON(w, http.StatusOK, map[string]any{
				"id": 4, "name": tok.Name, "revoked": false, "created_at": "2025-01-02T10:00:00.000Z",
				"scopes": tok.Scopes, "user_id": tok.UserID, "last_used_at": "2025-06-01T08:00:00.000Z",
				"active": true, "expires_at": expires, "last_used_ips": []string{"203.0.113.7"},
			})
		}
	})
}

// NPM serves GET /-/whoami of the registry for tokens (to their users)
// sent as "Authorization: Bearer". Any other token is 401.
func (s *Server) NPM(tokens map[string]string) {
	s.Handle("npm", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/-/whoami" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
			return
		}
		user, ok := tokens[chAuth(r, "Bearer")]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "You must be logged in to do that"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"username": user})
	})
}

// PyPI serves the legacy upload endpoint, POST /legacy/ with
// :action=file_upload, for the tokens in tokens, sent as HTTP Basic with
// the user __token__ (or "Authorization: token" or "Bearer"), in PyPI's
// order: authentication (403 Invalid or non-existent authentication
// information), then the form (400 for a missing name, then for a
// missing file), then the upload, which it counts: Uploads says how many
// it took.
func (s *Server) PyPI(tokens []string) *PyPIStandIn {
	p := &PyPIStandIn{}
	live := map[string]bool{}
	for _, t := range tokens {
		live[t] = true
	}
	s.Handle("pypi", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/legacy/" {
			pypiError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		form, err := pypiForm(r)
		if err != nil || form.Get(":action") != "file_upload" {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			_, _ = io.WriteString(w, "<html><body><h1>Warehouse</h1><p>This is the upload endpoint.</p></body></html>")
			return
		}
		if r.Method != http.MethodPost {
			pypiError(w, http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
			return
		}
		cred := chAuth(r, "token", "bearer")
		if basic := chAuth(r, "Basic"); basic != "" {
			dec, _ := base64.StdEncoding.DecodeString(basic)
			user, pass, _ := strings.Cut(string(dec), ":")
			if user != "__token__" {
				pypiError(w, http.StatusForbidden, "Username/Password authentication is no longer supported. Migrate to API Tokens or Trusted Publishers instead.")
				return
			}
			cred = strings.TrimSpace(pass)
		}
		if !live[cred] {
			pypiError(w, http.StatusForbidden, "Invalid or non-existent authentication information. See https://pypi.org/help/#invalid-auth for more information.")
			return
		}
		if form.Get("protocol_version") != "" && form.Get("protocol_version") != "1" {
			pypiError(w, http.StatusBadRequest, "Unknown protocol version.")
			return
		}
		if form.Get("name") == "" {
			pypiError(w, http.StatusBadRequest, "'' is an invalid value for Name. Error: This field is required. See https://packaging.python.org/specifications/core-metadata for more information.")
			return
		}
		if form.Get("content") == "" {
			pypiError(w, http.StatusBadRequest, "Upload payload does not have a file.")
			return
		}
		p.mu.Lock()
		p.uploads++
		p.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	return p
}

// PyPIStandIn counts what the PyPI stand-in stored.
type PyPIStandIn struct {
	mu      sync.Mutex
	uploads int
}

// Uploads is how many uploads the stand-in took.
func (p *PyPIStandIn) Uploads() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.uploads
}

// pypiForm reads the query and the form, url-encoded or multipart.
func pypiForm(r *http.Request) (url.Values, error) {
	out := r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range r.PostForm {
			out[k] = append(out[k], v...)
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, err
		}
		for k, v := range r.MultipartForm.Value {
			out[k] = append(out[k], v...)
		}
		if len(r.MultipartForm.File["content"]) > 0 {
			out.Set("content", r.MultipartForm.File["content"][0].Filename)
		}
	}
	return out, nil
}

// pypiError answers as Pyramid does for Warehouse: the message in the
// status line and in an HTML page.
func pypiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	title := fmt.Sprintf("%d %s", status, msg)
	_, _ = fmt.Fprintf(w, "<html>\n <head>\n  <title>%s</title>\n </head>\n <body>\n  <h1>%s</h1>\n  %s<br/><br/>\n%s\n\n\n </body>\n</html>", title, title, http.StatusText(status), msg)
}

// HuggingFaceToken is what whoami-v2 says of a live token: the name and
// type ("user", "org") of its owner, the token's name and role ("read",
// "write", "fineGrained") and, for a fine-grained token, its global
// permissions.
type HuggingFaceToken struct {
	Name, Type       string
	TokenName, Role  string
	GlobalPermission []string
}

// HuggingFace serves GET /api/whoami-v2 for tokens sent as
// "Authorization: Bearer". Any other token is 401 Invalid credentials.
func (s *Server) HuggingFace(tokens map[string]HuggingFaceToken) {
	s.Handle("huggingface", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/whoami-v2" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "Sorry, we can't find the page you are looking for."})
			return
		}
		cred := chAuth(r, "Bearer")
		tok, ok := tokens[cred]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Invalid credentials in Authorization header"})
			return
		}
		access := map[string]any{"displayName": tok.TokenName, "role": tok.Role, "createdAt": "2025-03-01T12:00:00.000Z"}
		if tok.Role == "fineGrained" {
			access["fineGrained"] = map[string]any{"canReadGatedRepos": true, "global": tok.GlobalPermission, "scoped": []any{}}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"type": tok.Type, "id": "6512a0c0f0e1d2c3b4a59687", "name": tok.Name, "fullname": tok.Name,
			"email": tok.Name + "@example.com", "emailVerified": true, "isPro": false, "orgs": []any{},
			"auth": map[string]any{"type": "access_token", "accessToken": access},
		})
	})
}
