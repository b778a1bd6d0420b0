package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regulars/regulars/input"
)

// Guard keeps deliveries away from the server's own network (SSRF). In
// production (APP_ENV=production) an endpoint's URL must be https and its
// host must resolve only to public addresses: loopback, private (RFC 1918,
// fc00::/7), link-local (169.254/16 with the cloud metadata address,
// fe80::/10), unspecified, multicast and CGNAT (100.64/10) addresses are
// refused when the endpoint is registered and again when each delivery
// dials, after resolution, so a name that resolves to a public address at
// registration and to a private one later (DNS rebinding) is still
// refused. In development any http(s) URL is accepted (local receivers).
type Guard struct {
	Production bool
	// Resolver resolves hosts at registration (nil: net.DefaultResolver).
	Resolver *net.Resolver
}

var errPrivate = errors.New("refused: the address is loopback, private or link-local")

// special are the ranges that are no public host, beyond what netip's
// predicates name (IANA's special-purpose registries, RFC 6890): this
// network, carrier-grade NAT, IETF protocol assignments, documentation,
// benchmarking, reserved and broadcast; and on IPv6 the translation and
// tunnelling prefixes that embed an IPv4 address (NAT64 reaches
// 64:ff9b::7f00:1 as 127.0.0.1, 6to4 and Teredo likewise), discard-only
// and documentation.
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "2001:db8::/32", "100::/64",
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// public reports whether ip is an address deliveries may reach.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range special {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// CheckURL validates an endpoint URL given in field: absolute http(s) with
// a host, at most MaxURL bytes, no credentials; in production https only
// and resolving only to public addresses. It returns the URL as parsed.
func (g Guard) CheckURL(ctx context.Context, field, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", input.Errorf(field, "is required")
	}
	if len(raw) > MaxURL {
		return "", input.Errorf(field, "must be at most %d bytes", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return "", input.Errorf(field, "is not an absolute URL")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", input.Errorf(field, "has port %s: a port is 1 to 65535", p)
		}
	}
	switch {
	case u.Scheme != "https" && (g.Production || u.Scheme != "http"):
		if g.Production {
			return "", input.Errorf(field, "must be https")
		}
		return "", input.Errorf(field, "must be http or https")
	case u.User != nil:
		return "", input.Errorf(field, "must not carry credentials; sign with the secret instead")
	case u.Fragment != "":
		return "", input.Errorf(field, "must not have a fragment")
	}
	for _, r := range raw {
		if r <= 0x20 || r >= 0x7f {
			return "", input.Errorf(field, "must be printable ASCII (percent-encode the rest)")
		}
	}
	if !g.Production {
		return u.String(), nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !public(ip) {
			return "", input.Errorf(field, "%s is a loopback, private or link-local address", host)
		}
		return u.String(), nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return "", input.Errorf(field, "host %s does not resolve", host)
	}
	for _, ip := range addrs {
		if !public(ip) {
			return "", input.Errorf(field, "host %s resolves to %s, a loopback, private or link-local address", host, ip)
		}
	}
	return u.String(), nil
}

// control refuses, in production, a connection to a non-public address:
// it runs after resolution, on the address actually dialled.
func (g Guard) control(network, address string, _ syscall.RawConn) error {
	if !g.Production {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: dial %s: %w", address, err)
	}
	if !public(ap.Addr()) {
		return fmt.Errorf("webhook: dial %s: %w", address, errPrivate)
	}
	return nil
}

// client is the HTTP client of deliveries: no proxy (it would dial for
// us), no redirects (a 3xx is an answer, not followed), the guard on every
// dial, timeout per attempt.
func (g Guard) client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
