package imagetest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/redline-go/redline/internal/imagetest"
)

// TestSamplesCurrent guards the committed sample images: they must be what
// the generator writes today (run `go generate ./internal/imagetest`).
func TestSamplesCurrent(t *testing.T) {
	dir := t.TempDir()
	for name, files := range imagetest.SampleFiles() {
		p := filepath.Join(dir, name)
		if err := imagetest.WriteTar(p, files); err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join("..", "..", "testdata", "images", name))
		if err != nil {
			t.Fatalf("%v (run go generate ./internal/imagetest)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/images/%s is stale: run go generate ./internal/imagetest", name)
		}
	}
}
