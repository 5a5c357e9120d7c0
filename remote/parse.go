// Package remote fetches a repository that is not on this machine into a
// bare mirror that the history scan then reads as it reads a local one:
// it tells a URL (https, http to a loopback host, ssh, scp-like
// user@host:path, file) from a local path, refuses what git should not be
// made to run (ext::, fd::, option-like arguments, plain http to another
// machine), and runs git clone --mirror, or a fetch into a cached mirror,
// without a credential ever reaching the disk, an argument list, a
// message or another host.
package remote

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Target is a remote repository to scan.
type Target struct {
	// URL is what git is given: for http and https without a user name
	// or password (those reach git through its credential protocol); for
	// ssh and scp-like addresses as written, user name included.
	URL string
	// Host is the lower-case host name (an IPv6 address in brackets),
	// with ":port" when the URL names a port other than the scheme's
	// default. It is empty for file URLs.
	Host string
	// Scheme is https, http, ssh or file. An scp-like address is ssh.
	Scheme string

	// path is the repository's path on the host, percent-decoded, for
	// the cache directory.
	path string
	// origin is scheme://host[:port] as written, what credentials are
	// scoped to (http and https only).
	origin string
	// auth is the user name and password the URL carried (http and
	// https only), behind a pointer so that printing a Target with %v
	// never shows them.
	auth *userinfo
}

// userinfo is a user name and password taken out of a URL.
type userinfo struct {
	user, password string
	hasPassword    bool
}

// String is the URL to show: git's URL, which carries no credential.
func (t *Target) String() string { return t.URL }

// schemeLen returns the length of the scheme that starts arg (before
// "://" of a URL or "::" of git's "<transport>::<address>"), or -1.
func schemeLen(arg string) int {
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// Parse says whether arg names a remote repository (a URL or scp-like
// user@host:path), and parses it. A local path is (nil, false, nil).
//
// Refused with an error: an argument that starts with "-" (git would
// take it for an option), a transport git should not run (ext::, fd::,
// git://, anything but https, http, ssh, scp-like and file), plain http
// to a host that is not loopback, a malformed URL, control characters,
// a query or fragment, and a path with a ".." segment.
//
// A path is local unless it has a scheme ("https://..."), a transport
// ("ext::..."), or is scp-like: a colon before any slash or backslash,
// with a user name ("git@host:path"), a dotted host ("github.com:path")
// or an IPv6 host ("[::1]:path") before it. So "C:\repo", "C:/repo",
// "dir:with/colon" and "./git@host:x" are local.
func Parse(arg string) (*Target, bool, error) {
	if arg == "" {
		return nil, false, nil
	}
	if strings.HasPrefix(arg, "-") {
		return nil, false, fmt.Errorf("repository %q starts with '-': git would take it for an option (for a local directory, write ./ before it)", redactArg(arg))
	}
	if n := schemeLen(arg); n > 0 {
		rest := arg[n:]
		switch {
		case strings.HasPrefix(rest, "://"):
			t, err := parseURL(arg, strings.ToLower(arg[:n]))
			if err != nil {
				return nil, false, fmt.Errorf("repository URL %q: %w", redactArg(arg), err)
			}
			return t, true, nil
		case strings.HasPrefix(rest, "::"):
			return nil, false, fmt.Errorf("repository %q: git transport %q is not allowed (keysweep clones over https, http to loopback, ssh or file)", redactArg(arg), arg[:n]+"::")
		}
	}
	user, host, path, ok := splitSCP(arg)
	if !ok {
		return nil, false, nil
	}
	t, err := parseSCP(arg, user, host, path)
	if err != nil {
		return nil, false, fmt.Errorf("repository %q: %w", redactArg(arg), err)
	}
	return t, true, nil
}

// splitSCP splits an scp-like address [user@]host:path, and says whether
// arg is one.
func splitSCP(arg string) (user, host, path string, ok bool) {
	var hostPart string
	rest := arg
	if at := strings.IndexByte(arg, '@'); at >= 0 && !strings.ContainsAny(arg[:at], "/\\:") {
		user, rest = arg[:at], arg[at+1:]
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 || strings.ContainsAny(rest[:end], "/\\") {
			return "", "", "", false
		}
		hostPart, path = rest[:end+1], rest[end+2:]
	} else {
		colon := strings.IndexByte(rest, ':')
		if colon < 0 || strings.ContainsAny(rest[:colon], "/\\") {
			return "", "", "", false
		}
		hostPart, path = rest[:colon], rest[colon+1:]
		// A drive letter (C:\repo, C:/repo, c:repo) is a local path.
		if len(hostPart) == 1 && user == "" {
			return "", "", "", false
		}
		// Without a user name, only a dotted host name is taken for a
		// host: "dir:name" stays a local path, as most people mean it.
		if user == "" && !strings.Contains(hostPart, ".") {
			return "", "", "", false
		}
	}
	return user, hostPart, path, true
}

// parseSCP checks an scp-like address.
func parseSCP(arg, user, hostPart, path string) (*Target, error) {
	if err := checkText(arg); err != nil {
		return nil, err
	}
	if strings.HasPrefix(user, "-") {
		return nil, fmt.Errorf("user name starts with '-'")
	}
	if strings.ContainsAny(user, ":;") {
		return nil, fmt.Errorf("ssh takes no password in the address: use a key or ssh-agent")
	}
	host, err := checkHost(strings.TrimSuffix(strings.TrimPrefix(hostPart, "["), "]"))
	if err != nil {
		return nil, err
	}
	if err := checkRepoPath(path); err != nil {
		return nil, err
	}
	if strings.HasPrefix(path, "-") {
		return nil, fmt.Errorf("path starts with '-'")
	}
	return &Target{URL: arg, Host: host, Scheme: "ssh", path: path}, nil
}

// parseURL checks a URL whose scheme (lower case) is scheme.
func parseURL(arg, scheme string) (*Target, error) {
	switch scheme {
	case "https", "http", "ssh", "file":
	case "git":
		return nil, fmt.Errorf("the git:// protocol is neither encrypted nor authenticated: use https or ssh")
	case "git+ssh", "ssh+git":
		return nil, fmt.Errorf("write ssh:// instead of %s://", scheme)
	default:
		return nil, fmt.Errorf("scheme %q is not allowed (keysweep clones over https, http to loopback, ssh or file)", scheme)
	}
	if err := checkText(arg); err != nil {
		return nil, err
	}
	u, err := url.Parse(arg)
	if err != nil {
		// url.Error quotes the whole URL, password included: only its
		// reason is shown.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("malformed: %s", redactArg(err.Error()))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(arg, "#") {
		return nil, fmt.Errorf("a repository URL has no query or fragment")
	}
	// The authority as written: git is given the URL as written, less
	// its user name and password.
	afterScheme := arg[len(scheme)+len("://"):]
	authority, tail := afterScheme, ""
	if i := strings.IndexByte(afterScheme, '/'); i >= 0 {
		authority, tail = afterScheme[:i], afterScheme[i:]
	}
	hostport := authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		hostport = authority[at+1:]
	}
	if err := checkRepoPath(u.Path); err != nil {
		return nil, err
	}

	if scheme == "file" {
		if u.User != nil {
			return nil, fmt.Errorf("a file URL has no user name")
		}
		if h := strings.ToLower(u.Hostname()); h != "" && h != "localhost" {
			return nil, fmt.Errorf("a file URL names this machine (file:///path), not host %q", u.Hostname())
		}
		return &Target{URL: arg, Scheme: "file", path: u.Path}, nil
	}

	host, err := checkHost(u.Hostname())
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not a port number", port)
		}
		if port != defaultPort[scheme] {
			host = net.JoinHostPort(strings.Trim(host, "[]"), port)
		}
	} else if strings.HasSuffix(hostport, ":") {
		return nil, fmt.Errorf("empty port")
	}

	t := &Target{Host: host, Scheme: scheme, path: u.Path}
	switch scheme {
	case "ssh":
		if u.User != nil {
			if _, has := u.User.Password(); has {
				return nil, fmt.Errorf("ssh takes no password in the URL: use a key or ssh-agent")
			}
			if strings.HasPrefix(u.User.Username(), "-") {
				return nil, fmt.Errorf("user name starts with '-'")
			}
		}
		t.URL = arg
	case "http", "https":
		if scheme == "http" && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("plain http would send the repository (and any credential) in clear to %s: use https", host)
		}
		if u.User != nil {
			pass, has := u.User.Password()
			a := &userinfo{user: u.User.Username(), password: pass, hasPassword: has}
			if err := checkSecret(a.user); err != nil {
				return nil, fmt.Errorf("user name: %w", err)
			}
			if err := checkSecret(a.password); err != nil {
				return nil, fmt.Errorf("password: %w", err)
			}
			if a.user != "" || has {
				t.auth = a
			}
		}
		t.origin = scheme + "://" + strings.ToLower(hostport)
		t.URL = t.origin + tail
	}
	return t, nil
}

