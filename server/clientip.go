package main

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxies is the set of reverse proxies (TRUSTED_PROXIES) whose
// X-Forwarded-For is believed.
type proxies []netip.Prefix

func parseProxies(list []string) proxies {
	var out proxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

func (ps proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client returns the address of whoever sent a request that reached us from
// peer with the given X-Forwarded-For headers. Only a trusted peer's header
// is read, and from the right: each trusted proxy appends the address it
// received from, so the first untrusted address from the right is the
// client. Addresses further left were written by the client itself and
// prove nothing (Fiber's own ProxyHeader takes the leftmost one, which a
// client behind an appending proxy chooses freely).
func (ps proxies) client(peer netip.Addr, forwardedFor []string) netip.Addr {
	peer = peer.Unmap()
	if !ps.trusted(peer) {
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
		if !ps.trusted(client) {
			break
		}
	}
	return client
}

const clientIPLocal = "clientIP"

// clientIP is the request's client address (see proxies.client), worked
// out once per request.
func (m *Main) clientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(clientIPLocal).(string); ok {
		return ip
	}
	peer, _ := netip.ParseAddr(c.Context().RemoteIP().String())
	var forwarded []string
	if len(m.proxies) > 0 {
		for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
			forwarded = append(forwarded, string(v))
		}
	}
	ip := m.proxies.client(peer, forwarded).String()
	c.Locals(clientIPLocal, ip)
	return ip
}
