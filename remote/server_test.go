package remote

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

// gitServer serves bare repositories over smart HTTP (git http-backend
// as a CGI) on 127.0.0.1 over TLS, as a git host does: with user and
// password set, every request needs them as Basic auth, else 401.
type gitServer struct {
	*httptest.Server
	root       string
	user, pass string
	// caFile is the PEM file git trusts the server's certificate with.
	caFile string

	mu         sync.Mutex
	seen       []string // "METHOD path Authorization=..." of every request
	redirectTo string   // after authentication, 302 to the same path there
	moved      map[string]string
}

func newGitServer(t *testing.T, user, pass string) *gitServer {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("git http-backend as a CGI needs a POSIX system")
	}
	exe, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	s := &gitServer{root: t.TempDir(), user: user, pass: pass}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(exe)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"},
		// A missing repository is an expected answer: not test noise.
		Stderr: io.Discard,
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
		redirect := s.redirectTo
		moved := s.moved
		s.mu.Unlock()
		// A renamed repository: moved before any authentication.
		for from, to := range moved {
			if rest, ok := strings.CutPrefix(r.URL.RequestURI(), "/"+from+"/"); ok {
				http.Redirect(w, r, "/"+to+"/"+rest, http.StatusMovedPermanently)
				return
			}
		}
		if s.pass != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != s.user || p != s.pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "HTTP Basic: Access denied", http.StatusUnauthorized)
				return
			}
		}
		if redirect != "" {
			http.Redirect(w, r, redirect+r.URL.RequestURI(), http.StatusFound)
			return
		}

		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(s.caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// addRepo creates the bare repository name (such as "acme/app.git") with
// one commit on main, a branch old and a tag v1, and returns the work
// repository that pushed them (remote origin).
func (s *gitServer) addRepo(t *testing.T, name string) *gittest.Repo {
	t.Helper()
	bare := filepath.Join(s.root, filepath.FromSlash(name))
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	work := gittest.New(t)
	work.Git("remote", "add", "origin", bare)
	work.Write("app.txt", "hello\n")
	work.Commit("init")
	work.Git("branch", "old")
	work.Git("tag", "-a", "v1", "-m", "v1")
	work.Git("push", "-q", "origin", "main", "old", "v1")
	return work
}

func (s *gitServer) repoURL(name string) string { return s.URL + "/" + name }

// hostPort is the server's host:port.
func (s *gitServer) hostPort() string { return strings.TrimPrefix(s.URL, "https://") }

// requests returns what the server was sent.
func (s *gitServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// move makes requests for repository from (such as "acme/old.git")
// answer 301 to the same path under to, as a renamed repository does.
func (s *gitServer) move(from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moved = map[string]string{from: to}
}

func (s *gitServer) setRedirect(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirectTo = to
}

// testEnv is git's environment in tests: no system or global
// configuration, no credential helper of the machine, and the test
// server's certificate trusted.
func testEnv(t *testing.T, caFile string, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
	}
	if caFile != "" {
		env = append(env, "GIT_SSL_CAINFO="+caFile)
	}
	return append(env, extra...)
}
