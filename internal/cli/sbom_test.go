package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/redline-go/redline/internal/cli"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/sbom/sbomtest"
)

// TestSBOMOutputsValidate holds what `redline sbom` writes for the sample
// images against the official CycloneDX 1.6 and SPDX 2.3 schemas.
func TestSBOMOutputsValidate(t *testing.T) {
	dir := t.TempDir()
	for name, files := range imagetest.SampleFiles() {
		archive := filepath.Join(dir, name)
		if err := imagetest.WriteTar(archive, files); err != nil {
			t.Fatal(err)
		}
		cdx, spdx := filepath.Join(dir, name+".cdx.json"), filepath.Join(dir, name+".spdx.json")
		var stderr bytes.Buffer
		code := cli.Main(context.Background(), []string{"sbom", "-q", "-o", "cyclonedx-json=" + cdx, "-o", "spdx-json=" + spdx, archive}, cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr})
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr.String())
		}
		for file, schema := range map[string]string{cdx: sbomtest.CycloneDX, spdx: sbomtest.SPDX} {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := sbomtest.Validate(schema, b); err != nil {
				t.Errorf("%s: %v", filepath.Base(file), err)
			}
		}
	}
}
