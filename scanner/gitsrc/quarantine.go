package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Resolve peels each tip through annotated tags to the object it finally
// names, and fills in its type. An object the repository lacks is an
// error.
func (r *Repo) Resolve(ctx context.Context, tips []Tip) ([]Tip, error) {
	if len(tips) == 0 {
		return nil, nil
	}
	return r.peel(ctx, tips)
}

// quarantineVars are what git sets while a push's objects wait in
// quarantine: the new objects' directory, and the repository's own store
// as an alternate.
var quarantineVars = []string{"GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"}

// Known returns which of ids the repository already held before the push
// now in quarantine: the objects of its own store, not the pushed ones.
func (r *Repo) Known(ctx context.Context, ids []string) (map[string]bool, error) {
	known := make(map[string]bool)
	if len(ids) == 0 {
		return known, nil
	}
	cmd := r.command(ctx, "cat-file", "--batch-check=%(objectname)")
	cmd.Env = withoutVars(r.env, quarantineVars)
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("look up objects outside the quarantine: %w", gitError("cat-file", err, stderr.Bytes()))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "<id>" when present, "<id> missing" when not.
		if line := sc.Text(); !strings.Contains(line, " ") {
			known[line] = true
		}
	}
	return known, nil
}

// withoutVars returns env without the variables named.
func withoutVars(env, names []string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// RemoteTips returns what the remote-tracking refs of remote point at:
// what the repository last saw of it. A remote given as a URL rather than
// a name has none.
func (r *Repo) RemoteTips(ctx context.Context, remote string) ([]string, error) {
	if remote == "" || strings.ContainsAny(remote, ":*?[\\") {
		return nil, nil
	}
	out, err := r.output(ctx, "for-each-ref", "--format=%(objectname)", "refs/remotes/"+remote+"/")
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// Commit resolves rev (a branch, tag, id or any git revision) to the id
// of the commit it names.
func (r *Repo) Commit(ctx context.Context, rev string) (string, error) {
	out, err := r.output(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%q does not name a commit of the repository", rev)
	}
	return strings.TrimSpace(string(out)), nil
}
