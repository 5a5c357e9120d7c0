package ghtest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keysweep/keysweep/internal/gittest"
)

// run is a workflow run the stand-in serves, with its logs: a zip, or an
// HTTP status (404, 410) when they expired.
type run struct {
	id        int64
	status    string
	created   time.Time
	zip       []byte
	logStatus int
}

func (s *Server) routeSources(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}/actions/runs", s.listRuns)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}/actions/runs/{id}/logs", s.runLogs)
	mux.HandleFunc("GET /logstore/{owner}/{name}/{id}", s.logBlob)
	mux.HandleFunc("GET /api/v3/orgs/{org}/members", s.listMembers)
	mux.HandleFunc("GET /api/v3/users/{user}/gists", s.listGists)
}

// AddWiki creates the wiki of fullName, a git repository of its own
// served at the clone URL without .git, plus .wiki.git, and returns a
// clone to commit pages in and push from.
func (s *Server) AddWiki(fullName string) *gittest.Repo {
	s.t.Helper()
	bare := filepath.Join(s.root, filepath.FromSlash(fullName)+".wiki.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "master", bare).CombinedOutput(); err != nil {
		s.t.Fatalf("create the wiki of %s: %v\n%s", fullName, err, out)
	}
	s.mu.Lock()
	if s.wikis == nil {
		s.wikis = map[string]bool{}
	}
	s.wikis[fullName+".wiki"] = true
	s.mu.Unlock()
	work := gittest.New(s.t)
	work.Git("checkout", "-q", "-b", "master")
	work.Git("remote", "add", "origin", bare)
	return work
}

// AddRun adds a completed workflow run of repo, created now, whose logs
// are a zip of files (name -> content), and returns its id. Ids grow, as
// GitHub's do.
func (s *Server) AddRun(repo string, files map[string]string) int64 {
	s.t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			s.t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[n])); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		s.t.Fatal(err)
	}
	return s.AddRunZip(repo, "completed", buf.Bytes())
}

// AddRunZip adds a workflow run of repo in status (completed,
// in_progress, ...) whose logs are the bytes of data, whatever they are.
func (s *Server) AddRunZip(repo, status string, data []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs = map[string][]*run{}
	}
	s.nextRun++
	id := 1000 + s.nextRun
	s.runs[repo] = append(s.runs[repo], &run{id: id, status: status, created: time.Now().UTC(), zip: data})
	return id
}

// SetRun sets a run's status, and the HTTP status its logs answer (0:
// the zip; 404 or 410: expired or deleted).
func (s *Server) SetRun(repo string, id int64, status string, logStatus int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs[repo] {
		if r.id == id {
			r.status, r.logStatus = status, logStatus
		}
	}
}

// RedirectLogs sends the logs' redirects to the server at to (a URL with
// no path) instead of the stand-in's own log store.
func (s *Server) RedirectLogs(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logHost = strings.TrimSuffix(to, "/")
}

func (s *Server) findRuns(w http.ResponseWriter, r *http.Request) (string, []*run, bool) {
	if s.limited(w, r) || !s.authorized(w, r) {
		return "", nil, false
	}
	name := r.PathValue("owner") + "/" + r.PathValue("name")
	s.mu.Lock()
	_, ok := s.repos[name]
	runs := append([]*run(nil), s.runs[name]...)
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return "", nil, false
	}
	return name, runs, true
}

