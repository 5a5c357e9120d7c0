package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Request is one call a verifier makes, relative to its provider's base
// URL: the secret goes only there, never to a host the scanned content
// names.
type Request struct {
	Method string
	// Path is the path and query, joined to the base URL's path.
	Path   string
	Header http.Header
	Body   []byte
	// Base names another of the provider's bases (Provider.Bases), ""
	// the main one.
	Base string
}

// Response is what the provider answered, its body cut at maxBody.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxBody bounds the answer read: what a verifier needs is small, and the
// answer is not trusted.
const maxBody = 1 << 20

// Caller makes a provider's requests. Without an override, it reaches
// only the provider's public HTTPS hosts: addresses in private, loopback
// and link-local ranges are refused when dialing. It never follows a
// redirect (a provider's 3xx is no answer about the secret, and the
// secret must not cross to another host), honours Retry-After on 429 and
// 503 up to maxWait, and bounds each call with its timeout.
type Caller struct {
	provider string
	bases    map[string]*url.URL
	// overridden: the bases are the user's (--verify-endpoint).
	overridden bool
	client     *http.Client
	timeout    time.Duration
	sleep      func(context.Context, time.Duration) error
	attempts   int
	maxWait    time.Duration
}

// newCaller returns the caller of provider p: bases are p's, or override
// for every base when set.
func newCaller(p *Provider, override *url.URL, opts *Options) *Caller {
	c := &Caller{provider: p.Name, bases: map[string]*url.URL{}, overridden: override != nil, timeout: opts.Timeout, sleep: opts.Sleep, attempts: 3, maxWait: opts.MaxWait}
	for name, raw := range p.allBases() {
		u, err := url.Parse(raw)
		if err != nil {
			panic("verify: provider " + p.Name + ": bad base " + raw)
		}
		if override != nil {
			u = override
		}
		c.bases[name] = u
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if override == nil {
		transport.DialContext = publicDialer(transport.Proxy, c.bases).DialContext
	}
	if opts.Transport != nil {
		transport = opts.Transport(transport)
	}
	c.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if c.sleep == nil {
		c.sleep = sleepReal
	}
	return c
}

// publicDialer refuses to connect to an address that is not public, but
// for the proxies the environment names for the bases (a corporate proxy
// often is private).
func publicDialer(proxy func(*http.Request) (*url.URL, error), bases map[string]*url.URL) *net.Dialer {
	allowed := map[string]bool{}
	for _, b := range bases {
		if proxy == nil {
			break
		}
		if p, err := proxy(&http.Request{URL: b}); err == nil && p != nil {
			allowed[p.Host] = true
			if _, port, err := net.SplitHostPort(p.Host); err == nil {
				if addrs, err := net.LookupHost(p.Hostname()); err == nil {
					for _, a := range addrs {
						allowed[net.JoinHostPort(a, port)] = true
					}
				}
			}
		}
	}
	return &net.Dialer{
		Timeout: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			if allowed[address] {
				return nil
			}
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return err
			}
			if !Public(ip) {
				return fmt.Errorf("%s is not a public address: refused (a secret goes only to its provider's public host; name another with --verify-endpoint)", ip)
			}
			return nil
		},
	}
}

// Public reports whether ip may be a provider's public host: not
// loopback, private, link-local, shared (100.64/10), unspecified or
// multicast.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	shared := netip.MustParsePrefix("100.64.0.0/10")
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsInterfaceLocalMulticast() && !ip.IsUnspecified() && !ip.IsMulticast() && !shared.Contains(ip)
}

func sleepReal(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Overridden reports whether the provider's bases are the user's
// (--verify-endpoint), not the provider's public hosts.
func (c *Caller) Overridden() bool { return c.overridden }

// At returns a caller like c (the same client, public-address dialing and
// limits) whose main base is base: for a provider with a host per account
// (Azure storage) whose secret is never sent, only a signature made with
// it.
func (c *Caller) At(base *url.URL) *Caller {
	at := *c
	at.bases = map[string]*url.URL{"": base}
	return &at
}

// Base returns the caller's main base URL.
func (c *Caller) Base() *url.URL { u := *c.bases[""]; return &u }

// Do sends req, retrying a 429 or 503 after what Retry-After says (at
// most maxWait each, 3 attempts in all). The error is nil whenever an
// answer came, whatever its status.
func (c *Caller) Do(ctx context.Context, req Request) (*Response, error) {
	base, ok := c.bases[req.Base]
	if !ok {
		return nil, fmt.Errorf("no base %q for %s", req.Base, c.provider)
	}
	target := *base
	path, query, _ := strings.Cut(req.Path, "?")
	target.Path = strings.TrimSuffix(base.Path, "/") + path
	target.RawPath = ""
	target.RawQuery = query
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, method, target.String(), req)
		if err != nil {
			return nil, err
		}
		if (resp.Status != http.StatusTooManyRequests && resp.Status != http.StatusServiceUnavailable) || attempt >= c.attempts {
			return resp, nil
		}
		wait := retryAfter(resp.Header.Get("Retry-After"), attempt)
		if wait > c.maxWait {
			return resp, nil // longer than a scan should hold: unknown
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Caller) once(ctx context.Context, method, target string, req Request) (*Response, error) {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(cctx, method, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		hreq.Header[k] = vs
	}
	hreq.Header.Set("User-Agent", "keysweep")
	resp, err := c.client.Do(hreq)
	if err != nil {
		if errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("no answer within %s", c.timeout)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, callError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, errors.New("the answer was cut off")
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// callError says why a call failed in a line that holds no URL: the URL
// of some providers holds the secret.
func callError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var op *net.OpError
	if errors.As(err, &op) {
		if op.Err != nil && strings.Contains(op.Err.Error(), "not a public address") {
			return op.Err
		}
		return fmt.Errorf("%s failed: %v", op.Op, op.Err)
	}
	return errors.New(strings.SplitN(err.Error(), ":", 2)[0])
}

// retryAfter reads Retry-After (seconds or an HTTP date); without one the
// wait doubles from a second.
func retryAfter(v string, attempt int) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(min(s, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return time.Second << min(attempt-1, 6)
}

// ParseEndpoint reads PROVIDER=URL. The URL must be https, or http to a
// loopback address (a local stand-in); a secret never crosses a network
// in clear.
func ParseEndpoint(s string) (provider string, u *url.URL, err error) {
	name, raw, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", nil, fmt.Errorf("%q: want PROVIDER=URL", s)
	}
	u, err = url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", nil, fmt.Errorf("%s: %q is not a base URL like https://host[:port][/path]", name, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return "", nil, fmt.Errorf("%s: plain http only to a loopback address, not %s: the secret would cross the network in clear", name, u.Hostname())
		}
	default:
		return "", nil, fmt.Errorf("%s: scheme %q (want https)", name, u.Scheme)
	}
	return name, u, nil
}

// ParseEndpoints reads a list of PROVIDER=URL, as flags and
// KEYSWEEP_VERIFY_ENDPOINTS ("github=URL,slack=URL") give them.
func ParseEndpoints(list []string) (map[string]*url.URL, error) {
	out := map[string]*url.URL{}
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			name, u, err := ParseEndpoint(s)
			if err != nil {
				return nil, err
			}
			out[name] = u
		}
	}
	return out, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
