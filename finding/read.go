package finding

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Read reads a report written with --format json (an array), jsonl (one
// finding a line) or sarif (which holds no secrets). Unknown fields of
// JSON and JSON lines are an error: a file that is not a keysweep report
// must not be acted upon.
func Read(r io.Reader) ([]Finding, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var out []Finding
	if first == '{' {
		doc, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("read report: %w", err)
		}
		if isSARIF(doc) {
			if out, err = readSARIF(doc); err != nil {
				return nil, err
			}
			return out, check(out)
		}
		br = bufio.NewReader(bytes.NewReader(doc))
	}
	dec := json.NewDecoder(br)
	dec.DisallowUnknownFields()
	switch first {
	case '[':
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("read report: %w", err)
		}
		if dec.More() {
			return nil, errors.New("read report: data after the array of findings")
		}
	case '{':
		for dec.More() {
			var f Finding
			if err := dec.Decode(&f); err != nil {
				return nil, fmt.Errorf("read report: finding %d: %w", len(out)+1, err)
			}
			out = append(out, f)
		}
	default:
		return nil, fmt.Errorf("read report: want a JSON array of findings (--format json), JSON lines (--format jsonl) or a SARIF log (--format sarif), not %q", first)
	}
	return out, check(out)
}

// check refuses findings without what every keysweep finding has.
func check(fs []Finding) error {
	for i, f := range fs {
		if f.RuleID == "" || f.Fingerprint == "" {
			return fmt.Errorf("read report: finding %d has no rule_id or fingerprint: %w", i+1, errNotReport)
		}
	}
	return nil
}

// firstByte returns the first byte that is not white space, unread.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return 0, errors.New("empty file")
		}
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, br.UnreadByte()
		}
	}
}

// ReadFile reads the report at path (see Read).
func ReadFile(path string) ([]Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fs, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fs, nil
}

// Merge returns the findings of reports, each once (the same Key: the
// same repository, secret, path and commit), in the order first seen.
func Merge(reports ...[]Finding) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, fs := range reports {
		for _, f := range fs {
			if k := f.Key(); !seen[k] {
				seen[k] = true
				out = append(out, f)
			}
		}
	}
	return out
}
