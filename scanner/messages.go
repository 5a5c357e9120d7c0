package scanner

import (
	"bytes"
	"context"
	"fmt"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// inlineMessage is the largest message scanned without the bound on its
// time that a blob gets.
const inlineMessage = 64 << 10

// scanMessages scans the messages of commits and of the annotated tags
// tags, and counts them in st. A finding in a message has Source set, no
// path, and its line counted from the message's first line.
func scanMessages(ctx context.Context, repo *gitsrc.Repo, det Detector, opts Options, commits []string, tags []gitsrc.Object, st *Stats) ([]found, error) {
	var out []found
	scan := func(o gitsrc.Object, source string) error {
		msg := Message(o.Data)
		if len(msg) == 0 {
			return nil
		}
		st.Messages++
		// A message is text like a file's: binary or not, it is scanned.
		mopts := Options{KeepMarked: opts.KeepMarked, ScanBinary: true}
		var fs []finding.Finding
		if len(msg) <= inlineMessage {
			// A message of a usual size scans in microseconds: a
			// goroutine of its own would cost more than the scan.
			if err := ctx.Err(); err != nil {
				return err
			}
			fs = st.scanContent(det, mopts, "", msg)
		} else {
			var err error
			if fs, err = st.scanBounded(ctx, det, mopts, "", msg); err != nil {
				return err
			}
		}
		st.Blobs-- // counted as a message, not a blob
		st.Bytes -= int64(len(msg))
		var subject string
		if source == finding.SourceTagMessage {
			// A commit's comes from git log with its author.
			subject = gitsrc.Subject(msg)
		}
		for _, f := range fs {
			f.Commit, f.Source, f.Subject = o.ID, source, subject
			out = append(out, found{Finding: f})
		}
		return nil
	}
	err := repo.Objects(ctx, commits, func(o gitsrc.Object) error {
		if o.Type != "commit" {
			return nil
		}
		return scan(o, finding.SourceCommitMessage)
	})
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := scan(t, finding.SourceTagMessage); err != nil {
			return nil, err
		}
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

// addMessages scans the messages of the commits res walked and of the
// annotated tags among tags (with the tags they name), and adds what it
// finds to res: once per secret, at its oldest message.
func addMessages(ctx context.Context, repo *gitsrc.Repo, det Detector, opts Options, res *Result, tags []string) error {
	objs, err := repo.TagChain(ctx, tags)
	if err != nil {
		return err
	}
	fs, err := scanMessages(ctx, repo, det, opts, res.commits, objs, &res.Stats)
	if err != nil {
		return fmt.Errorf("scan commit and tag messages: %w", err)
	}
	if !opts.AllOccurrences {
		fs = dedupe(fs)
	}
	res.Findings = append(res.Findings, findingsOf(fs)...)
	return nil
}
