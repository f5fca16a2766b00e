package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/redline-go/redline/internal/imagetest/faultreg"
)

// fastRetry shortens the retry waits for one test; the number of attempts
// stays the real one.
func fastRetry(t *testing.T) {
	t.Helper()
	old := registryRetry
	registryRetry.Wait = time.Millisecond
	t.Cleanup(func() { registryRetry = old })
}

// faultImage is an image pushed to a fault-injecting registry.
type faultImage struct {
	srv     *faultreg.Server
	ref     string
	pushed  v1.Image
	layers  []v1.Hash
	config  v1.Hash
	mfstTag string // path of the tag's manifest
}

func pushFaultImage(t *testing.T) *faultImage {
	t.Helper()
	fastRetry(t)
	s := faultreg.New(t)
	img := randomImage(t, 2)
	r, err := name.ParseReference(s.Host+"/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	s.ResetLog()
	return &faultImage{srv: s, ref: s.Host + "/app:v1", pushed: img, layers: layerDigests(t, img), config: m.Config.Digest, mfstTag: "/v2/app/manifests/v1"}
}

// openWalk opens and walks the image, the way every command reads one.
func (fi *faultImage) openWalk(ctx context.Context, o Options) (*Result, error) {
	o.Insecure = []string{fi.srv.Host}
	img, err := Open(ctx, Target{Scheme: Registry, Value: fi.ref}, o)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return Walk(ctx, img, PassOptions{})
}

func blobPathOf(h v1.Hash) string { return "/v2/app/blobs/" + h.String() }

// Faults that a retry or a resumed transfer gets past: the pass completes
// with every layer's verified digest, and the faulted request was indeed
// made again.
func TestRegistryFaultRetried(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules func(fi *faultImage) []faultreg.Rule
		// path whose GETs must number at least min
		path func(fi *faultImage) string
		min  int
		// check looks at the request log further.
		check func(t *testing.T, fi *faultImage)
	}{
		{
			name: "manifest 500 once",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: "/manifests/", Times: 1, Fault: faultreg.Status(500, "")}}
			},
			path: func(fi *faultImage) string { return fi.mfstTag }, min: 2,
		},
		{
			name: "manifest 429 twice",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: "/manifests/", Times: 2, Fault: faultreg.Status(429, "0")}}
			},
			path: func(fi *faultImage) string { return fi.mfstTag }, min: 3,
		},
		{
			name: "config 502 once",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.config.String(), Times: 1, Fault: faultreg.Status(502, "")}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.config) }, min: 2,
		},
		{
			name: "layer 503 three times",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[1].String(), Times: 3, Fault: faultreg.Status(503, "")}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[1]) }, min: 4,
		},
		{
			name: "layer 503 with Retry-After honoured",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Times: 1, Fault: faultreg.Status(503, "1")}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, min: 2,
			check: func(t *testing.T, fi *faultImage) {
				var at []time.Time
				for _, r := range fi.srv.Requests() {
					if r.Method == http.MethodGet && r.Path == blobPathOf(fi.layers[0]) {
						at = append(at, r.At)
					}
				}
				if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
					t.Errorf("retried after %s; the registry asked for 1 s", gap)
				}
			},
		},
		{
			name: "layer reset mid-blob resumes with Range",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[1].String(), Times: 1, Fault: faultreg.Reset(700)}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[1]) }, min: 2,
			check: func(t *testing.T, fi *faultImage) {
				var ranges []string
				for _, r := range fi.srv.Requests() {
					if r.Method == http.MethodGet && r.Path == blobPathOf(fi.layers[1]) {
						ranges = append(ranges, r.Range)
					}
				}
				if len(ranges) != 2 || ranges[0] != "" || !strings.HasPrefix(ranges[1], "bytes=") {
					t.Errorf("blob GETs with Range headers %q; want a whole GET, then a ranged one for the rest", ranges)
				}
			},
		},
		{
			name: "layer reset before the body",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Times: 2, Fault: faultreg.Reset(0)}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, min: 3,
		},
		{
			name: "layer truncated (Content-Length lies) twice",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Times: 2, Fault: faultreg.Truncate(1000)}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, min: 3,
		},
		{
			name: "config reset mid-blob",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.config.String(), Times: 1, Fault: faultreg.Reset(10)}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.config) }, min: 2,
		},
		{
			name: "manifest truncated once",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: "/manifests/", Times: 1, Fault: faultreg.Truncate(20)}}
			},
			path: func(fi *faultImage) string { return fi.mfstTag }, min: 1,
		},
		{
			name: "slow manifest and trickled layer",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{
					{Method: http.MethodGet, Path: "/manifests/", Fault: faultreg.Delay(150 * time.Millisecond)},
					{Method: http.MethodGet, Path: fi.layers[1].String(), Fault: faultreg.Slow(256, 2*time.Millisecond)},
				}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[1]) }, min: 1,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			fi := pushFaultImage(t)
			fi.srv.Add(c.rules(fi)...)
			res, err := fi.openWalk(context.Background(), Options{Insecure: []string{fi.srv.Host}})
			if err != nil {
				t.Fatalf("a retryable fault failed the pass: %v", err)
			}
			if len(res.Layers) != len(fi.layers) {
				t.Fatalf("%d layers read, want %d", len(res.Layers), len(fi.layers))
			}
			for i, lr := range res.Layers {
				if lr.Digest != fi.layers[i] {
					t.Errorf("layer %d: digest %s, want %s", i, lr.Digest, fi.layers[i])
				}
			}
			if n := fi.srv.Count(http.MethodGet, c.path(fi)); n < c.min {
				t.Errorf("%d GETs of %s, want at least %d (was the fault retried?)", n, c.path(fi), c.min)
			}
			if c.check != nil {
				c.check(t, fi)
			}
		})
	}
}

