// Command parse parses one BCP 47 tag with golang.org/x/text/language.Parse,
// which GO-2022-1059 does not list among its vulnerable symbols: the
// package is imported, no vulnerable symbol is called.
package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tag, err := language.Parse(os.Getenv("LANG_TAG"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tag)
}
