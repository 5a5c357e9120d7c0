package github

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	gh "github.com/google/go-github/v84/github"

	"github.com/keysweep/keysweep/finding"
)

const (
	// gistPrefix starts the Repository of a gist's findings, and its
	// state entry: gist:USER/ID.
	gistPrefix = "gist:"
	// maxMemberPages and maxGistPages bound the pages (of 100) of an
	// organization's members, and of one user's gists.
	maxMemberPages = 100
	maxGistPages   = 10
)

// OrgMembers lists the logins of org's members, all pages (up to
// maxMemberPages).
func (c *Client) OrgMembers(ctx context.Context, org string) ([]string, error) {
	opts := &gh.ListMembersOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var logins []string
	for n := 1; ; n++ {
		var page []*gh.User
		var resp *gh.Response
		err := c.retry(ctx, func() error {
			var err error
			page, resp, err = c.gh.Organizations.ListMembers(ctx, org, opts)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the members of %s: %w", org, err)
		}
		for _, u := range page {
			logins = append(logins, u.GetLogin())
		}
		if resp.NextPage == 0 || resp.NextPage <= opts.Page || n >= maxMemberPages {
			return logins, nil
		}
		opts.Page = resp.NextPage
	}
}

// UserGists lists the public gists of user as repositories to sweep,
// named gist:USER/ID, all pages (up to maxGistPages). A gist whose id is
// not plain is skipped.
func (c *Client) UserGists(ctx context.Context, user string) ([]Repo, error) {
	if !validLogin(user) {
		return nil, fmt.Errorf("unusable user name %q", user)
	}
	opts := &gh.GistListOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Repo
	for n := 1; ; n++ {
		var page []*gh.Gist
		var resp *gh.Response
		err := c.retry(ctx, func() error {
			var err error
			page, resp, err = c.gh.Gists.List(ctx, user, opts)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the gists of %s: %w", user, err)
		}
		for _, g := range page {
			if !g.GetPublic() || !validGistID(g.GetID()) {
				continue
			}
			out = append(out, Repo{
				FullName: gistPrefix + user + "/" + g.GetID(), CloneURL: g.GetGitPullURL(), HTMLURL: webURL(g.GetHTMLURL()),
				Visibility: "public",
			})
		}
		if resp.NextPage == 0 || resp.NextPage <= opts.Page || n >= maxGistPages {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Gists lists the public gists of users, or of org's members when users
// is empty.
func (c *Client) Gists(ctx context.Context, org string, users []string) ([]Repo, error) {
	if len(users) == 0 {
		var err error
		if users, err = c.OrgMembers(ctx, org); err != nil {
			return nil, err
		}
	}
	var out []Repo
	for _, u := range users {
		gs, err := c.UserGists(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

// isGist reports whether name is a gist's (gist:USER/ID), and its parts.
func isGist(name string) (user, id string, ok bool) {
	rest, ok := strings.CutPrefix(name, gistPrefix)
	if !ok {
		return "", "", false
	}
	user, id, ok = strings.Cut(rest, "/")
	return user, id, ok && validLogin(user) && validGistID(id)
}

// validLogin reports whether s is a GitHub login: letters, digits and
// hyphens, at most 39.
func validLogin(s string) bool {
	return s != "" && len(s) <= 39 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
}

// validGistID reports whether s is a gist id: letters and digits (hex on
// GitHub), safe as a file name.
func validGistID(s string) bool {
	return s != "" && len(s) <= 64 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// sweepGist mirrors a gist (a git repository; its clone URL fetched with
// the token only on a trusted host, else anonymously over https) and
// scans it beyond its last sweep, like a repository's code.
func (s *Sweep) sweepGist(ctx context.Context, o *Outcome) {
	name := o.Repo.FullName
	_, id, ok := isGist(name)
	if !ok {
		o.Err = fmt.Errorf("unusable gist name %q", name)
		return
	}
	prev, err := s.State.Load(name)
	if err != nil {
		o.Err = err
		return
	}
	src := &sourceScan{cursors: map[string]string{}}
	// Beside mirrors/: no owner/name can reach it.
	dir := filepath.Join(s.Mirror.Dir, "gists", id+".git")
	if _, err := s.Mirror.sync(ctx, o.Repo, dir, true); errors.Is(err, ErrEmpty) {
		o.Unchanged = len(prev.Tips) == 0
		s.record(ctx, o, dir, map[string]string{}, nil, nil, src)
		return
	} else if err != nil {
		o.Err = fmt.Errorf("gist: %w", err)
		return
	}
	res, err := s.scanSince(ctx, dir, prev)
	if err != nil {
		o.Err = fmt.Errorf("scan: %w", err)
		return
	}
	for i := range res.Findings {
		res.Findings[i].Source, res.Findings[i].URL = finding.SourceGist, o.Repo.HTMLURL
	}
	o.Stats = res.Stats
	o.Unchanged = !s.Full && sameTips(prev.Tips, res.Tips) && res.Stats.Commits == 0
	s.record(ctx, o, dir, res.Tips, res.Blobs, res.Findings, src)
}
