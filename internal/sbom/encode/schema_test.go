package encode_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/sbom/sbomtest"
)

const (
	cycloneDXSchema = sbomtest.CycloneDX
	spdxSchema      = sbomtest.SPDX
)

func validate(t *testing.T, schemaID string, doc []byte) error {
	t.Helper()
	return sbomtest.Validate(schemaID, doc)
}

func TestCycloneDXSchema(t *testing.T) {
	out := mustEncode(t, encode.CycloneDXJSON, fixture())
	if err := validate(t, cycloneDXSchema, out); err != nil {
		t.Fatalf("CycloneDX output does not validate against bom-1.6:\n%v", err)
	}
	// The validator must be able to say no: break the document on purpose.
	for _, tc := range []struct {
		name   string
		break_ func(doc map[string]any)
	}{
		{"unknown component type", func(doc map[string]any) { component(doc, 0)["type"] = "gadget" }},
		{"hash not hex", func(doc map[string]any) {
			metadataComponent(doc)["hashes"].([]any)[0].(map[string]any)["content"] = "not-hex"
		}},
		{"license id not on the SPDX list", func(doc map[string]any) {
			for _, c := range doc["components"].([]any) {
				if ls, ok := c.(map[string]any)["licenses"].([]any); ok {
					for _, l := range ls {
						if lic, ok := l.(map[string]any)["license"].(map[string]any); ok && lic["id"] != nil {
							lic["id"] = "Not-A-License"
							return
						}
					}
				}
			}
			t.Fatal("fixture has no license id")
		}},
		{"serial number not a urn:uuid", func(doc map[string]any) { doc["serialNumber"] = "42" }},
		{"missing specVersion", func(doc map[string]any) { delete(doc, "specVersion") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := decodeMap(t, out)
			tc.break_(doc)
			if err := validate(t, cycloneDXSchema, encodeMap(t, doc)); err == nil {
				t.Errorf("a broken document validated")
			}
		})
	}
}

func TestSPDXSchema(t *testing.T) {
	out := mustEncode(t, encode.SPDXJSON, fixture())
	if err := validate(t, spdxSchema, out); err != nil {
		t.Fatalf("SPDX output does not validate against SPDX 2.3:\n%v", err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(doc map[string]any)
	}{
		{"SPDXID with a slash", func(doc map[string]any) {
			doc["packages"].([]any)[1].(map[string]any)["SPDXID"] = "SPDXRef-a/b"
		}},
		{"file without checksums", func(doc map[string]any) {
			delete(doc["files"].([]any)[0].(map[string]any), "checksums")
		}},
		{"created with fractional seconds", func(doc map[string]any) {
			doc["creationInfo"].(map[string]any)["created"] = "2026-11-05T23:49:57.5Z"
		}},
		{"unknown purpose", func(doc map[string]any) {
			doc["packages"].([]any)[0].(map[string]any)["primaryPackagePurpose"] = "GADGET"
		}},
		{"unknown relationship", func(doc map[string]any) {
			doc["relationships"].([]any)[0].(map[string]any)["relationshipType"] = "LIKES"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := decodeMap(t, out)
			tc.break_(doc)
			if err := validate(t, spdxSchema, encodeMap(t, doc)); err == nil {
				t.Errorf("a broken document validated")
			}
		})
	}
}

// TestSchemasVendored checks that the vendored files are the ones NOTICE
// names and that the SPDX schema is the 2.3 one with the ID pattern.
func TestSchemasVendored(t *testing.T) {
	for name, want := range map[string]string{
		"bom-1.6.schema.json":  `"$id": "http://cyclonedx.org/schema/bom-1.6.schema.json"`,
		"spdx.schema.json":     `"$id": "http://cyclonedx.org/schema/spdx.schema.json"`,
		"jsf-0.82.schema.json": `"$id": "http://cyclonedx.org/schema/jsf-0.82.schema.json"`,
		"spdx-2.3.schema.json": `"pattern" : "^SPDXRef-[a-zA-Z0-9.-]+$"`,
	} {
		b, err := os.ReadFile(filepath.Join(sbomtest.SchemaDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not contain %s", name, want)
		}
	}
}

func component(doc map[string]any, i int) map[string]any {
	return doc["components"].([]any)[i].(map[string]any)
}

func metadataComponent(doc map[string]any) map[string]any {
	return doc["metadata"].(map[string]any)["component"].(map[string]any)
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeMap(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
