package inventory_test

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// debianRoot is where .ci/run leaves a `debootstrap --variant=minbase`
// root; REDLINE_DEBIAN_ROOT overrides it.
func debianRoot(t *testing.T) string {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("end-to-end test: set REDLINE_E2E=1 (needs a debootstrap root; .ci/run makes it)")
	}
	root := os.Getenv("REDLINE_DEBIAN_ROOT")
	if root == "" {
		root = "/var/cache/redline-e2e/debian-minbase"
	}
	if _, err := os.Stat(root + "/var/lib/dpkg/status"); err != nil {
		t.Fatalf("no Debian root at %s (.ci/run prepares it with debootstrap --variant=minbase): %v", root, err)
	}
	return root
}

// TestDebianRootMatchesDpkgQuery catalogues a real Debian root filesystem
// and holds the package list against dpkg-query run on the same root.
func TestDebianRootMatchesDpkgQuery(t *testing.T) {
	root := debianRoot(t)
	out, err := exec.Command("dpkg-query", "--admindir="+root+"/var/lib/dpkg", "-W",
		"-f", "${db:Status-Abbrev}|${Package}|${Version}|${Architecture}|${source:Package}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if strings.TrimSpace(f[0]) != "ii" {
			continue
		}
		want = append(want, f[1]+" "+f[2]+" "+f[3]+" "+f[4])
	}
	sort.Strings(want)

	s, err := inventory.Image(context.Background(), image.Target{Scheme: image.Dir, Value: root}, image.Options{}, image.PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	withFiles := 0
	for _, c := range s.Components {
		if c.Type != sbom.TypeDeb {
			continue
		}
		src := c.SourceName
		if src == "" {
			src = c.Name
		}
		got = append(got, c.Name+" "+c.Version+" "+c.Arch+" "+src)
		if len(c.Files) > 0 {
			withFiles++
		}
	}
	sort.Strings(got)
	if len(want) < 50 {
		t.Fatalf("dpkg-query listed only %d packages: not a minbase root?", len(want))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("packages (-dpkg-query +redline):\n%s", d)
	}
	if withFiles < len(got)*9/10 {
		t.Errorf("only %d of %d packages have file lists", withFiles, len(got))
	}
	if s.Distro == nil || s.Distro.ID != "debian" || s.Distro.VersionID != "12" {
		t.Errorf("distro = %+v", s.Distro)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings on a clean root: %+v", s.Warnings)
	}
}
