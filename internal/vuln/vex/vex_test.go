package vex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	govex "github.com/openvex/go-vex/pkg/vex"

	"github.com/redline-go/redline/internal/vuln"
)

const (
	digest  = "sha256:4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a"
	image   = "pkg:oci/app@" + digest
	other   = "pkg:oci/app@sha256:5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b"
	stdPURL = "pkg:golang/stdlib@1.26.8"
	txtPURL = "pkg:golang/golang.org/x/text@v0.3.7"
)

var when = time.Date(2026, 11, 6, 12, 0, 0, 0, time.UTC)

var (
	stdlib = vuln.ComponentRef{ID: "golang:stdlib@1.26.8", Type: "go-stdlib", Name: "stdlib", Version: "1.26.8", PURL: stdPURL, Path: "/app/server", Layer: 2}
	xtext  = vuln.ComponentRef{ID: "golang:golang.org/x/text@v0.3.7", Type: "go-module", Name: "golang.org/x/text", Version: "v0.3.7", PURL: txtPURL, Path: "/app/server", Layer: 2}
	curl   = vuln.ComponentRef{ID: "deb:curl@7.88.1-10", Type: "deb", Name: "curl", Version: "7.88.1-10", PURL: "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12", Layer: 0}
)

func findings() []vuln.Finding {
	return []vuln.Finding{
		{ID: "GO-9999-0001", Aliases: []string{"CVE-9999-0001"}, Component: stdlib, Reach: vuln.Called, Fixed: "1.26.10",
			Packages: []string{"net/http"}, Symbols: []string{"net/http.ListenAndServe"}, URL: "https://pkg.go.dev/vuln/GO-9999-0001",
			Trace: []vuln.Frame{{Function: "example.com/app.main", Position: "main.go:13:12"}, {Function: "net/http.ListenAndServe"}}},
		{ID: "GO-2022-1059", Aliases: []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"}, Component: xtext, Reach: vuln.Imported,
			Fixed: "v0.3.8", Packages: []string{"golang.org/x/text/language"}, URL: "https://pkg.go.dev/vuln/GO-2022-1059"},
		{ID: "GO-9999-0003", Component: stdlib, Reach: vuln.Required, Fixed: "1.99.0", Packages: []string{"net/smtp"}},
		{ID: "CVE-2023-38545", Component: curl, Reach: vuln.Installed, Fixed: "7.88.1-10+deb12u4"},
		{ID: "GO-9999-0004", Component: stdlib, Reach: vuln.Called},
	}
}

