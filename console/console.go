// Package console holds the brand and moderator console, a web app served
// at /console that is a client of the public GraphQL API only, and the
// GraphiQL page served at /graphiql in development. Both are plain files
// (native ES modules, vendored libraries pinned in vendor/VERSIONS.md and
// graphiql/vendor/VERSIONS.md) embedded in the binary: no build step, no
// Node needed to run them.
package console

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.js api.js style.css favicon.svg pages vendor
var files embed.FS

//go:embed graphiql
var graphiqlFiles embed.FS

// FS is the console's files, index.html at its root.
func FS() fs.FS { return files }

// GraphiQL is the GraphiQL page's files, index.html at its root.
func GraphiQL() fs.FS {
	sub, err := fs.Sub(graphiqlFiles, "graphiql")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// Embedded lists the directories and files of console/ that are embedded
// (relative to console/); the rest of console/ (Go files, e2e/) is not
// part of the app. A test walks console/ against it.
var Embedded = []string{"index.html", "app.js", "api.js", "style.css", "favicon.svg", "pages", "vendor", "graphiql"}