// Faults that must fail the run: it ends with an error that says what went
// wrong, after a bounded number of tries, and never with a result.
func TestRegistryFaultFails(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules func(fi *faultImage) []faultreg.Rule
		path  func(fi *faultImage) string
		// tries is the exact number of GETs of path.
		tries int
		opts  Options
		check func(t *testing.T, fi *faultImage, err error)
	}{
		{
			name: "endless manifest behind a small HEAD",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: "/manifests/", Fault: faultreg.Corrupt(func(b []byte) []byte {
					return append(b, make([]byte, 1<<20)...)
				})}}
			},
			path: func(fi *faultImage) string { return fi.mfstTag }, tries: 1,
			opts: Options{Limits: Limits{MetadataBytes: 64 << 10}},
			check: func(t *testing.T, fi *faultImage, err error) {
				var le *LimitError
				if !errors.As(err, &le) || le.Flag != "--max-metadata-bytes" {
					t.Errorf("err = %v, want a metadata LimitError", err)
				}
			},
		},
		{
			name: "manifest 500 every time",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: "/manifests/", Fault: faultreg.Status(500, "")}}
			},
			path: func(fi *faultImage) string { return fi.mfstTag }, tries: registryRetry.Attempts,
			check: contains("fetching manifest", "500"),
		},
		{
			name: "layer 503 every time",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[1].String(), Fault: faultreg.Status(503, "")}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[1]) }, tries: registryRetry.Attempts,
			check: contains("layer 1 ("+"sha256:", "503"),
		},
		{
			name: "Retry-After beyond the bound fails at once",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Fault: faultreg.Status(503, "3600")}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, tries: 1,
			check: contains("layer 0", "503"),
		},
		{
			name: "404 is not retried",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Fault: faultreg.Status(404, "")}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, tries: 1,
			check: contains("layer 0", "404"),
		},
		{
			name: "reset mid-blob every time",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Fault: faultreg.Reset(100)}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, tries: registryRetry.Attempts,
			check: contains("layer 0"),
		},
		{
			name: "truncated body every time",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[1].String(), Fault: faultreg.Truncate(100)}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[1]) }, tries: registryRetry.Attempts,
			check: func(t *testing.T, fi *faultImage, err error) {
				if !errors.Is(err, ErrTruncated) {
					t.Errorf("err = %v, want ErrTruncated", err)
				}
				contains("layer 1")(t, fi, err)
			},
		},
		{
			name: "wrong bytes for a layer digest",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[1].String(), Fault: faultreg.Corrupt(faultreg.FlipByte(-20))}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[1]) }, tries: 1,
			check: func(t *testing.T, fi *faultImage, err error) {
				var de *DigestError
				if !errors.As(err, &de) || de.Want != fi.layers[1] {
					t.Fatalf("err = %v, want a *DigestError for %s", err, fi.layers[1])
				}
				contains("layer 1 ("+fi.layers[1].String()+")")(t, fi, err)
			},
		},
		{
			name: "wrong bytes for the config digest",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.config.String(), Fault: faultreg.Corrupt(faultreg.FlipByte(5))}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.config) }, tries: 1,
			check: func(t *testing.T, fi *faultImage, err error) {
				var de *DigestError
				if !errors.As(err, &de) || de.Want != fi.config {
					t.Fatalf("err = %v, want a *DigestError for the config %s", err, fi.config)
				}
			},
		},
		{
			name: "a longer blob than the manifest says",
			rules: func(fi *faultImage) []faultreg.Rule {
				return []faultreg.Rule{{Method: http.MethodGet, Path: fi.layers[0].String(), Fault: faultreg.Corrupt(func(b []byte) []byte { return append(b, "extra"...) })}}
			},
			path: func(fi *faultImage) string { return blobPathOf(fi.layers[0]) }, tries: 1,
			check: func(t *testing.T, fi *faultImage, err error) {
				var de *DigestError
				if !errors.As(err, &de) || de.Want != fi.layers[0] {
					t.Fatalf("err = %v, want a *DigestError for %s", err, fi.layers[0])
				}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			fi := pushFaultImage(t)
			fi.srv.Add(c.rules(fi)...)
			res, err := fi.openWalk(context.Background(), c.opts)
			if err == nil {
				t.Fatalf("the pass succeeded through a fault it cannot get past (%d layers)", len(res.Layers))
			}
			if res != nil {
				t.Errorf("a failed pass returned a result too: %+v", res)
			}
			if !strings.HasPrefix(err.Error(), "registry:"+fi.ref+": ") {
				t.Errorf("error %q should start with the target", err)
			}
			if n := fi.srv.Count(http.MethodGet, c.path(fi)); n != c.tries {
				t.Errorf("%d GETs of %s, want %d", n, c.path(fi), c.tries)
			}
			c.check(t, fi, err)
		})
	}
}

