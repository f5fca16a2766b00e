package encode_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/encode"
)

func TestTableFits(t *testing.T) {
	long := strings.Repeat("x", 60)
	s := fixture()
	s.Components = append(s.Components,
		sbom.Component{
			ID: "long", Type: sbom.TypeGoModule, Layer: 3,
			Name:    "github.com/aws/aws-sdk-go-v2/service/s3/internal/" + long,
			Version: "v0.0.0-20261105234957-e22db6528018",
			Path:    "/usr/local/lib/" + long + "/bin/tool",
		},
		sbom.Component{ID: "dir", Type: sbom.TypeDeb, Name: "ünïcödé-pkg", Version: "1", Layer: -1},
	)
	out := string(mustEncode(t, encode.Table, s))
	lines := strings.Split(out, "\n")
	inTable := false
	var row string
	for _, l := range lines {
		if strings.HasPrefix(l, "NAME ") {
			inTable = true
		}
		if l == "" {
			inTable = false
		}
		if inTable && utf8.RuneCountInString(l) > 80 {
			t.Errorf("line of %d columns: %q", utf8.RuneCountInString(l), l)
		}
		if strings.HasPrefix(l, "github.com/aws/") {
			row = l
		}
	}
	if !strings.Contains(row, "…  v0.0.0-") {
		t.Errorf("long name not clipped at its end: %q", row)
	}
	if !strings.HasSuffix(row, "/bin/tool") || !strings.Contains(row, "  …") {
		t.Errorf("long path not clipped at its start: %q", row)
	}
	if !strings.Contains(out, "ünïcödé-pkg") || !strings.Contains(out, "deb        -") {
		t.Errorf("component outside an image lost its name or its layer dash:\n%s", out)
	}
	if !strings.Contains(out, "  go-module       4\n") || !strings.Contains(out, "  total          13\n") {
		t.Errorf("summary wrong:\n%s", out)
	}
}

func TestTableEmpty(t *testing.T) {
	s := &sbom.SBOM{
		Subject:  sbom.Subject{Kind: sbom.SubjectFile, Ref: "file:./x", Name: "x"},
		Warnings: []sbom.Warning{{Path: "/x", Layer: -1, Message: "build info truncated"}},
	}
	want := "file x\n\nNo components found.\n\nWARNINGS (1)\n  /x: build info truncated\n"
	if got := string(mustEncode(t, encode.Table, s)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestInvalid feeds SBOMs whose references are broken: the standard
// encoders refuse them with ErrInvalid instead of writing dangling refs.
func TestInvalid(t *testing.T) {
	base := func() *sbom.SBOM {
		return &sbom.SBOM{
			Subject:    sbom.Subject{Kind: sbom.SubjectImage, Name: "i", ID: "img"},
			Components: []sbom.Component{{ID: "a", Type: sbom.TypeDeb, Name: "a", Files: []string{"/f"}}, {ID: "b", Type: sbom.TypeDeb, Name: "b"}},
		}
	}
	for _, tc := range []struct {
		name string
		edit func(s *sbom.SBOM)
	}{
		{"empty ID", func(s *sbom.SBOM) { s.Components[0].ID = "" }},
		{"duplicate ID", func(s *sbom.SBOM) { s.Components[1].ID = "a" }},
		{"component has the subject's ID", func(s *sbom.SBOM) { s.Components[1].ID = "img" }},
		{"unknown target", func(s *sbom.SBOM) {
			s.Relationships = []sbom.Relationship{{From: "img", Type: sbom.RelContains, To: "c"}}
		}},
		{"unknown source", func(s *sbom.SBOM) {
			s.Relationships = []sbom.Relationship{{From: "c", Type: sbom.RelDependsOn, To: "a"}}
		}},
		{"unknown type", func(s *sbom.SBOM) {
			s.Relationships = []sbom.Relationship{{From: "img", Type: "likes", To: "a"}}
		}},
		{"file of another package", func(s *sbom.SBOM) {
			s.Relationships = []sbom.Relationship{{From: "b", Type: sbom.RelContains, To: sbom.FileID("a", "/f")}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(s)
			for _, e := range encoders[:3] {
				if err := e.fn(io.Discard, s); !errors.Is(err, encode.ErrInvalid) {
					t.Errorf("%s: error %v, want ErrInvalid", e.name, err)
				}
			}
		})
	}
	for _, e := range encoders {
		if err := e.fn(io.Discard, nil); !errors.Is(err, encode.ErrInvalid) {
			t.Errorf("%s(nil): error %v, want ErrInvalid", e.name, err)
		}
	}
	// The base itself is fine, including a file edge written out.
	s := base()
	s.Relationships = []sbom.Relationship{{From: "a", Type: sbom.RelContains, To: sbom.FileID("a", "/f")}}
	for _, e := range encoders {
		if err := e.fn(io.Discard, s); err != nil {
			t.Errorf("%s: %v", e.name, err)
		}
	}
}
