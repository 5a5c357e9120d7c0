package ghtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// discussions are the issues, pull requests, comments and reviews the
// stand-in serves, by repository. Every change moves their clock a minute
// on, from a time well in the past: updated_at orders them, as on GitHub.
type discussions struct {
	mu           sync.Mutex
	clock        time.Time
	nextID       int64
	issues       map[string][]*issue
	comments     map[string][]*comment // on issues and pull requests
	diffComments map[string][]*comment // on pull requests' diffs
	reviews      map[string][]*review
}

type issue struct {
	number           int
	id               int64
	pull, closed     bool
	author, title    string
	body             string
	created, updated time.Time
}

type comment struct {
	id               int64
	number           int
	author, body     string
	created, updated time.Time
}

type review struct {
	id           int64
	number       int
	author, body string
	submitted    time.Time
}

// Item is what the stand-in made: an issue or pull request (Number), or
// a comment or review on one (ID), when it was made, and its html_url.
type Item struct {
	Number  int
	ID      int64
	Created time.Time
	URL     string
}

func (s *Server) routeDiscussions(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}/issues", s.listIssues)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}/issues/comments", s.listIssueComments)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}/pulls/comments", s.listDiffComments)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{name}/pulls/{number}/reviews", s.listReviews)
}

// tick moves the clock on and returns the new time. d.mu is held.
func (d *discussions) tick() time.Time {
	if d.clock.IsZero() {
		d.clock = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		d.issues, d.comments, d.diffComments, d.reviews = map[string][]*issue{}, map[string][]*comment{}, map[string][]*comment{}, map[string][]*review{}
	}
	d.clock = d.clock.Add(time.Minute)
	d.nextID++
	return d.clock
}

// HTMLURL is the address of something on the stand-in's web pages:
// repo's page, then rest ("issues/12#issuecomment-345").
func (s *Server) HTMLURL(repo, rest string) string { return s.URL + "/" + repo + "/" + rest }

// AddIssue opens an issue in repo (owner/name) by author.
func (s *Server) AddIssue(repo, author, title, body string) Item {
	return s.addIssue(repo, author, title, body, false)
}

// AddPull opens a pull request in repo by author: an issue that is a pull
// request, numbered with the issues.
func (s *Server) AddPull(repo, author, title, body string) Item {
	return s.addIssue(repo, author, title, body, true)
}

func (s *Server) addIssue(repo, author, title, body string, pull bool) Item {
	d := &s.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.tick()
	it := &issue{number: len(d.issues[repo]) + 1, id: d.nextID, pull: pull, author: author, title: title, body: body, created: now, updated: now}
	d.issues[repo] = append(d.issues[repo], it)
	return Item{Number: it.number, ID: it.id, Created: now, URL: s.issueURL(repo, it)}
}

func (s *Server) issueURL(repo string, it *issue) string {
	if it.pull {
		return s.HTMLURL(repo, "pull/"+strconv.Itoa(it.number))
	}
	return s.HTMLURL(repo, "issues/"+strconv.Itoa(it.number))
}

// CloseIssue closes an issue or pull request (it is then listed only
// with state=closed or all).
func (s *Server) CloseIssue(repo string, number int) {
	d := &s.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	if it := d.issue(repo, number); it != nil {
		it.closed, it.updated = true, d.tick()
	}
}

// issue finds an issue; d.mu is held.
func (d *discussions) issue(repo string, number int) *issue {
	for _, it := range d.issues[repo] {
		if it.number == number {
			return it
		}
	}
	return nil
}

// AddIssueComment comments on issue or pull request number, which it
// updates.
func (s *Server) AddIssueComment(repo string, number int, author, body string) Item {
	return s.addComment(repo, number, author, body, false)
}

// AddReviewComment comments on pull request number's diff, which updates
// the pull request.
func (s *Server) AddReviewComment(repo string, number int, author, body string) Item {
	return s.addComment(repo, number, author, body, true)
}

