// Command gendocs writes docs/rules.md from the rule catalogue:
//
//	go generate ./internal/lint
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/redline-go/redline/internal/lint"
)

func main() {
	out := flag.String("o", "docs/rules.md", "file to write")
	flag.Parse()
	var b bytes.Buffer
	if err := lint.Markdown(&b, lint.Catalogue()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
