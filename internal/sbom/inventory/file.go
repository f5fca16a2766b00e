package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// File makes the SBOM of one executable. A file that is not a Go binary
// gives an SBOM with the file alone and a warning: it is readable, redline
// just knows nothing inside it.
func File(path string) (*sbom.SBOM, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", describe(path))
	}
	h := sha256.New()
	b, err := gobinary.Read(io.TeeReader(f, h))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", describe(path), err)
	}
	s := &sbom.SBOM{
		SchemaVersion: sbom.SchemaVersion, Tool: Tool,
		Subject: sbom.Subject{Kind: sbom.SubjectFile, Ref: "file:" + path, Name: filepath.Base(path), Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), ID: "subject"},
	}
	if b == nil {
		s.Warnings = append(s.Warnings, sbom.Warning{Path: path, Layer: -1, Message: "not a Go binary: nothing catalogued"})
		return s, nil
	}
	comps, rels, warn := gobinary.Components(path, -1, b)
	s.Components, s.Relationships = comps, rels
	if warn != "" {
		s.Warnings = append(s.Warnings, sbom.Warning{Path: path, Layer: -1, Message: warn})
	}
	contain(s)
	s.Sort()
	return s, nil
}