func (s *Server) addComment(repo string, number int, author, body string, diff bool) Item {
	d := &s.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.tick()
	it := d.issue(repo, number)
	if it == nil || diff && !it.pull {
		s.t.Fatalf("ghtest: no %s %d in %s", map[bool]string{true: "pull request", false: "issue"}[diff], number, repo)
	}
	it.updated = now
	c := &comment{id: d.nextID, number: number, author: author, body: body, created: now, updated: now}
	if diff {
		d.diffComments[repo] = append(d.diffComments[repo], c)
		return Item{Number: number, ID: c.id, Created: now, URL: s.HTMLURL(repo, fmt.Sprintf("pull/%d#discussion_r%d", number, c.id))}
	}
	d.comments[repo] = append(d.comments[repo], c)
	return Item{Number: number, ID: c.id, Created: now, URL: s.issueURL(repo, it) + fmt.Sprintf("#issuecomment-%d", c.id)}
}

// AddReview submits a review of pull request number, with body, which
// updates the pull request.
func (s *Server) AddReview(repo string, number int, author, body string) Item {
	d := &s.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.tick()
	it := d.issue(repo, number)
	if it == nil || !it.pull {
		s.t.Fatalf("ghtest: no pull request %d in %s", number, repo)
	}
	it.updated = now
	rv := &review{id: d.nextID, number: number, author: author, body: body, submitted: now}
	d.reviews[repo] = append(d.reviews[repo], rv)
	return Item{Number: number, ID: rv.id, Created: now, URL: s.HTMLURL(repo, fmt.Sprintf("pull/%d#pullrequestreview-%d", number, rv.id))}
}

// EditComment replaces the body of comment id (on an issue or a diff),
// which updates the comment (not its issue), as GitHub does.
func (s *Server) EditComment(repo string, id int64, body string) {
	d := &s.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, cs := range [][]*comment{d.comments[repo], d.diffComments[repo]} {
		for _, c := range cs {
			if c.id == id {
				c.body, c.updated = body, d.tick()
				return
			}
		}
	}
	s.t.Fatalf("ghtest: no comment %d in %s", id, repo)
}

// discussionRepo checks an API request for a repository's discussions:
// rate limits, the token, and the repository. issues says whether the
// listing is one GitHub turns off with the repository's issues.
func (s *Server) discussionRepo(w http.ResponseWriter, r *http.Request, issues bool) (string, bool) {
	if s.limited(w, r) || !s.authorized(w, r) {
		return "", false
	}
	name := r.PathValue("owner") + "/" + r.PathValue("name")
	s.mu.Lock()
	repo, ok := s.repos[name]
	s.mu.Unlock()
	if !ok || issues && repo.IssuesDisabled {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
		return "", false
	}
	return name, true
}

// listQuery reads since, sort and direction as GitHub does: since keeps
// what was updated at or after it.
func listQuery(w http.ResponseWriter, r *http.Request, defaultDirection string) (since time.Time, sortBy string, asc bool, ok bool) {
	q := r.URL.Query()
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed: since is not an ISO 8601 time"})
			return since, "", false, false
		}
		since = t
	}
	sortBy = q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = defaultDirection
	}
	return since, sortBy, dir == "asc", true
}

func ordered[T any](items []T, sortBy string, asc bool, created, updated func(T) time.Time, id func(T) int64) {
	key := created
	if sortBy == "updated" {
		key = updated
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := key(items[i]), key(items[j])
		if a.Equal(b) {
			return id(items[i]) < id(items[j]) == asc
		}
		return a.Before(b) == asc
	})
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.discussionRepo(w, r, true)
	if !ok {
		return
	}
	since, sortBy, asc, ok := listQuery(w, r, "desc")
	if !ok {
		return
	}
	state := r.URL.Query().Get("state")
	d := &s.disc
	d.mu.Lock()
	var items []*issue
	for _, it := range d.issues[repo] {
		if (state == "all" || state == "closed" && it.closed || (state == "" || state == "open") && !it.closed) && !it.updated.Before(since) {
			c := *it
			items = append(items, &c)
		}
	}
	d.mu.Unlock()
	ordered(items, sortBy, asc, func(i *issue) time.Time { return i.created }, func(i *issue) time.Time { return i.updated }, func(i *issue) int64 { return i.id })
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		state := "open"
		if it.closed {
			state = "closed"
		}
		m := map[string]any{
			"id": it.id, "number": it.number, "title": it.title, "body": it.body, "state": state,
			"user": map[string]any{"login": it.author}, "html_url": s.issueURL(repo, it),
			"url":        s.APIURL() + "repos/" + repo + "/issues/" + strconv.Itoa(it.number),
			"created_at": it.created.Format(time.RFC3339), "updated_at": it.updated.Format(time.RFC3339),
		}
		if it.pull {
			m["pull_request"] = map[string]any{"url": s.APIURL() + "repos/" + repo + "/pulls/" + strconv.Itoa(it.number), "html_url": s.issueURL(repo, it)}
		}
		out = append(out, m)
	}
	s.writePage(w, r, out)
}