func buildDoc(t *testing.T, fs []vuln.Finding, product string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, fs, product, WriteOptions{Timestamp: when}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWrite(t *testing.T) {
	out := buildDoc(t, findings(), image)
	checkSchema(t, out)
	if again := buildDoc(t, findings(), image); !bytes.Equal(out, again) {
		t.Error("two writes differ")
	}
	var doc Document
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.ID, "https://openvex.dev/docs/public/vex-") || len(doc.ID) != len("https://openvex.dev/docs/public/vex-")+64 {
		t.Errorf("@id %q", doc.ID)
	}
	var b2 bytes.Buffer
	if err := Write(&b2, findings(), image, WriteOptions{Timestamp: when.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	var doc2 Document
	json.Unmarshal(b2.Bytes(), &doc2)
	if doc2.ID == doc.ID {
		t.Error("@id does not depend on the content")
	}
	if !doc.Timestamp.Equal(when) || doc.Author != "redline" || doc.Version != 1 || doc.Context != Context {
		t.Errorf("metadata: %+v", doc)
	}

	type row struct{ Vuln, Sub, Status, Just string }
	var got []row
	for _, s := range doc.Statements {
		if len(s.Products) != 1 || s.Products[0].ID != image || len(s.Products[0].Subcomponents) != 1 {
			t.Fatalf("%s: products %+v", s.Vulnerability.Name, s.Products)
		}
		got = append(got, row{s.Vulnerability.Name, s.Products[0].Subcomponents[0].ID, s.Status, s.Justification})
	}
	want := []row{
		{"CVE-2023-38545", "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12", StatusUnderInvestigation, ""},
		{"GO-2022-1059", txtPURL, StatusNotAffected, VulnerableCodeNotInExecutePath},
		{"GO-9999-0001", stdPURL, StatusAffected, ""},
		{"GO-9999-0003", stdPURL, StatusNotAffected, VulnerableCodeNotPresent},
		{"GO-9999-0004", stdPURL, StatusAffected, ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("statements (-want +got):\n%s", d)
	}
	s := doc.Statements[2]
	if s.ActionStatement != "Rebuild with Go 1.26.10 or later." || !strings.Contains(s.StatusNotes, "net/http.ListenAndServe") ||
		!strings.Contains(s.StatusNotes, "example.com/app.main -> net/http.ListenAndServe") ||
		s.Vulnerability.ID != "https://pkg.go.dev/vuln/GO-9999-0001" || !slices.Equal(s.Vulnerability.Aliases, []string{"CVE-9999-0001"}) {
		t.Errorf("GO-9999-0001: %+v", s)
	}
	if a := doc.Statements[4].ActionStatement; !strings.Contains(a, "No fixed version") {
		t.Errorf("GO-9999-0004 without a fix: action %q", a)
	}

	// go-vex, OpenVEX's own library, reads it, finds every statement valid
	// and matches each to its product and subcomponent as Apply does.
	gv, err := govex.Parse(out)
	if err != nil {
		t.Fatalf("go-vex: %v", err)
	}
	if gv.ID != doc.ID || len(gv.Statements) != len(doc.Statements) {
		t.Fatalf("go-vex read %s with %d statements", gv.ID, len(gv.Statements))
	}
	for i := range gv.Statements {
		st := &gv.Statements[i]
		if err := st.Validate(); err != nil {
			t.Errorf("go-vex: statement %d (%s): %v", i, st.Vulnerability.Name, err)
		}
		sub := doc.Statements[i].Products[0].Subcomponents[0].ID
		if !st.Matches(string(st.Vulnerability.Name), image, []string{sub}) {
			t.Errorf("go-vex: statement %d does not match %s / %s", i, image, sub)
		}
		if st.Matches(string(st.Vulnerability.Name), other, []string{sub}) {
			t.Errorf("go-vex: statement %d matches another image", i)
		}
	}
}

// TestWriteMerges: one module in two binaries of an image makes one
// statement at the strongest reach; a suppressed finding keeps its
// suppression; a binary product is written as a file: URL.
func TestWriteMerges(t *testing.T) {
	inB := xtext
	inB.Path = "/app/worker"
	fs := []vuln.Finding{
		{ID: "GO-2022-1059", Component: xtext, Reach: vuln.Imported},
		{ID: "GO-2022-1059", Component: inB, Reach: vuln.Called, Fixed: "v0.3.8", Aliases: []string{"CVE-2022-32149"}},
		{ID: "GO-9999-0003", Component: stdlib, Reach: vuln.Called,
			Suppressed: &vuln.Suppression{Status: StatusNotAffected, Justification: InlineMitigationsAlreadyExist, Statement: "doc#statements[0]"}},
		{ID: "GO-9999-0005", Component: stdlib, Reach: vuln.Called,
			Suppressed: &vuln.Suppression{Status: StatusNotAffected, Justification: "we checked", Statement: "doc#statements[1]"}},
		{ID: "GO-9999-0006", Component: stdlib, Reach: vuln.Called,
			Suppressed: &vuln.Suppression{Status: StatusFixed, Statement: "doc#statements[2]"}},
	}
	out := buildDoc(t, fs, "/usr/local/bin/app")
	checkSchema(t, out)
	doc, err := Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Statements) != 4 {
		t.Fatalf("%d statements, want 4", len(doc.Statements))
	}
	s := doc.Statements[0]
	if s.Status != StatusAffected || s.ActionStatement != "Update golang.org/x/text to v0.3.8 or later." || s.Products[0].ID != "file:///usr/local/bin/app" {
		t.Errorf("merged x/text statement: %+v", s)
	}
	if s := doc.Statements[1]; s.Status != StatusNotAffected || s.Justification != InlineMitigationsAlreadyExist || !strings.Contains(s.StatusNotes, "doc#statements[0]") {
		t.Errorf("carried suppression: %+v", s)
	}
	if s := doc.Statements[2]; s.Status != StatusNotAffected || s.Justification != "" || s.ImpactStatement != "we checked" {
		t.Errorf("carried suppression without a known justification: %+v", s)
	}
	if s := doc.Statements[3]; s.Status != StatusFixed || s.Justification != "" {
		t.Errorf("carried fixed: %+v", s)
	}
	var empty bytes.Buffer
	if err := Write(&empty, nil, image, WriteOptions{Timestamp: when}); err != nil || !strings.Contains(empty.String(), `"statements": []`) {
		t.Errorf("no findings: %v\n%s", err, empty.String())
	}
	if err := Write(&empty, fs, "", WriteOptions{}); err == nil {
		t.Error("no product accepted")
	}
}

// TestRoundTrip: what Write says about findings, Read and Apply turn back
// into suppressions of exactly the not_affected ones.
func TestRoundTrip(t *testing.T) {
	fs := findings()
	out := buildDoc(t, fs, image)
	doc, err := Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	built, err := Build(fs, image, WriteOptions{Timestamp: when})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(built, doc); d != "" {
		t.Errorf("Read(Write(x)) != Build(x) (-built +read):\n%s", d)
	}
	applied := Apply(doc, fs, image)
	for _, f := range applied {
		want := f.Reach == vuln.Imported || f.Reach == vuln.Required
		if (f.Suppressed != nil) != want {
			t.Errorf("%s (%s): suppressed %+v", f.ID, f.Reach, f.Suppressed)
		}
	}
	if s := applied[1].Suppressed; s == nil || s.Justification != VulnerableCodeNotInExecutePath || !strings.HasPrefix(s.Statement, doc.ID+"#statements[") {
		t.Errorf("GO-2022-1059: %+v", s)
	}
	for _, f := range fs {
		if f.Suppressed != nil {
			t.Fatal("Apply changed its input")
		}
	}
	// The same document does not apply to another image.
	for _, f := range Apply(doc, fs, other) {
		if f.Suppressed != nil {
			t.Errorf("%s suppressed for another image", f.ID)
		}
	}
}

func doc(t *testing.T, statements ...string) *Document {
	t.Helper()
	s := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"me","timestamp":"2026-11-01T00:00:00Z","version":1,"statements":[` +
		strings.Join(statements, ",") + `]}`
	d, err := Read(strings.NewReader(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return d
}

func TestApply(t *testing.T) {
	f := vuln.Finding{ID: "GO-2022-1059", Aliases: []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"}, Component: xtext, Reach: vuln.Called}
	na := `"status":"not_affected","justification":"vulnerable_code_cannot_be_controlled_by_adversary"`
	for _, tc := range []struct {
		name, stmt, product string
		want                bool
	}{
		{"by ID", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `"}],` + na + `}`, image, true},
		{"by alias", `{"vulnerability":{"name":"CVE-2022-32149"},"products":[{"@id":"` + image + `"}],` + na + `}`, image, true},
		{"by the statement's alias", `{"vulnerability":{"name":"CVE-0000-0000","aliases":["ghsa-69ch-w2m2-3vjp"]},"products":[{"@id":"` + image + `"}],` + na + `}`, image, true},
		{"by @id IRI", `{"vulnerability":{"@id":"https://pkg.go.dev/vuln/GO-2022-1059"},"products":[{"@id":"` + image + `"}],` + na + `}`, image, true},
		{"other vulnerability", `{"vulnerability":{"name":"CVE-2022-0000"},"products":[{"@id":"` + image + `"}],` + na + `}`, image, false},
		{"other image", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + other + `"}],` + na + `}`, image, false},
		{"other image, no product given", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `"}],` + na + `}`, "", false},
		{"image by identifiers.purl, other name and qualifiers", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"x:y","identifiers":{"purl":"pkg:oci/renamed@sha256%3A4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a?repository_url=ghcr.io/x/renamed&tag=v1"}}],` + na + `}`, image, true},
		{"image by hash", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"hashes":{"sha-256":"4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a"}}],` + na + `}`, image, true},
		{"image without digest: every version", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"pkg:oci/app"}],` + na + `}`, image, true},
		{"subcomponent matches", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `","subcomponents":[{"@id":"pkg:golang/golang.org/x/text@0.3.7"}]}],` + na + `}`, image, true},
		{"versionless subcomponent", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `","subcomponents":[{"identifiers":{"purl":"pkg:golang/golang.org/x/text"}}]}],` + na + `}`, image, true},
		{"subcomponent by binary path", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `","subcomponents":[{"@id":"file:///app/server"}]}],` + na + `}`, image, true},
		{"other subcomponent", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `","subcomponents":[{"@id":"pkg:golang/golang.org/x/net@v0.1.0"}]}],` + na + `}`, image, false},
		{"other subcomponent version", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `","subcomponents":[{"@id":"pkg:golang/golang.org/x/text@v0.3.8"}]}],` + na + `}`, image, false},
		{"product is the component", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"pkg:golang/golang.org/x/text"}],` + na + `}`, other, true},
		{"binary by path", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"file:///usr/bin/app"}],` + na + `}`, "/usr/bin/app", true},
		{"binary by plain path", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"/usr/bin//app"}],` + na + `}`, "/usr/bin/app", true},
		{"other binary", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"file:///usr/bin/other"}],` + na + `}`, "/usr/bin/app", false},
		{"module product", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"pkg:golang/example.com/app"}],` + na + `}`, "pkg:golang/example.com/app@v1.2.0", true},
		{"fixed suppresses", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `"}],"status":"fixed"}`, image, true},
		{"affected does not", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `"}],"status":"affected","action_statement":"update"}`, image, false},
		{"under_investigation does not", `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"` + image + `"}],"status":"under_investigation"}`, image, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Apply(doc(t, tc.stmt), []vuln.Finding{f}, tc.product)
			if (got[0].Suppressed != nil) != tc.want {
				t.Errorf("suppressed = %+v, want %v", got[0].Suppressed, tc.want)
			}
		})
	}

	// The suppression names the statement and its justification.
	got := Apply(doc(t, `{"vulnerability":{"name":"CVE-2022-32149"},"products":[{"@id":"`+image+`"}],"status":"not_affected","impact_statement":"input is trusted"}`,
		`{"@id":"https://example.com/vex/1#s2","vulnerability":{"name":"GO-9999-0001"},"products":[{"@id":"`+image+`"}],`+na+`}`),
		[]vuln.Finding{f, {ID: "GO-9999-0001", Component: stdlib, Reach: vuln.Called}}, image)
	if d := cmp.Diff(&vuln.Suppression{Status: StatusNotAffected, Justification: "input is trusted", Statement: "https://example.com/vex/1#statements[0]"}, got[0].Suppressed); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if s := got[1].Suppressed; s == nil || s.Statement != "https://example.com/vex/1#s2" || s.Justification != VulnerableCodeCannotBeControlledByAdversary {
		t.Errorf("statement @id: %+v", s)
	}

	// The latest statement wins: not_affected, then affected.
	later := func(ts, status string) string {
		extra := `"justification":"vulnerable_code_not_present"`
		if status == StatusAffected {
			extra = `"action_statement":"update"`
		}
		return `{"vulnerability":{"name":"GO-2022-1059"},"timestamp":"` + ts + `","products":[{"@id":"` + image + `"}],"status":"` + status + `",` + extra + `}`
	}
	if got := Apply(doc(t, later("2026-11-02T00:00:00Z", StatusNotAffected), later("2026-11-03T00:00:00Z", StatusAffected)), []vuln.Finding{f}, image); got[0].Suppressed != nil {
		t.Error("an older not_affected beat a newer affected")
	}
	if got := Apply(doc(t, later("2026-11-03T00:00:00Z", StatusNotAffected), later("2026-11-02T00:00:00Z", StatusAffected)), []vuln.Finding{f}, image); got[0].Suppressed == nil {
		t.Error("a newer not_affected lost to an older affected")
	}
	// Across documents (Merge): the newer document's statement wins.
	d1 := doc(t, `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"`+image+`"}],`+na+`}`)
	d2 := doc(t, `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"`+image+`"}],"status":"affected","action_statement":"update"}`)
	d2.Timestamp = d2.Timestamp.Add(time.Hour)
	if got := Apply(Merge(d1, d2), []vuln.Finding{f}, image); got[0].Suppressed != nil {
		t.Error("Merge: the older document won")
	}
	if got := Apply(Merge(d2, d1), []vuln.Finding{f}, image); got[0].Suppressed != nil {
		t.Error("Merge: document order beat timestamps")
	}
	// Already suppressed findings stay as they are; nil documents do nothing.
	pre := f
	pre.Suppressed = &vuln.Suppression{Status: StatusFixed, Statement: "earlier"}
	if got := Apply(doc(t, `{"vulnerability":{"name":"GO-2022-1059"},"products":[{"@id":"`+image+`"}],`+na+`}`), []vuln.Finding{pre}, image); got[0].Suppressed.Statement != "earlier" {
		t.Error("an earlier suppression was replaced")
	}
	if got := Apply(nil, []vuln.Finding{f}, image); got[0].Suppressed != nil {
		t.Error("nil document suppressed")
	}
}

