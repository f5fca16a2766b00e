package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/redline-go/redline/internal/cli"
	"github.com/redline-go/redline/internal/imagetest/faultreg"
)

// TestInterruptLeavesNothing is Ctrl-C in the middle of a run: the blob of
// the image's second layer stalls, the context is cancelled (as
// cmd/redline's signal handler does), and every command returns exit 2
// within 2 s, with no output file and no temporary file in the output
// directory.
func TestInterruptLeavesNothing(t *testing.T) {
	srv := faultreg.New(t)
	img, err := random.Image(64<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(srv.Host+"/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	stalled, err := layers[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	srv.Add(faultreg.Rule{Method: http.MethodGet, Path: stalled.String(), Fault: faultreg.Slow(256, time.Hour)})
	target := "registry:" + srv.Host + "/app:v1"
	for _, c := range []struct {
		name string
		args func(out string) []string
	}{
		{"analyze", func(out string) []string {
			return []string{"analyze", "-o", "json=" + filepath.Join(out, "a.json"), target}
		}},
		{"sbom", func(out string) []string {
			return []string{"sbom", "-o", "cyclonedx-json=" + filepath.Join(out, "s.json"), "-o", "spdx-json=" + filepath.Join(out, "s.spdx"), target}
		}},
		{"scan", func(out string) []string {
			return []string{"scan", "-o", "sarif=" + filepath.Join(out, "v.sarif"), target}
		}},
		{"check", func(out string) []string { return []string{"check", "--report", out, target} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"-q", "--insecure-registry", srv.Host}, c.args(out)...)
			before := srv.Count(http.MethodGet, "/v2/app/blobs/"+stalled.String())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int, 1)
			var stderr bytes.Buffer
			go func() {
				done <- cli.Main(ctx, args, cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr})
			}()
			for deadline := time.Now().Add(20 * time.Second); srv.Count(http.MethodGet, "/v2/app/blobs/"+stalled.String()) == before; {
				if time.Now().After(deadline) {
					t.Fatal("the stalled blob was never requested")
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			select {
			case code := <-done:
				if code != 2 {
					t.Errorf("exit %d, want 2; stderr: %s", code, stderr.String())
				}
				if !strings.Contains(stderr.String(), "context canceled") {
					t.Errorf("stderr does not say it was cancelled: %s", stderr.String())
				}
			case <-time.After(2 * time.Second):
				t.Fatal("still running 2 s after the interrupt")
			}
			left, _ := os.ReadDir(out)
			for _, e := range left {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}