func contains(subs ...string) func(t *testing.T, fi *faultImage, err error) {
	return func(t *testing.T, fi *faultImage, err error) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not contain %q", err, s)
			}
		}
	}
}

// staticKeychain hands the same credentials to every registry.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.pass}), nil
}

func TestRegistryAuth(t *testing.T) {
	for _, scheme := range []string{"basic", "bearer"} {
		require := func(s *faultreg.Server) {
			if scheme == "basic" {
				s.RequireBasic("alice", "s3cret")
			} else {
				s.RequireBearer("alice", "s3cret")
			}
		}
		t.Run(scheme+" without credentials", func(t *testing.T) {
			fi := pushFaultImage(t)
			require(fi.srv)
			_, err := fi.openWalk(context.Background(), Options{Keychain: authn.NewMultiKeychain()})
			if err == nil {
				t.Fatal("read an image that needs credentials without any")
			}
			for _, want := range []string{"registry " + fi.srv.Host + " wants credentials", "docker login " + fi.srv.Host, "podman login " + fi.srv.Host} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if n := fi.srv.Count(http.MethodGet, "/blobs/"); n != 0 {
				t.Errorf("%d blob GETs after the refusal", n)
			}
		})
		t.Run(scheme+" wrong credentials", func(t *testing.T) {
			fi := pushFaultImage(t)
			require(fi.srv)
			_, err := fi.openWalk(context.Background(), Options{Keychain: staticKeychain{"alice", "wrong"}})
			if err == nil || !strings.Contains(err.Error(), "docker login "+fi.srv.Host) {
				t.Fatalf("err = %v, want one that says how to log in", err)
			}
		})
		t.Run(scheme+" with credentials", func(t *testing.T) {
			fi := pushFaultImage(t)
			require(fi.srv)
			res, err := fi.openWalk(context.Background(), Options{Keychain: staticKeychain{"alice", "s3cret"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Layers) != 2 || res.Layers[1].Digest != fi.layers[1] {
				t.Errorf("layers %+v, want the pushed ones", res.Layers)
			}
			var unauth int
			for _, r := range fi.srv.Requests() {
				if r.Unauthorized {
					unauth++
				}
			}
			if unauth == 0 {
				t.Error("no request was challenged: the test does not test authentication")
			}
		})
	}
}

// Cancelling the context while a blob trickles in, or while waiting out a
// registry's Retry-After, stops the pass within 2 s with the context's
// error and leaves no goroutine behind.
func TestRegistryCancel(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault faultreg.Fault
	}{
		{"during a slow blob", faultreg.Slow(512, time.Hour)},
		{"during a Retry-After wait", faultreg.Status(503, "8")},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := settledGoroutines(t, -1)
			fi := pushFaultImage(t)
			fi.srv.Add(faultreg.Rule{Method: http.MethodGet, Path: fi.layers[1].String(), Fault: c.fault})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				res, err := fi.openWalk(ctx, Options{})
				if err == nil {
					err = fmt.Errorf("the pass completed (%d layers) over a stalled blob", len(res.Layers))
				} else if res != nil {
					err = fmt.Errorf("a cancelled pass returned a result: %w", err)
				}
				done <- err
			}()
			for deadline := time.Now().Add(10 * time.Second); fi.srv.Count(http.MethodGet, blobPathOf(fi.layers[1])) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("the faulty blob was never requested")
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Walk err = %v, want context.Canceled", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Walk did not return within 2 s of the cancel")
			}
			fi.srv.Close()
			settledGoroutines(t, base)
		})
	}
}