// listRuns lists runs newest first, filtered by created=>=DATE, in pages
// of IssuePageSize.
func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	name, runs, ok := s.findRuns(w, r)
	if !ok {
		return
	}
	var from time.Time
	if c := r.URL.Query().Get("created"); c != "" {
		d, found := strings.CutPrefix(c, ">=")
		t, err := time.Parse("2006-01-02", d)
		if !found || err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "bad created"})
			return
		}
		from = t
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].id > runs[j].id })
	var all []map[string]any
	for _, rn := range runs {
		if rn.created.Before(from) {
			continue
		}
		all = append(all, map[string]any{
			"id": rn.id, "status": rn.status, "created_at": rn.created.Format(time.RFC3339),
			"html_url": s.URL + "/" + name + "/actions/runs/" + strconv.FormatInt(rn.id, 10),
			"actor":    map[string]any{"login": "ci"},
		})
	}
	s.mu.Lock()
	size := max(s.IssuePageSize, 1)
	s.mu.Unlock()
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, size)
	page := max(1, atoi(r.URL.Query().Get("page")))
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	if hi < len(all) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		w.Header().Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", s.URL, r.URL.Path, q.Encode()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "workflow_runs": append([]map[string]any{}, all[lo:hi]...)})
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// runLogs answers as GitHub does: a 302 to the log store, or 404/410.
func (s *Server) runLogs(w http.ResponseWriter, r *http.Request) {
	name, runs, ok := s.findRuns(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, rn := range runs {
		if rn.id != id {
			continue
		}
		if rn.logStatus != 0 {
			writeJSON(w, rn.logStatus, map[string]string{"message": http.StatusText(rn.logStatus)})
			return
		}
		s.mu.Lock()
		host := s.logHost
		s.mu.Unlock()
		if host == "" {
			host = s.URL
		}
		http.Redirect(w, r, host+"/logstore/"+name+"/"+strconv.FormatInt(id, 10)+"?sig=signed", http.StatusFound)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

// logBlob serves a run's zip, as the signed URL of a blob store does: it
// needs no token.
func (s *Server) logBlob(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("owner") + "/" + r.PathValue("name")
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rn := range s.runs[name] {
		if rn.id == id {
			w.Header().Set("Content-Type", "application/zip")
			_, _ = w.Write(rn.zip)
			return
		}
	}
	http.NotFound(w, r)
}

// SetRunZip replaces the logs of a run.
func (s *Server) SetRunZip(repo string, id int64, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs[repo] {
		if r.id == id {
			r.zip = data
		}
	}
}

// AddMember makes login a member of org.
func (s *Server) AddMember(org, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.members == nil {
		s.members = map[string][]string{}
	}
	s.members[org] = append(s.members[org], login)
}

// AddGist creates a public gist of user, a git repository served at
// /git/gist/ID.git, and returns its id and a clone to commit files in and
// push from (branch master).
func (s *Server) AddGist(user string) (string, *gittest.Repo) {
	s.t.Helper()
	s.mu.Lock()
	s.nextGist++
	id := fmt.Sprintf("%032x", 0xa11ce000+s.nextGist)
	if s.gists == nil {
		s.gists = map[string][]string{}
	}
	s.gists[user] = append(s.gists[user], id)
	if s.wikis == nil {
		s.wikis = map[string]bool{}
	}
	s.wikis["gist/"+id] = true // served like a wiki: not listed as a repository
	s.mu.Unlock()
	bare := filepath.Join(s.root, "gist", id+".git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "master", bare).CombinedOutput(); err != nil {
		s.t.Fatalf("create gist %s: %v\n%s", id, err, out)
	}
	work := gittest.New(s.t)
	work.Git("checkout", "-q", "-b", "master")
	work.Git("remote", "add", "origin", bare)
	return id, work
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) || !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	var all []map[string]any
	for _, m := range s.members[r.PathValue("org")] {
		all = append(all, map[string]any{"login": m})
	}
	s.mu.Unlock()
	s.writePage(w, r, append([]map[string]any{}, all...))
}

func (s *Server) listGists(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) || !s.authorized(w, r) {
		return
	}
	user := r.PathValue("user")
	s.mu.Lock()
	var all []map[string]any
	for _, id := range s.gists[user] {
		all = append(all, map[string]any{
			"id": id, "public": true, "owner": map[string]any{"login": user},
			"html_url": s.URL + "/gist/" + user + "/" + id, "git_pull_url": s.URL + "/git/gist/" + id + ".git",
		})
	}
	s.mu.Unlock()
	s.writePage(w, r, append([]map[string]any{}, all...))
}
