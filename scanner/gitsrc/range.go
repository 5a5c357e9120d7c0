package gitsrc

import (
	"errors"
	"strings"
)

// ParseRange reads a range as git and --range take it, BASE..HEAD: the commits reachable from HEAD and
// not from BASE. BASE alone means BASE..HEAD and, as in git, an empty side
// is HEAD.
func ParseRange(spec string) (base, head string, err error) {
	bad := errors.New
	switch {
	case strings.Contains(spec, "..."):
		// git reads A...B as the commits of either side and not of both,
		// which is not what a pull request adds.
		return "", "", bad("three dots are not supported: give BASE..HEAD, the commits reachable from HEAD and not from BASE")
	case strings.TrimSpace(spec) == "":
		return "", "", bad("want BASE..HEAD, or BASE alone for BASE..HEAD")
	}
	base, head, found := strings.Cut(spec, "..")
	switch {
	case !found:
		return spec, "HEAD", nil
	case strings.Contains(head, ".."):
		return "", "", bad("want one range, BASE..HEAD")
	case base == "" && head == "":
		return "", "", bad("want BASE..HEAD, or BASE alone for BASE..HEAD")
	}
	if base == "" {
		base = "HEAD"
	}
	if head == "" {
		head = "HEAD"
	}
	return base, head, nil
}
