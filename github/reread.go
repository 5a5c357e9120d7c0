package github

import (
	"bytes"
	"context"
	"fmt"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// reread finds the secrets of findings recorded without them (the state
// keeps none) again in the mirror at dir: the blob each was found in, or
// the commit or tag whose message held it, is read and scanned again by
// det, and the match of the finding's rule with the finding's fingerprint
// gives the secret (the one at the finding's line, if the object holds it
// more than once). It returns the findings rebuilt with their secrets, and
// those it could not rebuild: their object is gone, or no longer holds a
// secret with that fingerprint.
func reread(ctx context.Context, dir string, det scanner.Detector, fps *finding.Fingerprinter, fs []finding.Finding) (found []finding.Finding, lost []finding.Finding, err error) {
	var ids []string
	byID := make(map[string][]finding.Finding)
	for _, f := range fs {
		id := f.Blob
		if f.InMessage() {
			id = f.Commit // the commit or tag whose message held it
		}
		if id == "" {
			lost = append(lost, f)
			continue
		}
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
		}
		byID[id] = append(byID[id], f)
	}
	if len(ids) == 0 {
		return nil, lost, nil
	}
	repo, err := gitsrc.Open(ctx, dir)
	if err != nil {
		return nil, fs, err
	}
	read := make(map[string]bool)
	err = repo.Objects(ctx, ids, func(o gitsrc.Object) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		read[o.ID] = true
		for _, f := range byID[o.ID] {
			data := o.Data
			switch {
			case f.InMessage() && (o.Type == "commit" || o.Type == "tag"):
				data = scanner.Message(data)
			case f.InMessage() || o.Type != "blob":
				lost = append(lost, f)
				continue
			}
			if sf, ok := findAgain(det, fps, f, data); ok {
				found = append(found, sf)
			} else {
				lost = append(lost, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fs, fmt.Errorf("read %d objects again: %w", len(ids), err)
	}
	for _, id := range ids {
		if !read[id] {
			lost = append(lost, byID[id]...)
		}
	}
	return found, lost, nil
}

// findAgain scans data, the content f was found in, and rebuilds f with
// the secret of the match that has f's fingerprint.
func findAgain(det scanner.Detector, fps *finding.Fingerprinter, f finding.Finding, data []byte) (finding.Finding, bool) {
	ms, _ := det.ScanCoverage(f.Path, data)
	best := -1
	for i, m := range ms {
		if m.RuleID != f.RuleID || m.Start < 0 || m.Start > len(data) || fps.Fingerprint(m.RuleID, m.KeyID, m.Secret) != f.Fingerprint {
			continue
		}
		if 1+bytes.Count(data[:m.Start], []byte{'\n'}) == f.Line {
			best = i
			break
		}
		if best < 0 {
			best = i
		}
	}
	if best < 0 {
		return finding.Finding{}, false
	}
	m := ms[best]
	g := f
	g.Secret, g.KeyID, g.SessionToken = m.Secret, m.KeyID, m.SessionToken
	return g, true
}
