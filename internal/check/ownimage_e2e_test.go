package check_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/build"
)

// TestRedlineInItsOwnImage does what the README shows: build redline's
// own image, load it into podman, and run `redline check` of the
// examples/hello image from inside it (the image has no Go toolchain, so
// it checks an image, mounted as an OCI layout). REDLINE_E2E=1 (podman,
// runc; the podman set-up of DESIGN.md).
func TestRedlineInItsOwnImage(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("end-to-end test: set REDLINE_E2E=1 (needs podman and runc)")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (apt-get install podman runc); .ci/run installs it")
	}
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
	conf := filepath.Join(work, "containers.conf")
	os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644)
	podman := func(args ...string) (string, error) {
		rt := "/usr/sbin/runc"
		if _, err := os.Stat(rt); err != nil {
			if p, err := exec.LookPath("runc"); err == nil {
				rt = p
			}
		}
		cmd := exec.Command("podman", append([]string{"--runtime", rt, "--cgroup-manager=cgroupfs"}, args...)...)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := podman("load", "-i", archive); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rmi", "-f", "localhost/redline-e2e:dev") })
	out, err := podman("run", "--rm", "--network=none", "-v", work+":/work:ro", "localhost/redline-e2e:dev",
		"check", "--policy", "/work/redline.yaml", "oci-dir:/work/hello")
	if err != nil {
		t.Fatalf("redline check from its own image: %v\n%s", err, out)
	}
	for _, want := range []string{"PASS", "✔ user", "65532:65532", "✔ shell"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
