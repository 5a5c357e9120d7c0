package remote

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/keysweep/keysweep/internal/escape"
)

// ErrAuth is wrapped by an error for a host that refused the
// credentials, or wanted some and had none.
var ErrAuth = errors.New("authentication refused")

// ErrNotFound is wrapped by an error for a repository the host says does
// not exist (or, as GitHub and GitLab answer, that the credentials cannot
// see).
var ErrNotFound = errors.New("repository not found")

// cause is one reason git fails for, found by the phrases of its error
// output (lower case; git runs with LC_ALL=C).
type cause struct {
	phrases []string
	message func(r *runner) error
}

// causes are tried in order: the first one whose phrase git printed
// wins.
var causes = []cause{
	{[]string{"terminal prompts disabled", "authentication failed", "http basic: access denied",
		"permission denied (publickey", "permission denied, please try again", "returned error: 401",
		"invalid username or password", "invalid username or token", "could not read username", "could not read password"},
		func(r *runner) error { return fmt.Errorf("%w (%s)", ErrAuth, r.hint) }},
	{[]string{"returned error: 403"},
		func(r *runner) error {
			return fmt.Errorf("%w: access denied (%s)", ErrAuth, r.hint)
		}},
	{[]string{"repository not found", "returned error: 404", "does not appear to be a git repository", "' not found"},
		func(r *runner) error {
			if r.cred == nil && r.t.Scheme == "https" && strings.HasPrefix(r.hint, "set ") {
				return fmt.Errorf("%w (or private: %s)", ErrNotFound, r.hint)
			}
			if r.cred != nil && r.cred.from != "the URL" {
				return fmt.Errorf("%w (or %s cannot read it)", ErrNotFound, r.cred.from)
			}
			return ErrNotFound
		}},
	{[]string{"could not resolve host", "could not resolve hostname", "name or service not known",
		"temporary failure in name resolution", "nodename nor servname"},
		func(r *runner) error { return fmt.Errorf("cannot resolve host %s", hostName(r.t)) }},
	{[]string{"host key verification failed"},
		func(r *runner) error {
			return fmt.Errorf("the ssh host key of %s is not trusted (connect once with ssh to check it and add it to known_hosts)", hostName(r.t))
		}},
	{[]string{"connection refused"},
		func(r *runner) error { return fmt.Errorf("connection refused by %s", hostName(r.t)) }},
	{[]string{"timed out", "timeout was reached"},
		func(r *runner) error { return fmt.Errorf("connection to %s timed out", hostName(r.t)) }},
	{[]string{"ssl certificate problem", "certificate verification failed", "ssl_connect", "unable to get local issuer"},
		func(r *runner) error {
			return fmt.Errorf("the TLS certificate of %s is not trusted (set GIT_SSL_CAINFO or http.sslCAInfo to its CA)", hostName(r.t))
		}},
	{[]string{"unable to update url base from redirection", "redirect", "returned error: 30"},
		func(r *runner) error {
			return fmt.Errorf("the server redirected to where keysweep does not follow (clone from the URL it moved to)")
		}},
	{[]string{"' not allowed"},
		func(r *runner) error { return fmt.Errorf("git was sent to a transport keysweep does not allow") }},
	{[]string{"dubious ownership"},
		func(r *runner) error {
			return fmt.Errorf("git refuses a repository another user owns (if you trust it: git config --global --add safe.directory PATH)")
		}},
	{[]string{"no space left on device"},
		func(r *runner) error { return fmt.Errorf("no space left on device") }},
	{[]string{"early eof", "rpc failed", "the remote end hung up", "connection reset"},
		func(r *runner) error { return fmt.Errorf("the transfer was cut off (try again)") }},
}

// failure turns git's error output into one line: the step, the URL
// without credentials, and the cause, or git's own last fatal line,
// with every credential scrubbed.
func (r *runner) failure(op string, stderr []byte) error {
	text := strings.ToLower(string(stderr))
	prefix := op + " " + escape.Text(r.t.String())
	if other := r.otherOrigin(text); other != "" {
		return fmt.Errorf("%s: %w: the server redirected to %s, which asks for credentials (keysweep gives them only to %s; clone from the URL the repository moved to)",
			prefix, ErrAuth, escape.Text(other), hostName(r.t))
	}
	for _, c := range causes {
		for _, p := range c.phrases {
			if strings.Contains(text, p) {
				return fmt.Errorf("%s: %w", prefix, c.message(r))
			}
		}
	}
	return fmt.Errorf("%s: git %s: %s", prefix, op, r.scrub(lastError(string(stderr))))
}

// credentialForRE matches the origin git names when it wants or was
// refused credentials.
var credentialForRE = regexp.MustCompile(`(?:username|password|authentication failed) for '([a-z][a-z0-9+.-]*://[^'/]*)`)

// otherOrigin returns the host git wanted credentials for (from text,
// git's error output in lower case) when it is not the target's: a
// redirect took git there, and keysweep's credential stayed behind.
func (r *runner) otherOrigin(text string) string {
	if r.t.origin == "" {
		return ""
	}
	m := credentialForRE.FindStringSubmatch(text)
	if m == nil || sameOrigin(m[1], r.t.origin) {
		return ""
	}
	_, host, _ := strings.Cut(m[1], "://")
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	return host
}

// sameOrigin compares two scheme://host[:port] strings, a default port
// written or not.
func sameOrigin(a, b string) bool {
	norm := func(o string) string {
		o = strings.ToLower(o)
		scheme, host, _ := strings.Cut(o, "://")
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		return scheme + "://" + strings.TrimSuffix(host, ":"+defaultPort[scheme])
	}
	return norm(a) == norm(b)
}

// lastError returns git's last "fatal:" or "error:" line, else its last
// line.
func lastError(stderr string) string {
	msg := ""
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r, ok := strings.CutPrefix(line, "fatal: "); ok {
			msg = r
		} else if r, ok := strings.CutPrefix(line, "error: "); ok {
			msg = r
		} else if msg == "" {
			msg = line
		}
	}
	if msg == "" {
		return "failed without a message"
	}
	return msg
}

// userinfoRE matches the user name and password of a URL.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@`)

// maxMessage bounds the git text an error quotes.
const maxMessage = 300

// scrub removes every credential from text (as is, base64-encoded as in
// a Basic Authorization header, and any URL's user name and password),
// escapes it for a terminal, and shortens it.
func (r *runner) scrub(text string) string {
	text = userinfoRE.ReplaceAllString(text, "$1")
	if c := r.cred; c != nil {
		for _, s := range []string{
			base64.StdEncoding.EncodeToString([]byte(c.user + ":" + c.password)),
			c.password,
		} {
			if s != "" {
				text = strings.ReplaceAll(text, s, "***")
			}
		}
	}
	text = escape.Text(text)
	if len(text) > maxMessage {
		text = text[:maxMessage] + "..."
	}
	return text
}

// hostName is the host to name in a message.
func hostName(t *Target) string {
	if t.Host == "" {
		return "this machine"
	}
	return t.Host
}
