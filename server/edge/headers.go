package edge

import (
	"regexp"

	"github.com/gofiber/fiber/v2"
)

// hostHeader is a Host value safe to repeat in a header: a name or an
// address and a port.
var hostHeader = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

// SecurityHeaders allows a page (the console) only its own origin:
// scripts, styles and images from it, GraphQL over HTTP to it and the
// socket to the same host; no framing, no sniffing, no referrer.
func SecurityHeaders(c *fiber.Ctx) error {
	ws := ""
	if h := c.Get(fiber.HeaderHost); hostHeader.MatchString(h) {
		ws = " ws://" + h + " wss://" + h
	}
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'"+ws+"; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	return c.Next()
}
