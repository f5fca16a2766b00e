package vex_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// FuzzRead reads OpenVEX documents as --vex does and applies them.
// Beyond not panicking: an error or a document, never both or neither; a
// document that reads has statements; it re-encodes to a document that
// reads again, and encoding is stable after that; and applying it never
// changes the findings given, keeps their number, and suppresses only
// with a not_affected or fixed statement.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"me","timestamp":"2026-11-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2022-32149","aliases":["GO-2022-1059"]},"products":[{"@id":"pkg:oci/app@sha256:5b0b","subcomponents":[{"@id":"pkg:golang/golang.org/x/text@v0.3.7"}]}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`))
	f.Add([]byte(`{"@context":"https://openvex.dev/ns","author":"me","timestamp":"2023-01-01T00:00:00Z","version":"2","statements":[{"vulnerability":"GO-2022-1059","products":["pkg:golang/golang.org/x/text"],"status":"fixed"}]}`))
	f.Add([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"@id":"https://pkg.go.dev/vuln/GO-2022-1059"},"products":[{"hashes":{"sha-256":"5b0b"},"identifiers":{"purl":"pkg:oci/app?tag=1"}}],"status":"affected","action_statement":"upgrade"}]}`))
	f.Add([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"x"},"products":[{"@id":"/usr/bin/app"}],"status":"not_affected","impact_statement":"never called"}]}`))
	f.Add([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := vex.Read(bytes.NewReader(data))
		if (doc == nil) == (err == nil) {
			t.Fatalf("document %v and error %v: want exactly one", doc, err)
		}
		if err != nil {
			return
		}
		if len(doc.Statements) == 0 {
			t.Fatal("a document without statements was accepted")
		}
		b1, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("a document as read does not encode: %v", err)
		}
		doc2, err := vex.Read(bytes.NewReader(b1))
		if err != nil {
			t.Fatalf("a document as read, encoded, does not read back: %v\n%s", err, b1)
		}
		if len(doc2.Statements) != len(doc.Statements) {
			t.Fatalf("%d statements after a round trip, want %d", len(doc2.Statements), len(doc.Statements))
		}
		b2, _ := json.Marshal(doc2)
		doc3, err := vex.Read(bytes.NewReader(b2))
		if err != nil {
			t.Fatal(err)
		}
		if b3, _ := json.Marshal(doc3); !bytes.Equal(b2, b3) {
			t.Fatalf("encoding not stable:\n%s\n%s", b2, b3)
		}

		// Findings named by the document, in components its products
		// name, so that matching runs deep.
		var fs []vuln.Finding
		var products []string
		for _, s := range doc.Statements {
			ids := append([]string{s.Vulnerability.Name, s.Vulnerability.ID}, s.Vulnerability.Aliases...)
			for _, p := range s.Products {
				products = append(products, p.ID, p.Identifiers["purl"])
				comps := append([]vex.Component{p}, p.Subcomponents...)
				for _, c := range comps {
					fs = append(fs, vuln.Finding{ID: ids[0], Aliases: ids[1:], Component: vuln.ComponentRef{ID: c.ID, PURL: c.Identifiers["purl"], Name: c.ID, Path: c.ID}})
				}
			}
		}
		products = append(products, "", "pkg:oci/app@sha256:5b0b")
		before, _ := json.Marshal(fs)
		for _, product := range products {
			out := vex.Apply(doc, fs, product)
			if len(out) != len(fs) {
				t.Fatalf("Apply returned %d findings for %d", len(out), len(fs))
			}
			for _, f := range out {
				if f.Suppressed != nil && f.Suppressed.Status != vex.StatusNotAffected && f.Suppressed.Status != vex.StatusFixed {
					t.Errorf("suppressed with status %q", f.Suppressed.Status)
				}
			}
		}
		if after, _ := json.Marshal(fs); !bytes.Equal(before, after) {
			t.Fatal("Apply changed the findings it was given")
		}
		vex.Merge(doc, doc2)
	})
}
