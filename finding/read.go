package finding

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Read reads a report written with --format json (an array) or jsonl
// (one finding a line). Unknown fields are an error: a file that is not a
// keysweep report must not be acted upon.
func Read(r io.Reader) ([]Finding, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	dec := json.NewDecoder(br)
	dec.DisallowUnknownFields()
	var out []Finding
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
		return nil, fmt.Errorf("read report: want a JSON array of findings (--format json) or JSON lines (--format jsonl), not %q", first)
	}
	for i, f := range out {
		if f.RuleID == "" || f.Fingerprint == "" {
			return nil, fmt.Errorf("read report: finding %d has no rule_id or fingerprint: not a keysweep report", i+1)
		}
	}
	return out, nil
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
