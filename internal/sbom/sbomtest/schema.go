// Package sbomtest validates SBOMs against the official CycloneDX 1.6 and
// SPDX 2.3 JSON schemas vendored under internal/sbom/testdata/schema (see
// NOTICE). Tests of every package that writes SBOMs use it; it never
// reaches the network: each schema file is registered under its own $id.
package sbomtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema IDs.
const (
	CycloneDX = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	SPDX      = "http://spdx.org/rdf/terms/2.3"
)

// SchemaDir is the directory of the vendored schemas.
func SchemaDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "schema")
}

var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(SchemaDir(), "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no schemas in %s", SchemaDir())
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s: no $id", f)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, err
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, id := range []string{CycloneDX, SPDX} {
		if out[id], err = c.Compile(id); err != nil {
			return nil, err
		}
	}
	return out, nil
})

// Validate checks a JSON document against the schema with the given ID.
func Validate(schemaID string, doc []byte) error {
	all, err := schemas()
	if err != nil {
		return fmt.Errorf("compiling schemas: %w", err)
	}
	s := all[schemaID]
	if s == nil {
		return fmt.Errorf("unknown schema %q", schemaID)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}
