package apk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	in := "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\nF:usr/lib\nR:x.so\n\nX\nP:only-name\n\nP:ssl_client\nV:3.3.2-r0\no:openssl\n"
	pkgs, warns, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Name: "musl", Version: "1.2.5-r0", Arch: "x86_64", Origin: "musl", License: "MIT", Files: []string{"/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1", "/usr/lib/x.so"}, Line: 1},
		{Name: "ssl_client", Version: "3.3.2-r0", Origin: "openssl", Line: 15},
	}
	if d := cmp.Diff(want, pkgs); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "line 12") || !strings.Contains(warns[1], "no P: or V:") {
		t.Errorf("warnings = %q", warns)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("P:a\nV:1\n\n")
	f.Add("P:a\nV:1\nF:x\nR:y\n\nP:\n")
	f.Fuzz(func(t *testing.T, in string) {
		pkgs, _, err := Parse(strings.NewReader(in))
		if err != nil && !strings.Contains(err.Error(), "token too long") {
			t.Fatal(err)
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}
