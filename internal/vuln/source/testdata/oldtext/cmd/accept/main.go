// Command accept parses an Accept-Language value with
// golang.org/x/text/language.ParseAcceptLanguage, a symbol of GO-2022-1059.
package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tags, _, err := language.ParseAcceptLanguage(os.Getenv("ACCEPT_LANGUAGE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tags)
}
