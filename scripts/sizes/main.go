// Command sizes prints the measures of issue 11 a newcomer can check:
// hand-written lines per package (its Go files but tests, files starting
// "// Code generated" left out, blank and comment lines counted) and
// methods per exported type (declared on it, exported and in all), for
// the packages go list names (default ./...), largest first.
//
//	go run ./scripts/sizes              # every package and type
//	go run ./scripts/sizes -lines 1500 -methods 25 ./community/...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	minLines := flag.Int("lines", 0, "print only packages with at least this many lines")
	minMethods := flag.Int("methods", 0, "print only types with at least this many exported methods (the bound is on what callers see)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		args = []string{"./..."}
	}
	out, err := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}} {{.Dir}} {{join .GoFiles \" \"}}"}, args...)...).Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go list:", err)
		os.Exit(1)
	}
	type pkgLines struct {
		path string
		n    int
	}
	type typeMethods struct {
		name          string
		exported, all int
	}
	var pkgs []pkgLines
	var types []typeMethods
	fset := token.NewFileSet()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		n := 0
		exported, all := map[string]int{}, map[string]int{}
		for _, name := range f[2:] {
			path := filepath.Join(f[1], name)
			src, err := os.ReadFile(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if bytes.HasPrefix(src, []byte("// Code generated")) {
				continue
			}
			n += bytes.Count(src, []byte("\n"))
			if len(src) > 0 && src[len(src)-1] != '\n' {
				n++
			}
			file, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			for _, d := range file.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil {
					continue
				}
				if t := receiver(fd.Recv.List[0].Type); t != "" && ast.IsExported(t) {
					all[t]++
					if fd.Name.IsExported() {
						exported[t]++
					}
				}
			}
		}
		pkgs = append(pkgs, pkgLines{f[0], n})
		for t, k := range all {
			types = append(types, typeMethods{f[0] + "." + t, exported[t], k})
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].n > pkgs[j].n })
	sort.Slice(types, func(i, j int) bool { return types[i].all > types[j].all })
	fmt.Println("hand-written lines per package")
	for _, p := range pkgs {
		if p.n >= *minLines {
			fmt.Printf("%6d  %s\n", p.n, p.path)
		}
	}
	fmt.Println("\nmethods per exported type (exported / all)")
	for _, t := range types {
		if t.exported >= *minMethods {
			fmt.Printf("%3d / %3d  %s\n", t.exported, t.all, t.name)
		}
	}
}

// receiver is the name of a method's receiver type.
func receiver(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return receiver(t.X)
	case *ast.IndexExpr:
		return receiver(t.X)
	case *ast.IndexListExpr:
		return receiver(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}
