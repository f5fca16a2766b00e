// Command gen writes the sample images of testdata/images. Run it with
// `go generate ./internal/imagetest`; TestSamplesCurrent fails when the
// committed files differ from what it would write.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/redline-go/redline/internal/imagetest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	for name, files := range imagetest.SampleFiles() {
		if err := imagetest.WriteTar(filepath.Join(os.Args[1], name), files); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
