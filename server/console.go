package main

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/regulars/regulars/console"
	"github.com/regulars/regulars/server/edge"
)

// mountConsole serves the console at /console (README, "Console") and, in
// development, GraphiQL at /graphiql, both from files embedded in the binary.
func (m *Main) mountConsole(app *fiber.App) {
	app.Use("/console", edge.SecurityHeaders, filesystem.New(filesystem.Config{Root: http.FS(console.FS()), Index: "index.html"}))
	if m.Config.Env == "development" {
		app.Use("/graphiql", filesystem.New(filesystem.Config{Root: http.FS(console.GraphiQL()), Index: "index.html"}))
	}
}
