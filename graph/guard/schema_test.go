package guard

import (
	"os"
	"path/filepath"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// schema is the API's schema, read from the files gqlgen generates from.
var schema = gqlparser.MustLoadSchema(schemaSources()...)

func schemaSources() []*ast.Source {
	files, err := filepath.Glob("../schema/*.graphql")
	if err != nil {
		panic(err)
	}
	var srcs []*ast.Source
	for _, f := range append([]string{"../../schema.graphql"}, files...) {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		srcs = append(srcs, &ast.Source{Name: f, Input: string(b)})
	}
	return srcs
}
