package cli_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/redline-go/redline/internal/cli"
	"github.com/redline-go/redline/internal/imagetest"
)

// TestAnalyzeFromRegistry pushes the sample image to an in-process registry
// on loopback and checks that analyzing it from there reports exactly what
// analyzing the archive reports.
func TestAnalyzeFromRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	dir := filepath.Join(t.TempDir(), "layout")
	if err := imagetest.Build(imagetest.Naive()).WriteOCIDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/hello:naive", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "naive.tar")
	if err := imagetest.WriteTar(archive, imagetest.SampleFiles()["naive.tar"]); err != nil {
		t.Fatal(err)
	}

	analyze := func(args ...string) string {
		var out, errb bytes.Buffer
		code := cli.Main(context.Background(), append([]string{"analyze", "-q", "-o", "json"}, args...), cli.Env{Stdout: &out, Stderr: &errb})
		if code != 0 {
			t.Fatalf("redline analyze %v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	fromRegistry := analyze("--insecure-registry", host, "registry:"+host+"/hello:naive")
	fromArchive := analyze("docker-archive:" + archive)
	// Everything but the image identity and the layer media types (an OCI
	// manifest names them; a docker archive has none, so they are sniffed)
	// must agree.
	mediaType := regexp.MustCompile(`(?m)^\s*"mediaType": .*\n`)
	strip := func(s string) string {
		i := strings.Index(s, `"summary"`)
		if i < 0 {
			t.Fatalf("no summary in %s", s)
		}
		return mediaType.ReplaceAllString(s[i:], "")
	}
	if a, b := strip(fromRegistry), strip(fromArchive); a != b {
		t.Errorf("registry and archive analyses differ:\nregistry: %.2000s\narchive:  %.2000s", a, b)
	}
	if !strings.Contains(fromRegistry, `"ref": "registry:`+host+`/hello:naive"`) || !strings.Contains(fromRegistry, `"digest": "sha256:`) {
		t.Errorf("registry image identity missing:\n%.600s", fromRegistry)
	}
}
