package providertest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// cloudBearer is the token of an "Authorization: Bearer" header, "" when
// there is none.
func cloudBearer(r *http.Request) string {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(t)
}

// StripeAccount is the account of a live Stripe key.
type StripeAccount struct {
	ID, Name, Email string
	// Restricted is a restricted key without the permission to read the
	// account: Stripe refuses it with a 403 that names the account.
	Restricted bool
}

// Stripe serves api.stripe.com's GET /v1/account for keys, by key. The
// key goes as a bearer token or as basic auth's user, as Stripe takes it.
func (s *Server) Stripe(keys map[string]StripeAccount) {
	s.Handle("stripe", func(w http.ResponseWriter, r *http.Request) {
		key := cloudBearer(r)
		if u, _, ok := r.BasicAuth(); ok && key == "" {
			key = u
		}
		stripeError := func(status int, msg string) {
			writeJSON(w, status, map[string]any{"error": map[string]any{"type": "invalid_request_error", "message": msg}})
		}
		if key == "" {
			stripeError(http.StatusUnauthorized, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.")
			return
		}
		acct, ok := keys[key]
		if !ok {
			stripeError(http.StatusUnauthorized, "Invalid API Key provided: "+stripeMask(key))
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != "/v1/account" {
			stripeError(http.StatusNotFound, fmt.Sprintf("Unrecognized request URL (%s: %s).", r.Method, r.URL.Path))
			return
		}
		if acct.Restricted {
			stripeError(http.StatusForbidden, fmt.Sprintf("The provided key '%s' does not have the required permissions for this endpoint on account '%s'. Having the 'rak_account_read' permission would allow this request to continue.", stripeMask(key), acct.ID))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": acct.ID, "object": "account", "email": acct.Email, "type": "standard",
			"settings": map[string]any{"dashboard": map[string]any{"display_name": acct.Name, "timezone": "Etc/UTC"}},
		})
	})
}

// stripeMask shows a key as Stripe's errors do: its kind and last four.
func stripeMask(key string) string {
	if len(key) < 12 {
		return "****"
	}
	return key[:8] + strings.Repeat("*", 24) + key[len(key)-4:]
}

// GoogleKey is a Google API key that exists.
type GoogleKey struct {
	// Project is its project's number.
	Project string
	// Reason, if set, is why Google refuses it (SERVICE_DISABLED,
	// API_KEY_SERVICE_BLOCKED, ...) with a 403; "" answers it.
	Reason string
}

// Google serves the Generative Language API's GET /v1beta/models for
// keys, by key, taken from the x-goog-api-key header or the key query
// parameter as Google takes them.
func (s *Server) Google(keys map[string]GoogleKey) {
	const service = "generativelanguage.googleapis.com"
	s.Handle("google", func(w http.ResponseWriter, r *http.Request) {
		googleError := func(code int, status, msg string, reason string, meta map[string]string) {
			e := map[string]any{"code": code, "message": msg, "status": status}
			if reason != "" {
				e["details"] = []any{map[string]any{
					"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
					"domain": "googleapis.com", "metadata": meta,
				}}
			}
			writeJSON(w, code, map[string]any{"error": e})
		}
		key := r.Header.Get("X-Goog-Api-Key")
		if key == "" {
			key = r.URL.Query().Get("key")
		}
		if r.Method != http.MethodGet || r.URL.Path != "/v1beta/models" {
			googleError(http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", "", nil)
			return
		}
		if key == "" {
			googleError(http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "", nil)
			return
		}
		k, ok := keys[key]
		if !ok {
			googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID", map[string]string{"service": service})
			return
		}
		if k.Reason != "" {
			googleError(http.StatusForbidden, "PERMISSION_DENIED", "The request is refused: "+k.Reason, k.Reason,
				map[string]string{"service": service, "consumer": "projects/" + k.Project})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"models":        []any{map[string]any{"name": "models/gemini-2.0-flash", "displayName": "Gemini 2.0 Flash"}},
			"nextPageToken": "Ch5tb2RlbHMvZ2VtaW5p",
		})
	})
}

// ServiceAccount is a Google service account's key.
type ServiceAccount struct {
	Key   *rsa.PublicKey
	KeyID string
}

// GCPAudience is the audience Google's token endpoint takes in an
// assertion.
const GCPAudience = "https://oauth2.googleapis.com/token"

// GCP serves oauth2.googleapis.com's POST /token for the JWT bearer grant
// of accounts, by email: it checks the assertion's signature with the
// account's key, its audience and times, and issues a token.
func (s *Server) GCP(accounts map[string]ServiceAccount) {
	s.Handle("gcp", func(w http.ResponseWriter, r *http.Request) {
		oauthError := func(status int, code, desc string) {
			writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
		}
		if r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			oauthError(http.StatusMethodNotAllowed, "invalid_request", "POST only")
			return
		}
		if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			oauthError(http.StatusBadRequest, "invalid_request", "Invalid request body.")
			return
		}
		if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			oauthError(http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+g)
			return
		}
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		if len(parts) != 3 {
			oauthError(http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed.")
			return
		}
		var header struct{ Alg, Kid string }
		var claims struct {
			Iss, Sub, Aud, Scope string
			Iat, Exp             int64
		}
		hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
		cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
		sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
		if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil || header.Alg != "RS256" {
			oauthError(http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed.")
			return
		}
		now := time.Now().Unix()
		if claims.Aud != GCPAudience {
			oauthError(http.StatusBadRequest, "invalid_grant", "Invalid JWT: Failed audience check.")
			return
		}
		if claims.Iat > now+300 || claims.Exp < now || claims.Exp-claims.Iat > 3600 {
			oauthError(http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
			return
		}
		acct, ok := accounts[claims.Iss]
		if !ok {
			oauthError(http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
			return
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if (header.Kid != "" && acct.KeyID != "" && header.Kid != acct.KeyID) || rsa.VerifyPKCS1v15(acct.Key, crypto.SHA256, sum[:], sig) != nil {
			oauthError(http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
			return
		}
		if claims.Scope == "" {
			oauthError(http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "ya29.stand-in-token", "expires_in": 3599, "token_type": "Bearer"})
	})
}

// Azure serves the Blob service's List Containers (GET
// /ACCOUNT/?comp=list, the account first in the path as Azurite takes
// it) for accounts, by name, with their base64 keys: it checks the
// Shared Key signature as Azure does.
func (s *Server) Azure(accounts map[string]string) {
	s.Handle("azure", func(w http.ResponseWriter, r *http.Request) {
		azureError := func(status int, code, msg string) {
			w.Header().Set("Content-Type", "application/xml")
			w.Header().Set("X-Ms-Error-Code", code)
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
		}
		account, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		key, ok := accounts[account]
		if !ok {
			azureError(http.StatusBadRequest, "InvalidOperation", "Invalid storage account.")
			return
		}
		auth := r.Header.Get("Authorization")
		if auth == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			azureError(http.StatusUnauthorized, "NoAuthenticationInformation", "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
			return
		}
		if r.Header.Get("X-Ms-Version") == "" || r.Header.Get("X-Ms-Date") == "" {
			azureError(http.StatusBadRequest, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.")
			return
		}
		rawKey, _ := base64.StdEncoding.DecodeString(key)
		mac := hmac.New(sha256.New, rawKey)
		mac.Write([]byte(azureStringToSign(r, account)))
		want := "SharedKey " + account + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(auth), []byte(want)) {
			azureError(http.StatusForbidden, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
			return
		}
		if r.Method != http.MethodGet || rest != "" || r.URL.Query().Get("comp") != "list" {
			azureError(http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb or query.")
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://%s/%s/"><MaxResults>1</MaxResults><Containers><Container><Name>backups</Name></Container></Containers><NextMarker /></EnumerationResults>`, r.Host, account)
	})
}

// azureStringToSign is the Shared Key canonical string of r, whose full
// path (the stand-in's prefix included, as it was sent) follows the
// account in the canonical resource, as Azurite reads it.
func azureStringToSign(r *http.Request, account string) string {
	fields := []string{r.Method}
	for _, h := range []string{"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
		"If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"} {
		v := r.Header.Get(h)
		if h == "Content-Length" && v == "0" {
			v = ""
		}
		fields = append(fields, v)
	}
	var names []string
	for name := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-ms-") {
			names = append(names, strings.ToLower(name))
		}
	}
	slices.Sort(names)
	var headers strings.Builder
	for _, n := range names {
		headers.WriteString(n + ":" + strings.TrimSpace(strings.Join(r.Header.Values(n), ",")) + "\n")
	}
	full := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		full = u.Path
	}
	resource := "/" + account + full
	q := r.URL.Query()
	var keys []string
	for k := range q {
		keys = append(keys, strings.ToLower(k))
	}
	slices.Sort(keys)
	for _, k := range keys {
		resource += "\n" + k + ":" + strings.Join(q[k], ",")
	}
	return strings.Join(fields, "\n") + "\n" + headers.String() + resource
}

// DigitalOceanAccount is the account of a live DigitalOcean token.
type DigitalOceanAccount struct {
	Email, UUID, Team string
	// NoAccountRead is a token of custom scopes without account:read.
	NoAccountRead bool
}

// DigitalOcean serves api.digitalocean.com's GET /v2/account for tokens,
// by token, taken as bearer tokens.
func (s *Server) DigitalOcean(tokens map[string]DigitalOceanAccount) {
	s.Handle("digitalocean", func(w http.ResponseWriter, r *http.Request) {
		a, ok := tokens[cloudBearer(r)]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"id": "Unauthorized", "message": "Unable to authenticate you"})
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != "/v2/account" {
			writeJSON(w, http.StatusNotFound, map[string]string{"id": "not_found", "message": "The resource you requested could not be found."})
			return
		}
		if a.NoAccountRead {
			writeJSON(w, http.StatusForbidden, map[string]string{"id": "Forbidden", "message": "You are not authorized to perform this operation"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"account": map[string]any{
			"droplet_limit": 25, "floating_ip_limit": 3, "email": a.Email, "uuid": a.UUID,
			"email_verified": true, "status": "active", "status_message": "",
			"team": map[string]string{"uuid": "5df3e3004a17e242b7c20ca6", "name": a.Team},
		}})
	})
}

// HerokuAccount is the account of a live Heroku key.
type HerokuAccount struct{ Email, ID string }

// Heroku serves api.heroku.com's GET /account for keys, by key, taken as
// bearer tokens, with the Accept header of the Platform API's version 3.
func (s *Server) Heroku(keys map[string]HerokuAccount) {
	s.Handle("heroku", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "application/vnd.heroku+json; version=3") {
			writeJSON(w, http.StatusBadRequest, map[string]string{"id": "bad_request", "message": "Please use the Accept header application/vnd.heroku+json; version=3."})
			return
		}
		a, ok := keys[cloudBearer(r)]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"id": "unauthorized", "message": "Invalid credentials provided."})
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != "/account" {
			writeJSON(w, http.StatusNotFound, map[string]string{"id": "not_found", "message": "The requested API endpoint was not found."})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"email": a.Email, "id": a.ID, "verified": true, "two_factor_authentication": true})
	})
}

