package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's "Scaling out" table lists every collection the code names,
// and no other: a new collection fails here until its shard key is given.
func TestScalingOutListsEveryCollection(t *testing.T) {
	literal := regexp.MustCompile(`\.Collection\("([a-z_]+)"\)`)
	// Names kept in constants (analytics, holdout) are found by the
	// constants' own lines: a name that the code passes to Collection.
	constant := regexp.MustCompile(`(?m)^\s*(?:const\s+)?(?:coll[A-Z]\w*|Collection)\s*=\s*"([a-z_]+)"`)
	inCode := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range []*regexp.Regexp{literal, constant} {
			for _, m := range re.FindAllSubmatch(src, -1) {
				inCode[string(m[1])] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section, _, _ := strings.Cut(string(readme[strings.Index(string(readme), "\n## Scaling out\n")+1:]), "\n## ")
	listed := map[string]bool{}
	name := regexp.MustCompile("`([a-z_]+)`")
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			listed[m[1]] = true
		}
	}
	var missing, extra []string
	for c := range inCode {
		if !listed[c] {
			missing = append(missing, c)
		}
	}
	for c := range listed {
		if !inCode[c] {
			extra = append(extra, c)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("README \"Scaling out\": collections in the code but not listed %v; listed but not in the code %v", missing, extra)
	}
	if len(inCode) < 40 {
		t.Errorf("found only %d collections in the code: the scan is broken", len(inCode))
	}
}
