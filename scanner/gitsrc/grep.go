package gitsrc

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
)

// InHead returns which of words (fixed strings, such as key ids) the
// tree of HEAD, the default branch's tip in a clone or a mirror, still
// holds in some file. A repository without a HEAD commit holds none.
// When some file could not be read (a partial clone), the words found are
// returned with an error: those not found may be there all the same.
func (r *Repo) InHead(ctx context.Context, words []string) (map[string]bool, error) {
	found := make(map[string]bool)
	if len(words) == 0 {
		return found, nil
	}
	if _, err := r.output(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{tree}"); err != nil {
		return found, nil // unborn: nothing is there
	}
	args := []string{"grep", "--no-color", "--no-textconv", "-a", "-h", "-o", "-F"}
	for _, w := range words {
		args = append(args, "-e", w)
	}
	args = append(args, "HEAD", "--")
	cmd := r.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0 {
		return found, nil // no match
	}
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" {
			found[line] = true
		}
	}
	if err != nil || stderr.Len() > 0 {
		return found, gitError("grep", err, stderr.Bytes())
	}
	return found, nil
}