func TestReadLegacy(t *testing.T) {
	d, err := Read(strings.NewReader(`{"@context":"https://openvex.dev/ns","@id":"https://example.com/vex/old","author":"me","timestamp":"2023-01-09T21:23:03.579712389-06:00","version":"1",
"statements":[{"vulnerability":"CVE-2022-32149","products":["` + image + `"],"subcomponents":["ignored"],"status":"not_affected","justification":"component_not_present"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || d.Statements[0].Vulnerability.Name != "CVE-2022-32149" || d.Statements[0].Products[0].ID != image {
		t.Errorf("%+v", d)
	}
}

func TestReadErrors(t *testing.T) {
	const head = `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"me","timestamp":"2026-11-01T00:00:00Z","version":1,`
	prod := `"products":[{"@id":"` + image + `"}]`
	for _, tc := range []struct{ name, doc, want string }{
		{"empty", ``, "not a JSON object"},
		{"not JSON", "{\n\"@context\": \"https://openvex.dev/ns/v0.2.0\",\n\"statements\": [,]}", "line 3"},
		{"array", `[]`, "not a JSON object"},
		{"no context", `{"statements":[]}`, "no @context"},
		{"other context", `{"@context":"https://cyclonedx.org/schema","statements":[]}`, `@context "https://cyclonedx.org/schema" is not OpenVEX's`},
		{"no statements", head[:len(head)-1] + `}`, "no statements"},
		{"empty statements", head + `"statements":[]}`, "statements is empty"},
		{"no vulnerability", head + `"statements":[{` + prod + `,"status":"fixed"}]}`, "statements[0].vulnerability: no name"},
		{"no status", head + `"statements":[{"vulnerability":{"name":"X"},` + prod + `}]}`, "statements[0]: no status"},
		{"bad status", head + `"statements":[{"vulnerability":{"name":"X"},` + prod + `,"status":"fixed"},{"vulnerability":{"name":"X"},` + prod + `,"status":"wontfix"}]}`,
			`statements[1].status: "wontfix" is not one of not_affected, affected, fixed, under_investigation`},
		{"not_affected without why", head + `"statements":[{"vulnerability":{"name":"X"},` + prod + `,"status":"not_affected"}]}`,
			"statements[0]: status not_affected needs a justification or an impact_statement"},
		{"bad justification", head + `"statements":[{"vulnerability":{"name":"X"},` + prod + `,"status":"not_affected","justification":"trust me"}]}`,
			`statements[0].justification: "trust me" is not one of`},
		{"justification on affected", head + `"statements":[{"vulnerability":{"name":"X"},` + prod + `,"status":"affected","justification":"component_not_present"}]}`,
			"statements[0].justification: only not_affected takes one (status is affected)"},
		{"no products", head + `"statements":[{"vulnerability":{"name":"X"},"status":"fixed"}]}`, "statements[0]: no products"},
		{"anonymous product", head + `"statements":[{"vulnerability":{"name":"X"},"products":[{"subcomponents":[{"@id":"pkg:golang/x"}]}],"status":"fixed"}]}`,
			"statements[0].products[0]: no @id, identifiers or hashes"},
		{"anonymous subcomponent", head + `"statements":[{"vulnerability":{"name":"X"},"products":[{"@id":"p","subcomponents":[{}]}],"status":"fixed"}]}`,
			"statements[0].products[0].subcomponents[0]: no @id, identifiers or hashes"},
		{"bad timestamp", head + `"statements":[{"vulnerability":{"name":"X"},` + prod + `,"status":"fixed","timestamp":"yesterday"}]}`, `parsing time "yesterday"`},
		{"bad version", `{"@context":"https://openvex.dev/ns/v0.2.0","version":"one","statements":[]}`, `version "one" is not an integer`},
		{"statements not a list", head + `"statements":{}}`, "statements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "openvex: ") {
				t.Errorf("err = %v, want the openvex: prefix", err)
			}
		})
	}
}

