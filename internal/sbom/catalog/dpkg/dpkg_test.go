package dpkg

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/sbom"
)

func TestParse(t *testing.T) {
	in := "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.15-1~deb12u1)\nVersion: 3.0.15-1~deb12u1\nDescription: x\n more\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"garbage line\nPackage: noversion\n\n" +
		"Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\nSource: zlib\n"
	pkgs, warns, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", Source: "openssl", SourceVersion: "3.0.15-1~deb12u1", Line: 1},
		{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: "amd64", Source: "zlib", Line: 16},
	}
	if d := cmp.Diff(want, pkgs); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "line 13") || !strings.Contains(warns[1], "no Package or Version") {
		t.Errorf("warnings = %q", warns)
	}
}

func TestPURL(t *testing.T) {
	d := &sbom.Distro{ID: "ubuntu", VersionID: "24.04"}
	for _, tc := range []struct {
		pkg  Package
		want string
	}{
		{Package{Name: "libssl3", Version: "3.0.13-0ubuntu3", Arch: "amd64", Source: "openssl"}, "pkg:deb/ubuntu/libssl3@3.0.13-0ubuntu3?arch=amd64&distro=ubuntu-24.04&upstream=openssl"},
		{Package{Name: "zlib1g", Version: "1:1.3", Arch: "amd64", Source: "zlib", SourceVersion: "1:1.3-1"}, "pkg:deb/ubuntu/zlib1g@1:1.3?arch=amd64&distro=ubuntu-24.04&upstream=zlib%401:1.3-1"},
		{Package{Name: "bash", Version: "5.2", Arch: "amd64"}, "pkg:deb/ubuntu/bash@5.2?arch=amd64&distro=ubuntu-24.04"},
	} {
		if got := PURL(tc.pkg, d); got != tc.want {
			t.Errorf("PURL(%s) = %s, want %s", tc.pkg.Name, got, tc.want)
		}
	}
	if got := PURL(Package{Name: "bash", Version: "5.2"}, nil); got != "pkg:deb/debian/bash@5.2" {
		t.Errorf("PURL without distro = %s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Package: a\nVersion: 1\n\n")
	f.Add("Package: a\nSource: b (2)\nVersion: 1\n continuation\n\n\n: x\n")
	f.Fuzz(func(t *testing.T, in string) {
		pkgs, _, err := Parse(strings.NewReader(in))
		if err != nil {
			t.Fatal(err) // a strings.Reader never fails: every problem is a warning
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}
