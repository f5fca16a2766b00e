package layers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/podmantest"
)

// TestPodmanSavedArchives reads archives written by a real engine:
// `podman import` of a root filesystem, then `podman save` in both the
// docker-archive and the oci-archive format.
func TestPodmanSavedArchives(t *testing.T) {
	podman := podmantest.New(t)
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs.tar")
	if err := os.WriteFile(rootfs, imagetest.Tar(
		imagetest.Entry{Name: "etc/"},
		imagetest.Entry{Name: "etc/hostname", Body: []byte("e2e\n")},
		imagetest.Entry{Name: "app", Size: 12345, Mode: 0o755},
	), 0o644); err != nil {
		t.Fatal(err)
	}
	const tag = "localhost/redline-e2e-save:test"
	podman.Run("import", "--change", "USER=65532", "--change", `ENTRYPOINT ["/app"]`, rootfs, tag)
	t.Cleanup(func() { podman.Cmd("rmi", "-f", tag).Run() })

	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			archive := filepath.Join(dir, format+".tar")
			podman.For(t).Run("save", "--format", format, "-o", archive, tag)
			a, tree, err := layers.Run(context.Background(), image.Target{Scheme: image.Scheme(format), Value: archive}, image.Options{}, image.PassOptions{}, layers.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if fi, ok := tree.Lookup("/app"); !ok || fi.Size != 12345 {
				t.Errorf("/app = %+v, %v; want 12345 bytes", fi, ok)
			}
			if a.Summary.FinalBytes != 12345+4 || a.Summary.Layers != 1 {
				t.Errorf("summary = %+v", a.Summary)
			}
			if a.Config.User != "65532" || len(a.Config.Entrypoint) != 1 || a.Config.Entrypoint[0] != "/app" {
				t.Errorf("config = %+v", a.Config)
			}
			if !strings.HasPrefix(a.Layers[0].Digest, "sha256:") {
				t.Errorf("layer digest = %q", a.Layers[0].Digest)
			}
		})
	}
}