// checkSchema checks a written document against the rules of the OpenVEX
// 0.2.0 JSON schema (openvex_json_schema.json, $id
// https://github.com/openvex/spec/openvex_json_schema_0.2.0.json), encoded
// here by hand since no Go module carries the schema: required and allowed
// properties, enums, formats (uri, date-time), uniqueItems, version >= 1,
// not_affected with exactly one of justification and impact_statement,
// affected with an action_statement.
func checkSchema(t *testing.T, b []byte) {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	errf := func(path, format string, args ...any) {
		t.Helper()
		t.Errorf("schema: %s: %s", path, fmt.Sprintf(format, args...))
	}
	allowed := func(path string, m map[string]any, required []string, props ...string) {
		t.Helper()
		for _, r := range required {
			if _, ok := m[r]; !ok {
				errf(path, "missing required %q", r)
			}
		}
		for k := range m {
			if !slices.Contains(props, k) && !slices.Contains(required, k) {
				errf(path, "additional property %q", k)
			}
		}
	}
	str := func(path string, v any) string {
		t.Helper()
		s, ok := v.(string)
		if !ok {
			errf(path, "not a string: %v", v)
		}
		return s
	}
	uri := func(path string, v any) {
		t.Helper()
		u, err := url.Parse(str(path, v))
		if err != nil || !u.IsAbs() {
			errf(path, "not an absolute URI: %v", v)
		}
	}
	dateTime := func(path string, v any) {
		t.Helper()
		if _, err := time.Parse(time.RFC3339, str(path, v)); err != nil {
			errf(path, "not a date-time: %v", v)
		}
	}
	unique := func(path string, list []any) {
		t.Helper()
		seen := map[string]bool{}
		for _, v := range list {
			k, _ := json.Marshal(v)
			if seen[string(k)] {
				errf(path, "duplicate item %s", k)
			}
			seen[string(k)] = true
		}
	}
	positiveInt := func(path string, v any) {
		t.Helper()
		n, ok := v.(json.Number)
		if i, err := n.Int64(); !ok || err != nil || i < 1 {
			errf(path, "not an integer >= 1: %v", v)
		}
	}
	var component func(path string, v any, sub bool)
	component = func(path string, v any, sub bool) {
		t.Helper()
		m, ok := v.(map[string]any)
		if !ok {
			errf(path, "not an object")
			return
		}
		props := []string{"@id", "identifiers", "hashes"}
		if !sub {
			props = append(props, "subcomponents")
		}
		allowed(path, m, nil, props...)
		if id, ok := m["@id"]; ok {
			uri(path+".@id", id)
		}
		if ids, ok := m["identifiers"].(map[string]any); ok {
			allowed(path+".identifiers", ids, nil, "purl", "@cpe22", "@cpe23")
		}
		if subs, ok := m["subcomponents"].([]any); ok {
			unique(path+".subcomponents", subs)
			for i, s := range subs {
				component(fmt.Sprintf("%s.subcomponents[%d]", path, i), s, true)
			}
		}
	}

	allowed("document", doc, []string{"@context", "@id", "author", "timestamp", "version", "statements"},
		"role", "last_updated", "tooling")
	uri("@context", doc["@context"])
	uri("@id", doc["@id"])
	str("author", doc["author"])
	dateTime("timestamp", doc["timestamp"])
	positiveInt("version", doc["version"])
	stmts, ok := doc["statements"].([]any)
	if !ok || len(stmts) == 0 {
		t.Fatalf("schema: statements: not a non-empty array")
	}
	unique("statements", stmts)
	for i, v := range stmts {
		p := fmt.Sprintf("statements[%d]", i)
		s := v.(map[string]any)
		allowed(p, s, []string{"vulnerability", "status"}, "@id", "version", "timestamp", "last_updated", "products", "supplier",
			"status_notes", "justification", "impact_statement", "action_statement", "action_statement_timestamp")
		vul, _ := s["vulnerability"].(map[string]any)
		allowed(p+".vulnerability", vul, []string{"name"}, "@id", "description", "aliases")
		if id, ok := vul["@id"]; ok {
			uri(p+".vulnerability.@id", id)
		}
		if al, ok := vul["aliases"].([]any); ok {
			unique(p+".vulnerability.aliases", al)
		}
		status := str(p+".status", s["status"])
		if !slices.Contains(statuses, status) {
			errf(p+".status", "%q not in the enum", status)
		}
		if j, ok := s["justification"]; ok && !slices.Contains(justifications, str(p+".justification", j)) {
			errf(p+".justification", "%v not in the enum", j)
		}
		_, hasJ := s["justification"]
		_, hasI := s["impact_statement"]
		if status == StatusNotAffected && hasJ == hasI {
			errf(p, "not_affected needs exactly one of justification and impact_statement")
		}
		if _, ok := s["action_statement"]; status == StatusAffected && !ok {
			errf(p, "affected needs an action_statement")
		}
		for _, k := range []string{"timestamp", "last_updated", "action_statement_timestamp"} {
			if v, ok := s[k]; ok {
				dateTime(p+"."+k, v)
			}
		}
		if prods, ok := s["products"].([]any); ok {
			unique(p+".products", prods)
			for j, pr := range prods {
				component(fmt.Sprintf("%s.products[%d]", p, j), pr, false)
			}
		}
	}
}
