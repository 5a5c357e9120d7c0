package scanner

import (
	"bytes"
	"context"

	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// scanMessages scans the messages of commits and of the annotated tags
// tags, and counts them in st. A finding in a message has Source set, no
// path, and its line counted from the message's first line.
func scanMessages(ctx context.Context, repo *gitsrc.Repo, det Detector, opts Options, commits []string, tags []gitsrc.Object, st *Stats) ([]Finding, error) {
	var out []Finding
	scan := func(o gitsrc.Object, source string) {
		msg := Message(o.Data)
		if len(msg) == 0 {
			return
		}
		st.Messages++
		ms, cov := det.ScanCoverage("", msg)
		if cov.Undecoded > 0 {
			st.Undecoded++
		}
		fs, allowed := findingsIn(ms, msg, "", opts.KeepMarked)
		st.InlineAllowed += int64(allowed)
		for _, f := range fs {
			f.Commit, f.Source = o.ID, source
			out = append(out, f)
		}
	}
	err := repo.Objects(ctx, commits, func(o gitsrc.Object) error {
		if o.Type == "commit" {
			scan(o, SourceCommitMessage)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		scan(t, SourceTagMessage)
	}
	if err := addAuthors(ctx, repo, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Message returns the message of a raw commit or tag object: what follows
// the headers, up to the end (a tag's signature included).
func Message(raw []byte) []byte {
	if _, msg, ok := bytes.Cut(raw, []byte("\n\n")); ok {
		return msg
	}
	return nil
}
