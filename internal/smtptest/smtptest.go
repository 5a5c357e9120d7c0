// Package smtptest is an SMTP server on 127.0.0.1 for tests: enough of
// RFC 5321 for net/smtp (EHLO/HELO, STARTTLS with a certificate made at
// start, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT), recording every
// message it accepts.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape the server's behaviour.
type Options struct {
	// User and Password, when User is set, are the one account AUTH PLAIN
	// accepts, and MAIL needs authentication first.
	User, Password string
	// NoStartTLS leaves STARTTLS out of EHLO's answer (and refuses it).
	NoStartTLS bool
	// ImplicitTLS speaks TLS from the first byte (smtps, port 465), and
	// offers no STARTTLS.
	ImplicitTLS bool
	// RefuseAuth answers every AUTH with 535.
	RefuseAuth bool
	// Reject are recipients RCPT answers with 550.
	Reject []string
	// MaxSize bounds a message's data; 0 is 1 MiB.
	MaxSize int
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	// Data is the message as sent after DATA, dot-unstuffed, CRLF kept,
	// without the final ".\r\n".
	Data []byte
	// TLS says whether the session was over TLS when DATA ended.
	TLS bool
	// User is the authenticated user, "" for none.
	User string
}

// Server is a running SMTP server. It stops when the test ends.
type Server struct {
	// Addr is host:port, Host and Port its parts (Host is 127.0.0.1).
	Addr, Host, Port string
	// CertPool trusts the server's certificate (127.0.0.1, ::1, localhost),
	// CertPEM is that certificate in PEM, for a file to trust it by.
	CertPool *x509.CertPool
	CertPEM  []byte

	opts Options
	tls  *tls.Config
	ln   net.Listener
	wg   sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool
	messages []Message
	commands []string
}

// New starts a server; t.Cleanup stops it and waits for its sessions.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	cert, pool, err := certificate()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &Server{
		Addr: ln.Addr().String(), Host: host, Port: port, CertPool: pool,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		opts:    opts, ln: ln, conns: map[net.Conn]bool{},
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	if s.opts.MaxSize <= 0 {
		s.opts.MaxSize = 1 << 20
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Commands returns the verbs of the commands received so far (EHLO,
// STARTTLS, AUTH, MAIL, ...), in order, for every session.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *Server) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			ss := &session{srv: s, conn: c}
			if s.opts.ImplicitTLS {
				tc := tls.Server(c, s.tls)
				if tc.Handshake() != nil {
					return
				}
				ss.conn, ss.tls = tc, true
			}
			ss.run()
		}()
	}
}

// session is one client connection.
type session struct {
	srv  *Server
	conn net.Conn
	r    *bufio.Reader
	tls  bool
	// helo is set by EHLO or HELO; STARTTLS clears it (RFC 3207).
	helo bool
	user string
	from *string
	to   []string
}

func (ss *session) reply(format string, args ...any) error {
	_, err := fmt.Fprintf(ss.conn, format+"\r\n", args...)
	return err
}

func (ss *session) run() {
	ss.r = bufio.NewReader(ss.conn)
	if ss.reply("220 127.0.0.1 ESMTP smtptest") != nil {
		return
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		ss.srv.mu.Lock()
		ss.srv.commands = append(ss.srv.commands, verb)
		ss.srv.mu.Unlock()
		if !ss.command(verb, arg) {
			return
		}
	}
}