func (s *Server) listIssueComments(w http.ResponseWriter, r *http.Request) {
	s.listComments(w, r, false)
}

func (s *Server) listDiffComments(w http.ResponseWriter, r *http.Request) {
	s.listComments(w, r, true)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, diff bool) {
	repo, ok := s.discussionRepo(w, r, !diff)
	if !ok {
		return
	}
	since, sortBy, asc, ok := listQuery(w, r, "asc")
	if !ok {
		return
	}
	d := &s.disc
	d.mu.Lock()
	src := d.comments[repo]
	if diff {
		src = d.diffComments[repo]
	}
	var items []comment
	urls := map[int64]string{}
	for _, c := range src {
		if !c.updated.Before(since) {
			items = append(items, *c)
			if it := d.issue(repo, c.number); it != nil {
				urls[c.id] = s.issueURL(repo, it)
			}
		}
	}
	d.mu.Unlock()
	ordered(items, sortBy, asc, func(c comment) time.Time { return c.created }, func(c comment) time.Time { return c.updated }, func(c comment) int64 { return c.id })
	out := make([]map[string]any, 0, len(items))
	for _, c := range items {
		m := map[string]any{
			"id": c.id, "body": c.body, "user": map[string]any{"login": c.author},
			"created_at": c.created.Format(time.RFC3339), "updated_at": c.updated.Format(time.RFC3339),
		}
		if diff {
			m["html_url"] = s.HTMLURL(repo, fmt.Sprintf("pull/%d#discussion_r%d", c.number, c.id))
			m["pull_request_url"] = s.APIURL() + "repos/" + repo + "/pulls/" + strconv.Itoa(c.number)
			m["path"] = "README.md"
		} else {
			m["html_url"] = urls[c.id] + fmt.Sprintf("#issuecomment-%d", c.id)
			m["issue_url"] = s.APIURL() + "repos/" + repo + "/issues/" + strconv.Itoa(c.number)
		}
		out = append(out, m)
	}
	s.writePage(w, r, out)
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.discussionRepo(w, r, false)
	if !ok {
		return
	}
	number, err := strconv.Atoi(r.PathValue("number"))
	d := &s.disc
	d.mu.Lock()
	var it *issue
	if err == nil {
		it = d.issue(repo, number)
	}
	var items []review
	for _, rv := range d.reviews[repo] {
		if rv.number == number {
			items = append(items, *rv)
		}
	}
	d.mu.Unlock()
	if it == nil || !it.pull {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	out := make([]map[string]any, 0, len(items))
	for _, rv := range items {
		out = append(out, map[string]any{
			"id": rv.id, "body": rv.body, "user": map[string]any{"login": rv.author}, "state": "COMMENTED",
			"html_url":     s.HTMLURL(repo, fmt.Sprintf("pull/%d#pullrequestreview-%d", number, rv.id)),
			"submitted_at": rv.submitted.Format(time.RFC3339),
		})
	}
	s.writePage(w, r, out)
}

// writePage answers one page of all, as per_page and page ask (per_page
// at most IssuePageSize), with GitHub's Link header.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, all []map[string]any) {
	s.mu.Lock()
	size := s.IssuePageSize
	s.mu.Unlock()
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	s.writePageOf(w, r, all, min(per, max(size, 1)))
}

// writePageOf answers the page of all that page asks, per to a page, with
// GitHub's Link header (next, last, first, prev).
func (s *Server) writePageOf(w http.ResponseWriter, r *http.Request, all []map[string]any, per int) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	last := max(1, (len(all)+per-1)/per)
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", s.URL, r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, http.StatusOK, all[lo:hi])
}
