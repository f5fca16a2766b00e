package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/want.golden")

// fake serves table.go sources from testdata by toolchain version.
func fake(files map[string]string) fetchFunc {
	return func(v string) ([]byte, string, error) {
		name, ok := files[v]
		if !ok {
			return nil, "", fmt.Errorf("no table for %s", v)
		}
		src, err := os.ReadFile(filepath.Join("testdata", name))
		return src, "golang.org/toolchain@v0.0.1-" + v + ".linux-amd64 h1:fake=", err
	}
}

func TestGenerateGolden(t *testing.T) {
	got, err := generate("go1.27.3", []string{"go1.26.8"}, fake(map[string]string{"go1.27.3": "newest.go.txt", "go1.26.8": "older.go.txt"}))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "want.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("generated table (-want +got), rerun with -update if intended:\n%s", cmp.Diff(string(want), string(got)))
	}
	for _, line := range []string{
		`{Name: "alpha", Package: "crypto/tls", Changed: 22, Old: "1"},`,
		`{Name: "beta", Package: "crypto/tls", Changed: 23, Old: "1", Removed: 27, RemovedOld: []string{"1"}},`,
		`{Name: "fresh", Package: "net/http", Changed: 26, Old: "1", Opaque: true, AddedAfter: "go1.26.8"},`,
		`{Name: "gamma", Package: "time", Changed: 23, Old: "1", Removed: 27, RemovedOld: []string{"1", "2"}},`,
		`{Name: "locked", Package: "crypto/fips140", Immutable: true},`,
	} {
		if !strings.Contains(string(got), line) {
			t.Errorf("generated table lacks %s", line)
		}
	}
	if strings.Contains(string(got), "commented") {
		t.Error("a commented-out row was read")
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name, newest, older, want string
	}{
		{"new field", "package p\nvar All = []Info{{Name: \"a\", Package: \"p\", Flavour: \"x\"}}\n", "", "Info field Flavour is new to the generator"},
		{"no All", "package p\nvar Some = []Info{{Name: \"a\", Package: \"p\"}}\n", "", "no `var All"},
		{"removed nowhere", "package p\nvar All = []Info{{Name: \"a\", Package: \"p\"}}\nvar Removed = []RemovedInfo{{Name: \"b\", Removed: 27, Old: func(s string) bool { return s == \"1\" }}}\n",
			"package p\nvar All = []Info{{Name: \"a\", Package: \"p\"}}\n", "add a toolchain older than go1.27"},
		{"vanished", "package p\nvar All = []Info{{Name: \"a\", Package: \"p\"}}\n",
			"package p\nvar All = []Info{{Name: \"a\", Package: \"p\"}, {Name: \"z\", Package: \"p\"}}\n", "lists z, which go1.27.3 neither lists nor removes"},
		{"odd predicate", "package p\nvar All = []Info{{Name: \"a\", Package: \"p\"}}\nvar Removed = []RemovedInfo{{Name: \"b\", Removed: 27, Old: func(s string) bool { return s != \"1\" }}}\n",
			"package p\nvar All = []Info{{Name: \"b\", Package: \"p\"}}\n", "only == and || are understood"},
		{"not a literal", "package p\nvar All = []Info{{Name: name, Package: \"p\"}}\n", "", "not a string literal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetch := func(v string) ([]byte, string, error) {
				if v == "go1.27.3" {
					return []byte(tt.newest), "m", nil
				}
				return []byte(tt.older), "m", nil
			}
			var older []string
			if tt.older != "" {
				older = []string{"go1.26.8"}
			}
			_, err := generate("go1.27.3", older, fetch)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	if _, err := generate("go1.26.8", []string{"go1.27.3"}, fake(map[string]string{"go1.27.3": "newest.go.txt", "go1.26.8": "older.go.txt"})); err == nil {
		t.Error("an -older toolchain newer than -newest is an error")
	}
}
