// Package ghtest is a stand-in for GitHub in tests, on 127.0.0.1: the REST
// endpoints a sweep uses (organization listing with Link-header pages,
// repository lookup, GitHub App installation tokens with real RS256 JWT
// checks), primary and secondary rate limits like GitHub's, and the
// repositories themselves over smart HTTP, served by git http-backend.
// Hostile answers can be set up too (clone URLs elsewhere, redirects to
// another server), with a Catcher to show what that server was sent.
package ghtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysweep/keysweep/internal/gittest"
)

// Repo is a repository the stand-in serves.
type Repo struct {
	Fork, Archived bool
	// Visibility is public (default), private or internal.
	Visibility string
	// CloneURL, if set, is the clone_url the API answers instead of the
	// stand-in's own: another host, a file:// URL, a local path.
	CloneURL string
	// IssuesDisabled makes the issue listings answer 404, as GitHub does
	// for a repository whose issues are turned off.
	IssuesDisabled bool
}

// Server is the stand-in.
type Server struct {
	*httptest.Server
	t testing.TB
	// Token is the token API and git requests must carry.
	Token string
	// PageSize is the most repositories a page lists, whatever per_page
	// asks, so that listings span pages.
	PageSize int
	root     string

	mu        sync.Mutex
	names     []string
	repos     map[string]Repo
	limits    []string // queued rate-limit answers: "primary", "secondary"
	redirect  string   // where API requests are sent with a 302, if set
	failGit   map[string]int
	moveGit   map[string]string
	holdGit   map[string]*hold
	requests  []string
	uris      []string
	appID     int64
	appKey    *rsa.PublicKey
	appTokens map[string]bool
	// IssuePageSize is the most items a page of an issue, comment or
	// review listing holds, whatever per_page asks (100, as GitHub, unless
	// a test sets it lower before the first request).
	IssuePageSize int
	disc          discussions
	// The sources beside git: git repositories served but not listed
	// (wikis, owner/name.wiki, and gists, gist/ID), workflow runs by
	// repository, where the logs' redirects go, members by organization
	// and gist ids by user.
	wikis    map[string]bool
	runs     map[string][]*run
	nextRun  int64
	logHost  string
	members  map[string][]string
	gists    map[string][]string
	nextGist int64
}

// New starts a stand-in whose API accepts token.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{
		t: t, Token: token, PageSize: 2, root: t.TempDir(),
		repos: map[string]Repo{}, failGit: map[string]int{}, moveGit: map[string]string{}, holdGit: map[string]*hold{}, appTokens: map[string]bool{},
	}
	exe, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(exe)), "git-http-backend"),
		Root: "/git",
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v3/orgs/{org}/repos", s.listRepos)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}", s.getRepo)
	mux.HandleFunc("GET /api/v3/orgs/{org}/installation", s.installation)
	mux.HandleFunc("POST /api/v3/app/installations/{id}/access_tokens", s.accessToken)
	s.IssuePageSize = 100
	s.routeDiscussions(mux)
	s.routeSources(mux)
	mux.Handle("/git/", s.gitHandler(backend))
	s.Server = httptest.NewServer(s.logged(mux))
	t.Cleanup(s.Close)
	return s
}

// APIURL is what --api-url takes.
func (s *Server) APIURL() string { return s.URL + "/api/v3/" }

// AddRepo creates the bare repository fullName (owner/name) on the server
// and returns a clone to commit in and push from (remote "origin").
func (s *Server) AddRepo(fullName string, r Repo) *gittest.Repo {
	s.t.Helper()
	bare := filepath.Join(s.root, filepath.FromSlash(fullName)+".git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", bare).CombinedOutput(); err != nil {
		s.t.Fatalf("create %s: %v\n%s", fullName, err, out)
	}
	if r.Visibility == "" {
		r.Visibility = "public"
	}
	s.mu.Lock()
	s.names = append(s.names, fullName)
	s.repos[fullName] = r
	s.mu.Unlock()
	work := gittest.New(s.t)
	work.Git("remote", "add", "origin", bare)
	return work
}

// RemoveRepo deletes a repository, as if it were deleted on GitHub.
func (s *Server) RemoveRepo(fullName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.repos, fullName)
	for i, n := range s.names {
		if n == fullName {
			s.names = append(s.names[:i], s.names[i+1:]...)
			break
		}
	}
	_ = os.RemoveAll(filepath.Join(s.root, filepath.FromSlash(fullName)+".git"))
}

// RateLimit queues rate-limit answers for the next API requests: each of
// kinds is "primary" or "secondary".
func (s *Server) RateLimit(kinds ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, kinds...)
}

// RedirectAPI makes every later API request answer 302 Found, to the
// same path and query under to (another server's URL); "" stops it.
func (s *Server) RedirectAPI(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirect = to
}

// FailGit makes git requests for fullName fail with status (403, 500...).
func (s *Server) FailGit(fullName string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failGit[fullName] = status
}

// RedirectGit makes git requests for fullName answer 302 Found, to the
// same path and query under to (another server's URL).
func (s *Server) RedirectGit(fullName, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moveGit[fullName] = to
}

// HoldGit makes git requests for fullName wait until release is called;
// reached is closed when the first one arrives.
func (s *Server) HoldGit(fullName string) (reached <-chan struct{}, release func()) {
	h := &hold{release: make(chan struct{}), reached: make(chan struct{})}
	s.mu.Lock()
	s.holdGit[fullName] = h
	s.mu.Unlock()
	var once sync.Once
	return h.reached, func() { once.Do(func() { close(h.release) }) }
}

// hold is what HoldGit holds a repository's git requests with.
type hold struct {
	release, reached chan struct{}
	once             sync.Once
}

