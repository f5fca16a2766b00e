package inflate_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOtherCompressors decodes streams that GNU gzip, pigz (its zopfli
// level, independent blocks, stored blocks) and zopfli made
// (testdata/README.md): block layouts Go's compressors never write. Each
// must decode cleanly, as the reference does, to the same bytes.
func TestOtherCompressors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 11 {
		t.Fatalf("%d streams in testdata, want the 11 the README lists", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			in, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			r := check(t, gzipFormat, in)
			if r.ref.err != nil || r.ours.err != nil || len(r.ours.out) != 30000 {
				t.Errorf("reference: %v, ours: %v, %d bytes; want both to decode the 30,000 input bytes", r.ref.err, r.ours.err, len(r.ours.out))
			}
		})
	}
}
