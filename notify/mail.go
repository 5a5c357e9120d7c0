package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// PasswordEnv holds the SMTP password when the --smtp-url has none.
const PasswordEnv = "KEYSWEEP_SMTP_PASSWORD"

// maxRecipients bounds the recipients of one message.
const maxRecipients = 50

// Mail sends a notice by email through an SMTP server (a submission
// port), over TLS only: STARTTLS, which the server must offer, or TLS from
// the first byte (smtps). The password is in no error, and not in what
// String or fmt prints.
type Mail struct {
	// Host and Port are the server's (Port "" is 587, or 465 for smtps).
	Host string
	Port string
	// ImplicitTLS is smtps: TLS from the first byte, no STARTTLS.
	ImplicitTLS bool
	// From is the sender, a bare address.
	From string
	// Username, if set, authenticates with AUTH PLAIN, after TLS.
	Username string
	password string
	// RootCAs verifies the server's certificate; nil is the system's.
	RootCAs *x509.CertPool
	// Timeout bounds one delivery, connection included; 0 is 30s.
	Timeout time.Duration
	// Now is the clock of the Date header; nil is time.Now.
	Now func() time.Time
}

const smtpURLForm = "want smtp://[USER[:PASSWORD]@]HOST[:PORT]?from=ADDRESS, or smtps://... for TLS from the first byte"

// ParseSMTPURL reads an --smtp-url: smtp://[user[:password]@]host[:port]?from=ADDR
// (port 587, STARTTLS required) or smtps://... (port 465, TLS from the
// first byte). A user with no password in the URL takes it from
// KEYSWEEP_SMTP_PASSWORD. An error is one line and never holds the
// password.
func ParseSMTPURL(raw string) (*Mail, error) {
	return parseSMTPURL(raw, os.Getenv)
}

func parseSMTPURL(raw string, getenv func(string) string) (*Mail, error) {
	// url.Parse's errors quote the URL, password included: none is kept.
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return nil, errors.New("smtp url: not a valid URL; " + smtpURLForm)
	}
	m := &Mail{Host: u.Hostname(), Port: u.Port()}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		m.ImplicitTLS = true
	default:
		return nil, errors.New("smtp url: the scheme is not smtp or smtps; " + smtpURLForm)
	}
	if m.Host == "" {
		return nil, errors.New("smtp url: no host; " + smtpURLForm)
	}
	if m.Port != "" {
		if p, err := strconv.Atoi(m.Port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("smtp url: port %q is not a port number", m.Port)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, errors.New("smtp url: a path or fragment has no meaning; " + smtpURLForm)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("smtp url: the query is not valid; " + smtpURLForm)
	}
	for k, v := range q {
		if k != "from" {
			return nil, fmt.Errorf("smtp url: unknown parameter %q (only from= is known)", clip(k, 40))
		}
		if len(v) != 1 {
			return nil, errors.New("smtp url: from= is given more than once")
		}
	}
	if q.Get("from") == "" {
		return nil, errors.New("smtp url: no sender: add ?from=ADDRESS")
	}
	if m.From, err = bareAddress(q.Get("from")); err != nil {
		return nil, fmt.Errorf("smtp url: from: %w", err)
	}
	if u.User != nil {
		m.Username = u.User.Username()
		pw, ok := u.User.Password()
		if !ok {
			pw = getenv(PasswordEnv)
		}
		switch {
		case m.Username == "":
			return nil, errors.New("smtp url: a password with no user; " + smtpURLForm)
		case pw == "":
			return nil, fmt.Errorf("smtp url: user %q has no password: put it in the URL or in %s", clip(m.Username, 100), PasswordEnv)
		}
		m.password = pw
	}
	return m, nil
}

// port is m.Port, or the default of the scheme.
func (m *Mail) port() string {
	switch {
	case m.Port != "":
		return m.Port
	case m.ImplicitTLS:
		return "465"
	default:
		return "587"
	}
}

// String is m as an --smtp-url, without the password.
func (m Mail) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(m.Host, m.port()), RawQuery: url.Values{"from": {m.From}}.Encode()}
	if m.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if m.Username != "" {
		u.User = url.User(m.Username)
	}
	return u.String()
}

// Format prints String for every verb, %#v and %+v included, so that no
// formatting shows the password.
func (m Mail) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, m.String())
}

// Notify sends n by email to n.To, one message for all of them. A
// recipient the server refuses does not stop the others; the error then
// names it.
func (m *Mail) Notify(ctx context.Context, n Notice) error {
	if len(n.To) == 0 {
		return fmt.Errorf("notify: no email recipient for key %s", clean(n.KeyID))
	}
	if m.Host == "" {
		return errors.New("notify: no smtp server")
	}
	from, err := bareAddress(m.From)
	if err != nil {
		return fmt.Errorf("notify: sender: %w", err)
	}
	to, err := recipients(n.To)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	id, err := messageID(from)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return m.send(ctx, from, to, message(from, to, n, now(), id))
}

