// Command gen regenerates the vulnerability snapshot that package db
// embeds: it fetches the Go module golang.org/x/vulndb at a pinned version
// through the Go module proxy (`go mod download`, so GOPROXY, GOFLAGS and
// the checksum database apply) and writes vulndb.zst and vulndb.json.
//
// Run it through `go generate ./internal/vuln/db`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
)

func main() {
	version := flag.String("version", "", "golang.org/x/vulndb version to embed (required)")
	out := flag.String("out", ".", "directory to write "+osvpack.SnapshotData+" and "+osvpack.SnapshotMeta+" into")
	flag.Parse()
	if *version == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -version VERSION [-out DIR]")
		os.Exit(2)
	}
	if err := run(context.Background(), *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, version, out string) error {
	z, err := osvpack.GoModDownload(ctx, "go", nil, osvpack.VulnDBModule, version)
	if err != nil {
		return err
	}
	meta, data, warnings, err := osvpack.BuildSnapshot(z)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	for name, b := range map[string][]byte{osvpack.SnapshotData: data, osvpack.SnapshotMeta: meta} {
		if err := writeFile(filepath.Join(out, name), b); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s@%s: %d bytes compressed\n", osvpack.VulnDBModule, z.Version, len(data))
	return nil
}

func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
