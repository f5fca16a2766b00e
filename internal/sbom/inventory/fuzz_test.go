package inventory_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// FuzzReadSBOM reads SBOMs as `redline scan` of an SBOM file does. Beyond
// not panicking: an error or an SBOM, never both or neither; components
// taken from CycloneDX are ones the matcher can use (a package URL that
// parses, a known type, a version); and what was read re-encodes as
// redline's JSON that reads back to the same encoding.
func FuzzReadSBOM(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "encode", "testdata", "golden", "sbom.cdx.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"text","version":"v0.3.7","purl":"pkg:golang/golang.org/x/text@v0.3.7"},{"type":"operating-system","name":"debian","version":"12"},{"type":"library","name":"openssl","purl":"pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl%403.0.11","components":[{"type":"library","name":"busybox","purl":"pkg:apk/alpine/busybox"}]},{"name":"stdlib","purl":"pkg:golang/stdlib@go1.26.8"}]}`))
	f.Add([]byte(`{"schemaVersion":"` + sbom.SchemaVersion + `","subject":{"kind":"image","id":"x","name":"x"},"components":[{"id":"c","type":"go-module","name":"m","version":"v1.0.0"}],"relationships":[]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3"}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"purl":"pkg:golang/%zz@1"},{"purl":"pkg:deb/debian/x?distro=-"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := inventory.ReadSBOM(bytes.NewReader(data))
		if (s == nil) == (err == nil) {
			t.Fatalf("SBOM %v and error %v: want exactly one", s, err)
		}
		if err != nil {
			return
		}
		var probe struct {
			BOMFormat string `json:"bomFormat"`
		}
		json.Unmarshal(data, &probe)
		if probe.BOMFormat == "CycloneDX" && s.SchemaVersion != sbom.SchemaVersion {
			for _, c := range s.Components {
				if _, err := packageurl.FromString(c.PURL); err != nil {
					t.Errorf("component %q: package URL %q does not parse: %v", c.Name, c.PURL, err)
				}
				switch c.Type {
				case sbom.TypeGoModule, sbom.TypeStdlib, sbom.TypeDeb, sbom.TypeApk:
				default:
					t.Errorf("component %q of type %q", c.Name, c.Type)
				}
				if c.Version == "" && c.Type != sbom.TypeStdlib {
					t.Errorf("component %q (%s) without a version was kept; it cannot be matched", c.Name, c.PURL)
				}
			}
		}
		b1, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("an SBOM as read does not encode: %v", err)
		}
		s2, err := inventory.ReadSBOM(bytes.NewReader(b1))
		if err != nil {
			t.Fatalf("redline's JSON of an SBOM as read does not read back: %v\n%s", err, b1)
		}
		b2, err := json.Marshal(s2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable (%v):\n%s\n%s", err, b1, b2)
		}
	})
}