// settledGoroutines waits until the number of goroutines is at most want
// (or, with want < 0, stops changing) and returns it; it fails the test
// with every stack if that does not happen within 5 s.
func settledGoroutines(t *testing.T, want int) int {
	t.Helper()
	prev := -1
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n := runtime.NumGoroutine()
		if want >= 0 && n <= want || want < 0 && n == prev {
			return n
		}
		prev = n
	}
	if want < 0 {
		return runtime.NumGoroutine()
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), want, buf)
	return 0
}

// Several images read at once from goroutines, through resets that make
// every blob resume: each pass gets its own image's layers, and under
// `go test -race` the retrying transport shows no race.
func TestRegistryConcurrentWalks(t *testing.T) {
	fi := pushFaultImage(t)
	imgs := map[string][]v1.Hash{"app:v1": fi.layers}
	for _, tag := range []string{"other:1", "third:2"} {
		img := randomImage(t, 3)
		r, err := name.ParseReference(fi.srv.Host+"/"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
		imgs[tag] = layerDigests(t, img)
	}
	fi.srv.Add(faultreg.Rule{Method: http.MethodGet, Path: "/blobs/", Times: 3, Fault: faultreg.Reset(300)}) // fewer than the tries one blob gets
	errs := make(chan error, 2*len(imgs))
	for round := 0; round < 2; round++ {
		for tag, want := range imgs {
			go func() {
				img, err := Open(context.Background(), Target{Scheme: Registry, Value: fi.srv.Host + "/" + tag}, Options{Insecure: []string{fi.srv.Host}})
				if err != nil {
					errs <- err
					return
				}
				defer img.Close()
				res, err := Walk(context.Background(), img, PassOptions{})
				if err != nil {
					errs <- err
					return
				}
				for i, lr := range res.Layers {
					if lr.Digest != want[i] {
						errs <- fmt.Errorf("%s layer %d: digest %s, want %s", tag, i, lr.Digest, want[i])
						return
					}
				}
				if len(res.Layers) != len(want) {
					errs <- fmt.Errorf("%s: %d layers, want %d", tag, len(res.Layers), len(want))
					return
				}
				errs <- nil
			}()
		}
	}
	for range 2 * len(imgs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
