package osrelease

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/sbom"
)

func TestParse(t *testing.T) {
	d, err := Parse(strings.NewReader("# comment\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\nPRETTY_NAME='Ubuntu 24.04.1 LTS'\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &sbom.Distro{ID: "ubuntu", VersionID: "24.04", Codename: "noble", PrettyName: "Ubuntu 24.04.1 LTS", IDLike: []string{"debian"}}
	if d2 := cmp.Diff(want, d); d2 != "" {
		t.Errorf("distro (-want +got):\n%s", d2)
	}
	if _, err := Parse(strings.NewReader("ID=x\nnot a pair\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: err = %v", err)
	}
	if d, _ := Parse(strings.NewReader("")); d.ID != "linux" {
		t.Errorf("empty file: ID = %q, want the default linux", d.ID)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ID=debian\nVERSION_ID=\"12\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := Parse(strings.NewReader(in))
		if err == nil && d.ID == "" {
			t.Fatal("no ID and no error")
		}
	})
}
