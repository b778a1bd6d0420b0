// Package edge is the server's side of the network, before any GraphQL:
// who the client is behind trusted proxies, how many connections one
// address may hold, per-key token buckets for rate limits, the kernel send
// buffer, and the security headers of the pages served.
package edge

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Proxies is the set of reverse proxies (TRUSTED_PROXIES) whose
// X-Forwarded-For is believed.
type Proxies []netip.Prefix

// ParseProxies reads CIDRs and addresses; what is neither is left out
// (config checks them first).
func ParseProxies(list []string) Proxies {
	var out Proxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// Trusted reports whether a is one of the proxies.
func (ps Proxies) Trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the address of whoever sent a request that reached us from
// peer with the given X-Forwarded-For headers. Only a trusted peer's header
// is read, and from the right: each trusted proxy appends the address it
// received from, so the first untrusted address from the right is the
// client. Addresses further left were written by the client itself and
// prove nothing (Fiber's own ProxyHeader takes the leftmost one, which a
// client behind an appending proxy chooses freely).
func (ps Proxies) Client(peer netip.Addr, forwardedFor []string) netip.Addr {
	peer = peer.Unmap()
	if !ps.Trusted(peer) {
		return peer
	}
	var hops []string
	for _, h := range forwardedFor {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at the last address we could trust
		}
		client = a.Unmap()
		if !ps.Trusted(client) {
			break
		}
	}
	return client
}

// ClientIPLocal is the Fiber local holding the request's client address,
// once ClientIP worked it out (the logs read it).
const ClientIPLocal = "clientIP"

// ClientIP is the request's client address (see Proxies.Client), worked
// out once per request.
func (ps Proxies) ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(ClientIPLocal).(string); ok {
		return ip
	}
	peer, _ := netip.ParseAddr(c.Context().RemoteIP().String())
	var forwarded []string
	if len(ps) > 0 {
		for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
			forwarded = append(forwarded, string(v))
		}
	}
	ip := ps.Client(peer, forwarded).String()
	c.Locals(ClientIPLocal, ip)
	return ip
}