// NewRelicUser is the user of a live New Relic user key.
type NewRelicUser struct{ Name, Email string }

// NewRelic serves NerdGraph's POST /graphql for keys, by key, taken from
// the API-Key header: the query of the actor's user is answered.
func (s *Server) NewRelic(keys map[string]NewRelicUser) {
	s.Handle("newrelic", func(w http.ResponseWriter, r *http.Request) {
		gqlError := func(status int, msg string) {
			writeJSON(w, status, map[string]any{"errors": []any{map[string]any{"message": msg}}})
		}
		if r.URL.Path != "/graphql" {
			http.NotFound(w, r)
			return
		}
		u, ok := keys[r.Header.Get("Api-Key")]
		if !ok {
			gqlError(http.StatusUnauthorized, "Invalid API key")
			return
		}
		var req struct{ Query string }
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
			gqlError(http.StatusBadRequest, "Must provide query string.")
			return
		}
		if !strings.Contains(req.Query, "actor") || !strings.Contains(req.Query, "user") {
			gqlError(http.StatusOK, "Cannot query this stand-in but for the actor's user")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"actor": map[string]any{"user": map[string]string{"name": u.Name, "email": u.Email}}}})
	})
}

// SentryToken is what a live Sentry token authenticates.
type SentryToken struct {
	// Username and Email are its user's; an organization token has none.
	Username, Email string
	Scopes          []string
}

// Sentry serves sentry.io's API root, GET /api/0/, for tokens, by token,
// taken as bearer tokens: it says who the token is, or 401.
func (s *Server) Sentry(tokens map[string]SentryToken) {
	s.Handle("sentry", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/0/" {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "The requested resource does not exist"})
			return
		}
		tok := cloudBearer(r)
		if tok == "" {
			writeJSON(w, http.StatusOK, map[string]any{"version": "0", "auth": nil, "user": nil})
			return
		}
		t, ok := tokens[tok]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid token"})
			return
		}
		var user any
		if t.Username != "" {
			user = map[string]any{"id": "1", "username": t.Username, "email": t.Email, "name": t.Username}
		}
		writeJSON(w, http.StatusOK, map[string]any{"version": "0", "auth": map[string]any{"scopes": t.Scopes}, "user": user})
	})
}