// Requests returns "METHOD path" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// RequestURIs returns "METHOD path?query" of every request so far.
func (s *Server) RequestURIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.uris...)
}

// EnableApp makes the stand-in accept JWTs of GitHub App appID signed by
// key, and issue installation tokens to it.
func (s *Server) EnableApp(appID int64, key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appID, s.appKey = appID, key
}

func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path)
		s.uris = append(s.uris, r.Method+" "+r.URL.RequestURI())
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// limited answers with a queued rate limit, or the redirect RedirectAPI
// set, if any.
func (s *Server) limited(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var kind string
	if len(s.limits) > 0 {
		kind, s.limits = s.limits[0], s.limits[1:]
	}
	redirect := s.redirect
	s.mu.Unlock()
	if redirect != "" {
		http.Redirect(w, r, strings.TrimSuffix(redirect, "/")+r.URL.RequestURI(), http.StatusFound)
		return true
	}
	switch kind {
	case "primary":
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Used", "5000")
		// The limit resets this second: a client waits its minimum, which
		// tests make instant, and is not held back by a reset to come.
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
		w.Header().Set("X-RateLimit-Resource", "core")
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "API rate limit exceeded for user ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
		})
		return true
	case "secondary":
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		return true
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	return false
}

// authorized checks the API request's token: the configured one or an
// installation token the stand-in issued.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	}
	s.mu.Lock()
	valid := ok && (tok == s.Token && s.Token != "" || s.appTokens[tok])
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
	}
	return valid
}

func (s *Server) repoJSON(name string, r Repo) map[string]any {
	owner, short, _ := strings.Cut(name, "/")
	clone := r.CloneURL
	if clone == "" {
		clone = s.URL + "/git/" + name + ".git"
	}
	return map[string]any{
		"name": short, "full_name": name, "owner": map[string]any{"login": owner},
		"private": r.Visibility != "public", "visibility": r.Visibility, "fork": r.Fork, "archived": r.Archived,
		"html_url": s.URL + "/" + name, "clone_url": clone, "default_branch": "main",
	}
}

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) || !s.authorized(w, r) {
		return
	}
	org := r.PathValue("org")
	s.mu.Lock()
	var all []map[string]any
	for _, n := range s.names {
		if owner, _, _ := strings.Cut(n, "/"); strings.EqualFold(owner, org) {
			all = append(all, s.repoJSON(n, s.repos[n]))
		}
	}
	s.mu.Unlock()
	if len(all) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > s.PageSize {
		per = s.PageSize
	}
	s.writePageOf(w, r, all, per)
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) || !s.authorized(w, r) {
		return
	}
	name := r.PathValue("owner") + "/" + r.PathValue("name")
	s.mu.Lock()
	repo, ok := s.repos[name]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	writeJSON(w, http.StatusOK, s.repoJSON(name, repo))
}

// appJWT checks the request's App JWT: RS256 signed by the App's key,
// issued by the App, not expired, and not valid for more than 10 minutes.
func (s *Server) appJWT(w http.ResponseWriter, r *http.Request) bool {
	fail := func(msg string) bool {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": msg})
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return fail("A JSON web token could not be decoded")
	}
	s.mu.Lock()
	appID, key := s.appID, s.appKey
	s.mu.Unlock()
	enc := base64.RawURLEncoding
	var header struct{ Alg string }
	var claims struct {
		Iss      string
		Iat, Exp int64
	}
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return fail("A JSON web token could not be decoded")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if key == nil || header.Alg != "RS256" || rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return fail("A JSON web token could not be decoded")
	}
	now := time.Now().Unix()
	if claims.Iss != strconv.FormatInt(appID, 10) || claims.Exp < now || claims.Iat > now+60 || claims.Exp-claims.Iat > 600 {
		return fail("'Expiration time' claim ('exp') is too far in the future, or the token is expired or not issued by this App")
	}
	return true
}

func (s *Server) installation(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) || !s.appJWT(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": 4242, "account": map[string]any{"login": r.PathValue("org")}})
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) || !s.appJWT(w, r) {
		return
	}
	if r.PathValue("id") != "4242" {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	tok := "ghs_" + base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.appTokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
}

// gitHandler serves repositories to clients with a valid token as the
// basic-auth password, as GitHub does.
func (s *Server) gitHandler(backend http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/git/")
		i := strings.Index(rest, ".git/")
		if i < 0 {
			http.NotFound(w, r)
			return
		}
		name := rest[:i]
		_, pass, _ := r.BasicAuth()
		s.mu.Lock()
		_, exists := s.repos[name]
		exists = exists || s.wikis[name]
		valid := pass != "" && (pass == s.Token || s.appTokens[pass])
		status := s.failGit[name]
		hold := s.holdGit[name]
		moved := s.moveGit[name]
		s.mu.Unlock()
		if moved != "" {
			http.Redirect(w, r, strings.TrimSuffix(moved, "/")+r.URL.RequestURI(), http.StatusFound)
			return
		}
		if hold != nil {
			hold.once.Do(func() { close(hold.reached) })
			select {
			case <-hold.release:
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case !valid:
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "Invalid username or token.", http.StatusUnauthorized)
		case !exists:
			http.Error(w, "Repository not found.", http.StatusNotFound)
		case status != 0:
			http.Error(w, "failure injected by the test", status)
		default:
			backend.ServeHTTP(w, r)
		}
	})
}

// Catcher is a server on 127.0.0.1 that must never be sent a
// credential: it records the Authorization header of every request it
// gets, and answers 404.
type Catcher struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

// NewCatcher starts a Catcher.
func NewCatcher(t testing.TB) *Catcher {
	t.Helper()
	c := &Catcher{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
		c.mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// Requests returns "METHOD path Authorization=VALUE" of every request so
// far.
func (c *Catcher) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