// recipients validates list: bare addresses, at most maxRecipients,
// each once.
func recipients(list []string) ([]string, error) {
	if len(list) > maxRecipients {
		return nil, fmt.Errorf("%d email recipients, more than %d", len(list), maxRecipients)
	}
	var to []string
	seen := map[string]bool{}
	for _, r := range list {
		a, err := bareAddress(r)
		if err != nil {
			return nil, fmt.Errorf("recipient: %w", err)
		}
		if k := strings.ToLower(a); !seen[k] {
			seen[k] = true
			to = append(to, a)
		}
	}
	return to, nil
}

// bareAddress accepts s only when it is an address alone, as
// local@domain in ASCII: no display name, comment, quoted local part or
// angle brackets, nothing a header could be forged or a recipient hidden
// with.
func bareAddress(s string) (string, error) {
	bad := fmt.Errorf("%q is not a bare email address like name@example.com", clip(s, 100))
	if s == "" || len(s) > 254 {
		return "", bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", bad
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.Count(s, "@") != 1 {
		return "", bad
	}
	return s, nil
}

// messageID is a new Message-ID in the sender's domain.
func messageID(from string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + from[strings.LastIndexByte(from, '@')+1:] + ">", nil
}

// message is the whole message (headers and body, CRLF line ends): plain
// text in UTF-8, quoted-printable, so that every line is short and ASCII
// whatever the notice holds.
func message(from string, to []string, n Notice, date time.Time, id string) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", strings.Join(to, ",\r\n "))
	header("Subject", encodeHeader(n.Subject()))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", id)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = io.WriteString(qp, n.body()) // writes to a bytes.Buffer do not fail
	_ = qp.Close()
	return b.Bytes()
}

// encodeHeader is s as an unstructured header's value: s has no control
// character (Subject escapes them); non-ASCII text is in RFC 2047 encoded
// words, folded between words.
func encodeHeader(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// send delivers msg over one SMTP session.
func (m *Mail) send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(m.Host, m.port())
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("notify: connect to smtp server %s: %w", addr, err)
	}
	defer raw.Close()
	// A cancelled ctx ends a session blocked on a read.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	conn := raw
	tlsConf := &tls.Config{ServerName: m.Host, RootCAs: m.RootCAs, MinVersion: tls.VersionTLS12}
	if m.ImplicitTLS {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("notify: TLS with smtp server %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.Host)
	if err != nil {
		return m.fail(ctx, "greeting of smtp server "+addr, err)
	}
	defer c.Close()
	if !m.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("notify: smtp server %s does not offer STARTTLS: refusing to send in clear (use smtps:// if it takes TLS from the first byte)", addr)
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return m.fail(ctx, "STARTTLS with smtp server "+addr, err)
		}
	}
	if m.Username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok || !hasWord(mechs, "PLAIN") {
			return fmt.Errorf("notify: smtp server %s does not offer AUTH PLAIN", addr)
		}
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.password, m.Host)); err != nil {
			return m.fail(ctx, "authenticate as "+clean(m.Username), err)
		}
	}
	if err := c.Mail(from); err != nil {
		return m.fail(ctx, "MAIL FROM", err)
	}
	var refused []string
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			if ctx.Err() != nil {
				return m.fail(ctx, "RCPT TO", err)
			}
			refused = append(refused, r+" ("+m.scrub(err)+")")
		}
	}
	if len(refused) == len(to) {
		return fmt.Errorf("notify: smtp server refused every recipient: %s", strings.Join(refused, ", "))
	}
	w, err := c.Data()
	if err != nil {
		return m.fail(ctx, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return m.fail(ctx, "send the message", err)
	}
	if err := w.Close(); err != nil {
		return m.fail(ctx, "send the message", err)
	}
	_ = c.Quit() // the message is accepted; a failed goodbye changes nothing
	if len(refused) > 0 {
		return fmt.Errorf("notify: sent, but the smtp server refused %s", strings.Join(refused, ", "))
	}
	return nil
}

// fail is the error of a step of the session: the context's when it ended
// the session, else err scrubbed.
func (m *Mail) fail(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("notify: smtp %s: %w", step, ctx.Err())
	}
	return fmt.Errorf("notify: smtp %s: %s", step, m.scrub(err))
}

// scrub is err's text on one line, without the password (as it is, or
// in the AUTH PLAIN blob) should a server echo it.
func (m *Mail) scrub(err error) string {
	s := err.Error()
	if m.password != "" {
		blob := base64.StdEncoding.EncodeToString([]byte("\x00" + m.Username + "\x00" + m.password))
		s = strings.NewReplacer(m.password, "[redacted]", blob, "[redacted]").Replace(s)
	}
	return escape(clip(s, 300))
}

// hasWord reports whether the space-separated list holds w, in any case.
func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}