// readLine reads a command line, without its CRLF; a line longer than
// RFC 5321's 512 octets ends the session.
func (ss *session) readLine() (string, error) {
	line, err := ss.r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	if len(line) > 512 {
		return "", fmt.Errorf("line too long")
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// command answers one command; false ends the session.
func (ss *session) command(verb, arg string) bool {
	var err error
	switch verb {
	case "EHLO":
		ss.helo, ss.from, ss.to = true, nil, nil
		lines := []string{"127.0.0.1 greets " + arg, "8BITMIME", "SIZE " + fmt.Sprint(ss.srv.opts.MaxSize)}
		if !ss.tls && !ss.srv.opts.NoStartTLS {
			lines = append(lines, "STARTTLS")
		}
		// Like most servers, AUTH only once the session is private (or
		// when the server cannot make it so: a client must refuse).
		if ss.tls || ss.srv.opts.NoStartTLS {
			lines = append(lines, "AUTH PLAIN")
		}
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			if err = ss.reply("250%s%s", sep, l); err != nil {
				break
			}
		}
	case "HELO":
		ss.helo, ss.from, ss.to = true, nil, nil
		err = ss.reply("250 127.0.0.1")
	case "STARTTLS":
		if ss.tls || ss.srv.opts.NoStartTLS || ss.srv.opts.ImplicitTLS {
			err = ss.reply("502 5.5.1 STARTTLS not available")
			break
		}
		if ss.reply("220 2.0.0 ready to start TLS") != nil {
			return false
		}
		tc := tls.Server(ss.conn, ss.srv.tls)
		if tc.Handshake() != nil {
			return false
		}
		ss.conn, ss.r, ss.tls = tc, bufio.NewReader(tc), true
		ss.helo, ss.user, ss.from, ss.to = false, "", nil, nil
	case "AUTH":
		err = ss.auth(arg)
	case "MAIL":
		addr, ok := path(arg, "FROM:")
		switch {
		case !ss.helo:
			err = ss.reply("503 5.5.1 EHLO first")
		case ss.srv.opts.User != "" && ss.user == "":
			err = ss.reply("530 5.7.0 authentication required")
		case ss.from != nil:
			err = ss.reply("503 5.5.1 MAIL already given")
		case !ok:
			err = ss.reply("501 5.5.4 syntax: MAIL FROM:<address>")
		default:
			ss.from = &addr
			err = ss.reply("250 2.1.0 ok")
		}
	case "RCPT":
		addr, ok := path(arg, "TO:")
		switch {
		case ss.from == nil:
			err = ss.reply("503 5.5.1 MAIL first")
		case !ok || addr == "":
			err = ss.reply("501 5.5.4 syntax: RCPT TO:<address>")
		case ss.rejected(addr):
			err = ss.reply("550 5.1.1 <%s>: no such user", addr)
		default:
			ss.to = append(ss.to, addr)
			err = ss.reply("250 2.1.5 ok")
		}
	case "DATA":
		if ss.from == nil || len(ss.to) == 0 {
			err = ss.reply("503 5.5.1 RCPT first")
			break
		}
		return ss.data()
	case "RSET":
		ss.from, ss.to = nil, nil
		err = ss.reply("250 2.0.0 ok")
	case "NOOP":
		err = ss.reply("250 2.0.0 ok")
	case "QUIT":
		_ = ss.reply("221 2.0.0 bye")
		return false
	default:
		err = ss.reply("502 5.5.2 command not implemented")
	}
	return err == nil
}

// path reads "FROM:<addr> [params]" (or TO:), returning addr.
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	addr, _, ok := strings.Cut(rest[1:], ">")
	return addr, ok
}

func (ss *session) rejected(addr string) bool {
	for _, r := range ss.srv.opts.Reject {
		if strings.EqualFold(r, addr) {
			return true
		}
	}
	return false
}

// auth answers AUTH PLAIN, with the initial response or after a 334.
func (ss *session) auth(arg string) error {
	mech, initial, _ := strings.Cut(arg, " ")
	switch {
	case !ss.helo:
		return ss.reply("503 5.5.1 EHLO first")
	case ss.user != "":
		return ss.reply("503 5.5.1 already authenticated")
	case !strings.EqualFold(mech, "PLAIN"):
		return ss.reply("504 5.5.4 unrecognized authentication type")
	}
	if initial == "" {
		if err := ss.reply("334 "); err != nil {
			return err
		}
		line, err := ss.readLine()
		if err != nil {
			return err
		}
		initial = line
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		return ss.reply("501 5.5.2 cannot decode the response")
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return ss.reply("501 5.5.2 want authzid NUL user NUL password")
	}
	o := ss.srv.opts
	if o.RefuseAuth || o.User == "" || parts[1] != o.User || parts[2] != o.Password {
		return ss.reply("535 5.7.8 authentication credentials invalid")
	}
	ss.user = parts[1]
	return ss.reply("235 2.7.0 authentication successful")
}

// data reads a message up to the line ".", undoing dot-stuffing, and
// records it.
func (ss *session) data() bool {
	if ss.reply("354 end data with <CR><LF>.<CR><LF>") != nil {
		return false
	}
	var buf bytes.Buffer
	tooBig := false
	for {
		line, err := ss.r.ReadBytes('\n')
		if err != nil {
			return false
		}
		if string(line) == ".\r\n" {
			break
		}
		if line[0] == '.' {
			line = line[1:]
		}
		if buf.Len()+len(line) > ss.srv.opts.MaxSize {
			tooBig = true
			continue
		}
		buf.Write(line)
	}
	if tooBig {
		ss.from, ss.to = nil, nil
		return ss.reply("552 5.3.4 message too big") == nil
	}
	m := Message{From: *ss.from, To: ss.to, Data: buf.Bytes(), TLS: ss.tls, User: ss.user}
	ss.srv.mu.Lock()
	ss.srv.messages = append(ss.srv.messages, m)
	ss.srv.mu.Unlock()
	ss.from, ss.to = nil, nil
	return ss.reply("250 2.0.0 queued") == nil
}

// certificate makes a self-signed certificate for 127.0.0.1, ::1 and
// localhost, and a pool that trusts it.
func certificate() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
