package main

import (
	"net/http"
	"regexp"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/regulars/regulars/console"
)

// hostHeader is a Host value safe to repeat in a header: a name or an
// address and a port.
var hostHeader = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

// consoleCSP allows the console only its own origin: scripts, styles and
// images from it, GraphQL over HTTP to it and the socket to the same host.
func consoleCSP(c *fiber.Ctx) error {
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

// mountConsole serves the console at /console (README, "Console") and, in
// development, GraphiQL at /graphiql, both from files embedded in the binary.
func (m *Main) mountConsole(app *fiber.App) {
	app.Use("/console", consoleCSP, filesystem.New(filesystem.Config{Root: http.FS(console.FS()), Index: "index.html"}))
	if m.Config.Env == "development" {
		app.Use("/graphiql", filesystem.New(filesystem.Config{Root: http.FS(console.GraphiQL()), Index: "index.html"}))
	}
}
