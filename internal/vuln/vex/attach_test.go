package vex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/vuln"
)

func TestImagePURL(t *testing.T) {
	for name, want := range map[string]string{
		"":                                      "pkg:oci/image@" + digest,
		"registry.example.com:5000/team/App:v1": "pkg:oci/app@" + digest,
		"app@" + digest:                         "pkg:oci/app@" + digest,
		"hello":                                 "pkg:oci/hello@" + digest,
	} {
		if got := ImagePURL(name, digest); got != want {
			t.Errorf("ImagePURL(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSourceStatements(t *testing.T) {
	fs := append(findings()[:3], vuln.Finding{ID: "GO-9999-0009", Component: vuln.ComponentRef{Type: "go-stdlib", Name: "toolchain", Version: "1.26.8"}, Reach: vuln.Required})
	doc, err := SourceStatements(fs, image, WriteOptions{Timestamp: when})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, b)
	got := map[string]string{}
	for _, s := range doc.Statements {
		if len(s.Products) != 1 || s.Products[0].ID != image || len(s.Products[0].Subcomponents) != 1 {
			t.Errorf("%s: products %+v", s.Vulnerability.Name, s.Products)
		}
		if !strings.HasPrefix(s.StatusNotes, "redline source analysis: ") {
			t.Errorf("%s: notes %q", s.Vulnerability.Name, s.StatusNotes)
		}
		got[s.Vulnerability.Name+" "+s.Products[0].Subcomponents[0].ID] = s.Status + " " + s.Justification
	}
	want := map[string]string{
		"GO-9999-0001 " + stdPURL: "affected ",
		"GO-2022-1059 " + txtPURL: "not_affected vulnerable_code_not_in_execute_path",
		"GO-9999-0003 " + stdPURL: "not_affected vulnerable_code_not_present",
	}
	if len(got) != len(want) {
		t.Errorf("statements %v, want %v (no toolchain statement)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	// Applied to the image, by digest, under any name.
	applied := Apply(doc, findings(), "pkg:oci/renamed@"+digest)
	if applied[1].Suppressed == nil || applied[0].Suppressed != nil {
		t.Errorf("applied: %+v / %+v", applied[0].Suppressed, applied[1].Suppressed)
	}
	if a := Apply(doc, findings(), other); a[1].Suppressed != nil {
		t.Error("applied to another image")
	}
	for _, bad := range []string{"pkg:oci/app", "pkg:golang/x@v1", "/usr/bin/app"} {
		if _, err := SourceStatements(fs, bad, WriteOptions{}); err == nil {
			t.Errorf("SourceStatements(%q) accepted a product that is not an image digest", bad)
		}
	}
}

func TestAttacher(t *testing.T) {
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	amd, arm := v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "arm64"}
	waited := false
	a := Attacher{
		Findings: func(context.Context) ([]vuln.Finding, error) { waited = true; return findings()[:3], nil },
		Module:   "example.com/app", Options: WriteOptions{Timestamp: when},
	}
	one := &build.Built{Labels: map[string]string{"org.opencontainers.image.title": "app"}, Platforms: []build.BuiltPlatform{{Platform: amd, Image: img, Digest: d}}}
	atts, err := a.Attach(context.Background(), one)
	if err != nil || !waited || len(atts) != 1 {
		t.Fatalf("Attach = %d attachments, %v (waited %v)", len(atts), err, waited)
	}
	at := atts[0]
	if at.ArtifactType != ArtifactType || at.Suffix != ".vex.json" || at.Platform != "" || at.Annotations[AnnotationSource] != "example.com/app" {
		t.Errorf("attachment %+v", at)
	}
	doc, err := Read(bytes.NewReader(at.Data))
	if err != nil {
		t.Fatal(err)
	}
	if id := doc.Statements[0].Products[0].ID; id != "pkg:oci/app@"+d.String() {
		t.Errorf("product %s, want the built image's digest", id)
	}

	// Several platforms: each image gets its own, or only the one analysed.
	two := &build.Built{Platforms: []build.BuiltPlatform{{Platform: amd, Image: img, Digest: d}, {Platform: arm, Image: img, Digest: d}}}
	if atts, err := a.Attach(context.Background(), two); err != nil || len(atts) != 2 || atts[1].Platform != "linux/arm64" || atts[1].Suffix != "" {
		t.Errorf("two platforms: %+v, %v", atts, err)
	}
	a.Platform = "linux/arm64"
	if atts, err := a.Attach(context.Background(), two); err != nil || len(atts) != 1 || atts[0].Platform != "linux/arm64" {
		t.Errorf("one of two platforms: %+v, %v", atts, err)
	}
	a.Platform = "linux/s390x"
	if _, err := a.Attach(context.Background(), two); err == nil {
		t.Error("a platform that was not built was accepted")
	}

	// A failed source analysis fails the attachment (and so the build).
	boom := errors.New("boom")
	a = Attacher{Findings: func(context.Context) ([]vuln.Finding, error) { return nil, boom }}
	if _, err := a.Attach(context.Background(), one); !errors.Is(err, boom) {
		t.Errorf("failed analysis: %v", err)
	}
}
