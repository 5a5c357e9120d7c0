package gitsrc

import (
	"errors"
	"strings"
)

// Range is a set of commits named as git names them: Base..Head, the
// commits reachable from Head and not from Base, or with Symmetric
// Base...Head, the commits reachable from either side and not from both
// (neither from their merge bases).
type Range struct {
	Base, Head string
	Symmetric  bool
}

// String returns r as git writes it.
func (r Range) String() string {
	if r.Symmetric {
		return r.Base + "..." + r.Head
	}
	return r.Base + ".." + r.Head
}

// ParseRevRange reads a range as git and --range take it: BASE..HEAD,
// BASE alone for BASE..HEAD, or A...B (the symmetric difference). As in
// git, an empty side is HEAD. Each side is a revision for Repo.Commit,
// which never takes it for an option.
func ParseRevRange(spec string) (Range, error) {
	bad := errors.New
	if strings.TrimSpace(spec) == "" {
		return Range{}, bad("want BASE..HEAD, A...B, or BASE alone for BASE..HEAD")
	}
	if strings.ContainsFunc(spec, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return Range{}, bad("a range holds a control character")
	}
	sep, symmetric := "..", false
	if strings.Contains(spec, "...") {
		sep, symmetric = "...", true
	}
	base, head, found := strings.Cut(spec, sep)
	switch {
	case !found:
		return Range{Base: spec, Head: "HEAD"}, nil
	case strings.Contains(base, "..") || strings.Contains(head, ".."):
		return Range{}, bad("want one range, BASE..HEAD or A...B")
	case base == "" && head == "":
		return Range{}, bad("want BASE..HEAD, A...B, or BASE alone for BASE..HEAD")
	}
	if base == "" {
		base = "HEAD"
	}
	if head == "" {
		head = "HEAD"
	}
	return Range{Base: base, Head: head, Symmetric: symmetric}, nil
}

// ParseRange is ParseRevRange for a caller that takes only BASE..HEAD:
// it refuses A...B.
func ParseRange(spec string) (base, head string, err error) {
	r, err := ParseRevRange(spec)
	if err != nil {
		return "", "", err
	}
	if r.Symmetric {
		// The commits of either side and not of both are not what a pull
		// request adds.
		return "", "", errors.New("three dots are not supported here: give BASE..HEAD, the commits reachable from HEAD and not from BASE")
	}
	return r.Base, r.Head, nil
}
