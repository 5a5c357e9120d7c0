package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Mirror keeps bare mirrors of repositories under a cache directory.
type Mirror struct {
	Dir string
	// PullRefs also fetches refs/pull/* (the heads and merges of pull
	// requests, forks' included).
	PullRefs bool
	Tokens   TokenSource
	// Hosts decides which clone URLs are fetched, and so which servers
	// get the token: a clone URL anywhere else is refused.
	Hosts *Hosts
}

// Path is where the mirror of the repository named fullName lives.
func (m *Mirror) Path(fullName string) string {
	return filepath.Join(m.Dir, "mirrors", filepath.FromSlash(fullName)+".git")
}

// ErrEmpty is returned by Sync for a repository without any commit.
var ErrEmpty = errors.New("empty repository")

// Sync creates the mirror of r the first time (a bare repository whose
// only remote is r's clone URL, with no credentials in it), and fetches
// every branch and tag into it, pruning what was deleted and following
// force pushes. It returns the mirror's path. A clone URL the hosts do
// not trust is refused before anything is created or sent; go-git drops
// the token if the git host redirects to another origin.
func (m *Mirror) Sync(ctx context.Context, r Repo) (string, error) {
	return m.sync(ctx, r, m.Path(r.FullName), false)
}

// sync is Sync into dir. With anonymous, a clone URL over https that the
// hosts do not trust is fetched all the same, without the token (a public
// gist on gist.github.com).
func (m *Mirror) sync(ctx context.Context, r Repo, dir string, anonymous bool) (string, error) {
	tokens := m.Tokens
	if err := m.Hosts.CheckCloneURL(r.CloneURL); err != nil {
		u, perr := url.Parse(r.CloneURL)
		if !anonymous || perr != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			return "", err
		}
		tokens = nil
	}
	repo, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", fmt.Errorf("create mirror directory: %w", err)
		}
		if repo, err = git.PlainInit(dir, true); err != nil {
			return "", fmt.Errorf("create mirror: %w", err)
		}
		_, err = repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{r.CloneURL}, Fetch: m.refSpecs()})
		if err != nil {
			return "", fmt.Errorf("create mirror: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("open mirror %s: %w (delete it to start over)", dir, err)
	}
	var auth transport.AuthMethod
	if tokens != nil {
		tok, err := tokens.Token(ctx)
		if err != nil {
			return "", err
		}
		if tok != "" {
			auth = &githttp.BasicAuth{Username: "x-access-token", Password: tok}
		}
	}
	err = repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RemoteURL:  r.CloneURL, // a renamed or transferred repository moves
		RefSpecs:   m.refSpecs(),
		Auth:       auth,
		Tags:       git.NoTags, // the refspecs name them
		Force:      true,
		Prune:      true,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return dir, pointHEAD(repo, r.DefaultBranch)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return dir, ErrEmpty
	}
	return "", fmt.Errorf("fetch: %w", err)
}

func (m *Mirror) refSpecs() []gitconfig.RefSpec {
	specs := []gitconfig.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}
	if m.PullRefs {
		specs = append(specs, "+refs/pull/*:refs/pull/*")
	}
	return specs
}

// Remove deletes the mirror of the repository named fullName.
func (m *Mirror) Remove(fullName string) error {
	return os.RemoveAll(m.Path(fullName))
}

// pointHEAD points the mirror's HEAD at the default branch the API names,
// as a clone's is: what "still on the default branch" is asked of. A name
// that is not a valid branch leaves HEAD as it was.
func pointHEAD(repo *git.Repository, branch string) error {
	name := plumbing.NewBranchReferenceName(branch)
	if branch == "" || name.Validate() != nil {
		return nil
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, name)); err != nil {
		return fmt.Errorf("point the mirror's HEAD at %s: %w", name, err)
	}
	return nil
}