var defaultPort = map[string]string{"https": "443", "http": "80", "ssh": "22"}

// checkText refuses control characters and a NUL anywhere in a URL, raw
// or percent-encoded: git would cut the URL there, or a credential
// helper would read a line break as the start of another field.
func checkText(s string) error {
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("control character %q", r)
		}
	}
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' {
			if b, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && (b < 0x20 || b == 0x7f) {
				return fmt.Errorf("encoded control character %q", s[i:i+3])
			}
		}
	}
	return nil
}

// checkSecret refuses a user name or password that would break git's
// credential protocol (one key=value per line).
func checkSecret(s string) error {
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("holds a control character")
		}
	}
	return nil
}

// checkHost checks a host name or IP address (without brackets) and
// returns it in lower case, an IPv6 address in brackets.
func checkHost(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("no host")
	}
	if ip := net.ParseIP(h); ip != nil {
		if strings.Contains(h, ":") {
			return "[" + strings.ToLower(h) + "]", nil
		}
		return h, nil
	}
	if strings.HasPrefix(h, "-") {
		return "", fmt.Errorf("host starts with '-'")
	}
	if len(h) > 253 {
		return "", fmt.Errorf("host name too long")
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return "", fmt.Errorf("host %q is not a host name", h)
		}
	}
	return strings.ToLower(h), nil
}

// checkRepoPath refuses an empty path and a ".." segment (raw or
// percent-encoded: the URL is checked decoded).
func checkRepoPath(p string) error {
	if strings.Trim(p, "/") == "" {
		return fmt.Errorf("no repository path")
	}
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return fmt.Errorf("repository path has a '..' segment")
		}
	}
	return nil
}

// isLoopback says whether host (no brackets, no port) is this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactArg hides the user name and password of a URL-like argument, for
// messages: everything between "://" and the last "@" of the authority.
func redactArg(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	start := i + 3
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at := strings.LastIndexByte(s[start:end], '@')
	if at < 0 {
		return s
	}
	return s[:start] + s[start+at+1:]
}
