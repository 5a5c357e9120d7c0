package remote

import (
	"fmt"
	"path/filepath"
	"strings"
)

// maxSegments bounds how deep a cache path goes (GitLab nests groups 20
// deep).
const maxSegments = 32

// maxSegment bounds one directory name of a cache path, in bytes.
const maxSegment = 100

// cachePath returns <root>/<host>/<path>.git for t, each part made a
// plain directory name: only letters, digits, '.', '-' and '_' (anything
// else, ':' of a port included, becomes '_'), no name that starts with a
// dot (so no "..", and nothing hidden), no name Windows reserves. Two
// repositories whose names only differ where they were made plain share
// a directory: Mirror then finds the other's URL stored there and stops.
func cachePath(root string, t *Target) (string, error) {
	if root == "" {
		return "", fmt.Errorf("cache: no directory")
	}
	host := t.Host
	if t.Scheme == "file" {
		host = "file"
	}
	parts := []string{plainName(host)}
	parts = append(parts, strings.FieldsFunc(t.path, func(r rune) bool { return r == '/' || r == '\\' })...)
	if len(parts) < 2 {
		return "", fmt.Errorf("cache: no repository path")
	}
	if len(parts) > maxSegments {
		return "", fmt.Errorf("cache: the repository path is more than %d directories deep", maxSegments)
	}
	last := parts[len(parts)-1]
	if strings.HasSuffix(strings.ToLower(last), ".git") {
		last = last[:len(last)-len(".git")]
	}
	parts[len(parts)-1] = last
	for i := 1; i < len(parts); i++ {
		parts[i] = plainName(parts[i])
	}
	parts[len(parts)-1] += ".git"
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	dir := filepath.Join(append([]string{abs}, parts...)...)
	// Belt and braces: nothing above made a way out of root.
	if rel, err := filepath.Rel(abs, dir); err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		return "", fmt.Errorf("cache: %s is outside %s", dir, abs)
	}
	return dir, nil
}

// plainName makes s a directory name that means nothing special to any
// file system.
func plainName(s string) string {
	b := []byte(s)
	if len(b) > maxSegment {
		b = b[:maxSegment]
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.' && i > 0 && i < len(b)-1:
		default:
			b[i] = '_'
		}
	}
	name := string(b)
	if name == "" {
		return "_"
	}
	base, _, _ := strings.Cut(strings.ToUpper(name), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return "_" + name
	}
	return name
}
