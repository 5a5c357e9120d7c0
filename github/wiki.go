package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/keysweep/keysweep/finding"
)

// gitSave is the sweep of a git repository beside the code (a wiki) to
// record once the findings are saved: its own state entry.
type gitSave struct {
	name  string
	tips  map[string]string
	blobs []string
}

// moreScan is what the wiki and the workflow logs of a repository gave.
type moreScan struct {
	findings []finding.Finding
	saves    []gitSave
	commits  int // new commits of the wiki
}

// wikiName is the state entry, and mirror name, of repo's wiki. GitHub
// refuses repository names ending in .wiki, so none is taken.
func wikiName(repo string) string { return repo + ".wiki" }

// scanWiki mirrors repo's wiki (a git repository at the clone URL without
// .git, plus .wiki.git, fetched with the code's token and host rules) and
// scans it beyond its last sweep. A repository without a wiki (the clone
// answers not found, or has no commit) has nothing to scan.
func (s *Sweep) scanWiki(ctx context.Context, repo Repo, out *moreScan, src *sourceScan) error {
	name := wikiName(repo.FullName)
	clone := strings.TrimSuffix(repo.CloneURL, ".git") + ".wiki.git"
	prev, err := s.State.Load(name)
	if err != nil {
		return err
	}
	dir, err := s.Mirror.Sync(ctx, Repo{FullName: name, CloneURL: clone})
	switch {
	case errors.Is(err, ErrEmpty), errors.Is(err, transport.ErrRepositoryNotFound):
		src.stats.Unavailable = append(src.stats.Unavailable, "wiki (none)")
		if len(prev.Tips) == 0 {
			_ = s.Mirror.Remove(name) // nothing kept for a wiki never seen
		}
		return nil
	case err != nil:
		return fmt.Errorf("wiki: %w", err)
	}
	res, err := s.scanSince(ctx, dir, prev)
	if err != nil {
		return fmt.Errorf("scan the wiki: %w", err)
	}
	for _, f := range res.Findings {
		f.Source, f.Repository = finding.SourceWiki, repo.FullName
		f.URL = wikiPageURL(repo.HTMLURL, f.Path)
		// Under wiki/: the same secret in the code's file of the same
		// name is another finding, not one already known.
		f.Path = "wiki/" + f.Path
		out.findings = append(out.findings, f)
	}
	out.commits += res.Stats.Commits
	out.saves = append(out.saves, gitSave{name: name, tips: res.Tips, blobs: res.Blobs})
	return nil
}

// wikiPageURL is the address of the wiki page stored at file: the
// repository's page, /wiki/, and the file's name without its extension.
// A name that is not a plain page name gives the wiki's front page.
func wikiPageURL(htmlURL, file string) string {
	base := webURL(htmlURL)
	if base == "" {
		return ""
	}
	base = strings.TrimSuffix(base, "/") + "/wiki"
	page := strings.TrimSuffix(file, path.Ext(file))
	if page == "" || strings.Trim(page, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || strings.HasPrefix(page, ".") {
		return base
	}
	return base + "/" + url.PathEscape(page)
}
