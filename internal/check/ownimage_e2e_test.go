package check_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/podmantest"
)

// TestRedlineInItsOwnImage does what the README shows: build redline's
// own image, load it into podman, and run `redline check` of the
// examples/hello image from inside it (the image has no Go toolchain, so
// it checks an image, mounted as an OCI layout). REDLINE_E2E=1 (podman,
// runc; the podman set-up of DESIGN.md).
func TestRedlineInItsOwnImage(t *testing.T) {
	podman := podmantest.New(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	ctx := context.Background()
	buildTo := func(pkg string, dest string) {
		t.Helper()
		d, err := build.ParseDestination(dest)
		if err != nil {
			t.Fatal(err)
		}
		b, err := build.New(build.Options{Dir: root, Package: pkg, To: []build.Destination{d}, Tag: "localhost/redline-e2e:dev", SkipDefaultSize: true, Environ: append(os.Environ(), "GOTOOLCHAIN=local")})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := b.Build(ctx); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(work, "redline.tar")
	buildTo("./cmd/redline", "docker-archive:"+archive)
	hello := filepath.Join(work, "hello")
	buildTo("./examples/hello", "oci-dir:"+hello)
	policy := filepath.Join(work, "redline.yaml")
	if err := os.WriteFile(policy, []byte("lines:\n  data: {level: warning}\n  vulnerabilities: {level: warning}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{work, hello} {
		os.Chmod(p, 0o755)
	}
	podman.Run("load", "-i", archive)
	t.Cleanup(func() { podman.Try("rmi", "-f", "localhost/redline-e2e:dev") })
	out, err := podman.Try("run", "--rm", "--network=none", "-v", work+":/work:ro", "localhost/redline-e2e:dev",
		"check", "--policy", "/work/redline.yaml", "oci-dir:/work/hello")
	if err != nil {
		t.Fatalf("redline check from its own image: %v", err) // err holds the output
	}
	for _, want := range []string{"PASS", "✔ user", "65532:65532", "✔ shell"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
