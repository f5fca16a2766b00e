package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/redline-go/redline/internal/podmantest"
)

// fakeEngine serves the two compat API calls redline makes, for one image,
// on a unix socket.
type fakeEngine struct {
	sock    string
	archive []byte // the /get body

	mu    sync.Mutex
	paths []string // request paths as received
}

func newFakeEngine(t *testing.T, imageName string, archive []byte) *fakeEngine {
	t.Helper()
	fe := &fakeEngine{sock: filepath.Join(t.TempDir(), "engine.sock"), archive: archive}
	ln, err := net.Listen("unix", fe.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fe.mu.Lock()
		fe.paths = append(fe.paths, r.URL.EscapedPath())
		fe.mu.Unlock()
		rest, ok := strings.CutPrefix(r.URL.Path, "/images/")
		if !ok || r.Method != http.MethodGet {
			http.Error(w, `{"message":"unexpected call"}`, http.StatusBadRequest)
			return
		}
		var img, what string
		if i := strings.LastIndex(rest, "/"); i >= 0 {
			img, what = rest[:i], rest[i+1:]
		}
		if img != imageName {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"message":"No such image: %s"}`, img)
			return
		}
		switch what {
		case "json":
			fmt.Fprintf(w, `{"Id":"sha256:0","RepoTags":[%q]}`, imageName)
		case "get":
			w.Header().Set("Content-Type", "application/x-tar")
			w.Write(fe.archive)
		default:
			http.Error(w, `{"message":"unexpected call"}`, http.StatusBadRequest)
		}
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return fe
}

// dockerArchive writes img as `docker save` would, tagged tag.
func dockerArchive(t *testing.T, img v1.Image, tag string) []byte {
	t.Helper()
	ref, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarball.Write(ref, img, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func spooled(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "redline-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEngineOpen(t *testing.T) {
	const imgName = "localhost/redline/app:1"
	pushed := randomImage(t, 3)
	fe := newFakeEngine(t, imgName, dockerArchive(t, pushed, imgName))
	tmp := t.TempDir()
	o := &Options{PodmanHost: "unix://" + fe.sock, TempDir: tmp}

	img, err := openEngine(context.Background(), Podman, imgName, o)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := pushed.ConfigFile()
	if len(img.Layers) != 3 {
		t.Fatalf("%d layers, want 3", len(img.Layers))
	}
	for i, l := range img.Layers {
		if l.DiffID != cfg.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: DiffID %s, want %s", i, l.DiffID, cfg.RootFS.DiffIDs[i])
		}
	}
	if img.Name != imgName {
		t.Errorf("Name = %q, want %q", img.Name, imgName)
	}
	// The name travels as one escaped path segment.
	fe.mu.Lock()
	paths := append([]string(nil), fe.paths...)
	fe.mu.Unlock()
	wantPaths := []string{"/images/localhost%2Fredline%2Fapp:1/json", "/images/localhost%2Fredline%2Fapp:1/get"}
	if strings.Join(paths, " ") != strings.Join(wantPaths, " ") {
		t.Errorf("requests %q, want %q", paths, wantPaths)
	}

	files := spooled(t, tmp)
	if len(files) != 1 {
		t.Fatalf("spooled files in TempDir: %q, want one", files)
	}
	res, err := Walk(context.Background(), img, PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := layerDigests(t, pushed)
	for i, lr := range res.Layers {
		if lr.Digest != want[i] {
			t.Errorf("layer %d: digest %s, want %s", i, lr.Digest, want[i])
		}
	}
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(files[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spooled file %s still there after Close (stat: %v)", files[0], err)
	}
	if err := img.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestEngineHas(t *testing.T) {
	fe := newFakeEngine(t, "app:1", nil)
	o := &Options{DockerHost: "unix://" + fe.sock}
	for _, c := range []struct {
		name string
		want bool
	}{{"app:1", true}, {"app:2", false}} {
		got, err := engineHas(context.Background(), Docker, c.name, o)
		if err != nil || got != c.want {
			t.Errorf("engineHas(%q) = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	missing := &Options{DockerHost: "unix://" + filepath.Join(t.TempDir(), "none.sock")}
	if ok, err := engineHas(context.Background(), Docker, "app:1", missing); err == nil || ok {
		t.Errorf("engineHas on a missing socket = %v, %v; want an error", ok, err)
	}
}

func TestEngineNotFound(t *testing.T) {
	fe := newFakeEngine(t, "app:1", nil)
	tmp := t.TempDir()
	_, err := openEngine(context.Background(), Podman, "nope:1", &Options{PodmanHost: "unix://" + fe.sock, TempDir: tmp})
	if err == nil || err.Error() != `image "nope:1" not found in podman` {
		t.Errorf("err = %v, want the not-found error", err)
	}
	if f := spooled(t, tmp); len(f) != 0 {
		t.Errorf("left %q behind", f)
	}
}

func TestEngineUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "missing.sock")
	_, err := openEngine(context.Background(), Podman, "app:1", &Options{PodmanHost: "unix://" + sock})
	if err == nil {
		t.Fatal("opened an image through a socket that does not exist")
	}
	for _, want := range []string{"cannot reach the podman API at unix://" + sock + ": ", "podman system service", "CONTAINER_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	_, err = openEngine(context.Background(), Docker, "app:1", &Options{DockerHost: sock})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the docker API at unix://"+sock) || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Errorf("docker: err = %v, want the cannot-reach error naming DOCKER_HOST", err)
	}
}

func TestEngineExportLimit(t *testing.T) {
	const imgName = "app:1"
	archive := dockerArchive(t, randomImage(t, 2), imgName)
	fe := newFakeEngine(t, imgName, archive)
	tmp := t.TempDir()
	o := &Options{PodmanHost: "unix://" + fe.sock, TempDir: tmp, Limits: Limits{TotalBytes: int64(len(archive)) - 1}}
	_, err := openEngine(context.Background(), Podman, imgName, o)
	var le *LimitError
	if !errors.As(err, &le) || le.Flag != "--max-total-bytes" {
		t.Fatalf("err = %v, want a LimitError for --max-total-bytes", err)
	}
	if f := spooled(t, tmp); len(f) != 0 {
		t.Errorf("left %q behind after the limit was crossed", f)
	}
	o.Limits.TotalBytes = int64(len(archive))
	img, err := openEngine(context.Background(), Podman, imgName, o)
	if err != nil {
		t.Fatalf("an export of exactly the limit: %v", err)
	}
	img.Close()
}

func TestEngineBadArchiveRemovesSpool(t *testing.T) {
	fe := newFakeEngine(t, "app:1", []byte("not a tar at all"))
	tmp := t.TempDir()
	_, err := openEngine(context.Background(), Podman, "app:1", &Options{PodmanHost: "unix://" + fe.sock, TempDir: tmp})
	if err == nil || !strings.Contains(err.Error(), "reading the export of podman") {
		t.Errorf("err = %v, want an error reading the export", err)
	}
	if f := spooled(t, tmp); len(f) != 0 {
		t.Errorf("left %q behind", f)
	}
}

func TestEngineAddr(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("CONTAINER_HOST", "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/4242")
	rootless := "unix:///run/user/4242/podman/podman.sock"
	if os.Geteuid() == 0 {
		rootless = "unix:///run/podman/podman.sock"
	}
	for _, c := range []struct {
		eng     Scheme
		env     map[string]string
		o       Options
		want    string
		wantErr string
	}{
		{eng: Docker, want: "unix:///var/run/docker.sock"},
		{eng: Docker, env: map[string]string{"DOCKER_HOST": "unix:///tmp/d.sock"}, want: "unix:///tmp/d.sock"},
		{eng: Docker, env: map[string]string{"DOCKER_HOST": "unix:///tmp/d.sock"}, o: Options{DockerHost: "/tmp/o.sock"}, want: "unix:///tmp/o.sock"},
		{eng: Docker, env: map[string]string{"DOCKER_HOST": "tcp://10.0.0.1:2375"}, wantErr: "only unix sockets are supported"},
		{eng: Podman, want: rootless},
		{eng: Podman, env: map[string]string{"CONTAINER_HOST": "unix:///tmp/p.sock"}, want: "unix:///tmp/p.sock"},
		{eng: Podman, env: map[string]string{"CONTAINER_HOST": "ssh://core@host/run/podman.sock"}, wantErr: "only unix sockets are supported"},
		{eng: Podman, o: Options{PodmanHost: "unix:///x.sock", DockerHost: "unix:///y.sock"}, want: "unix:///x.sock"},
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		c.o.Logger = nil
		cl, err := newEngineClient(c.eng, &c.o)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s %v: err = %v, want %q", c.eng, c.env, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%s %v: %v", c.eng, c.env, err)
		case cl.addr != c.want:
			t.Errorf("%s %v %+v: addr %s, want %s", c.eng, c.env, c.o, cl.addr, c.want)
		}
		for k := range c.env {
			t.Setenv(k, "")
		}
	}
}

// TestEngineE2EPodman starts a real podman API service, imports a root
// filesystem made here, and opens it through the socket.
func TestEngineE2EPodman(t *testing.T) {
	podman := podmantest.New(t)
	dir := t.TempDir()

	// A tiny root filesystem.
	const imgName = "localhost/redline-e2e:test"
	rootfs := filepath.Join(dir, "rootfs.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := map[string]string{"etc/redline-e2e": "hello from the e2e test\n", "app/run.sh": "#!/bin/sh\necho hi\n"}
	for _, d := range []string{"etc/", "app/"} {
		tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for n, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rootfs, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	podman.Run("import", rootfs, imgName)
	t.Cleanup(func() {
		if _, err := podman.Try("rmi", "-f", imgName); err != nil {
			t.Log(err)
		}
	})

	sock := filepath.Join(dir, "podman.sock")
	svc := podman.Cmd("system", "service", "--time=0", "unix://"+sock)
	var svcOut bytes.Buffer
	svc.Stdout, svc.Stderr = &svcOut, &svcOut
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Wait() }()
	t.Cleanup(func() {
		svc.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			svc.Process.Kill()
			<-done
		}
	})

	o := &Options{PodmanHost: "unix://" + sock, TempDir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Wait for the service to answer.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := engineHas(ctx, Podman, imgName, o)
		if err == nil {
			if !ok {
				t.Fatalf("the podman service does not list %s", imgName)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("podman system service exited: %v\n%s", err, svcOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the podman service did not answer in 30s: %v\n%s", err, svcOut.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	img, err := Open(ctx, Target{Scheme: Podman, Value: imgName}, *o)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if len(img.Layers) != 1 {
		t.Errorf("%d layers, want 1 (podman import makes one)", len(img.Layers))
	}
	if img.Ref != "podman:"+imgName {
		t.Errorf("Ref = %q", img.Ref)
	}
	res, err := Walk(ctx, img, PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for n, body := range files {
		fi, ok := res.Tree.Lookup("/" + n)
		if !ok {
			t.Errorf("/%s is not in the image", n)
			continue
		}
		if fi.Kind != KindFile || fi.Size != int64(len(body)) {
			t.Errorf("/%s: kind %v size %d, want a file of %d bytes", n, fi.Kind, fi.Size, len(body))
		}
	}
	if _, ok := res.Tree.Lookup("/etc/not-there"); ok {
		t.Error("Lookup finds a file the tar did not hold")
	}

	// A bare name resolves to podman through the same socket.
	t.Setenv("CONTAINER_HOST", "unix://"+sock)
	bare, err := Open(ctx, Target{Scheme: Engine, Value: imgName}, Options{TempDir: dir, DockerHost: "unix://" + filepath.Join(dir, "no-docker.sock")})
	if err != nil {
		t.Fatal(err)
	}
	if bare.Scheme != Podman || bare.Ref != "podman:"+imgName {
		t.Errorf("bare name opened as %s (%s), want podman", bare.Scheme, bare.Ref)
	}
	bare.Close()
	if f := spooled(t, dir); len(f) != 1 { // img is still open
		t.Errorf("spooled files %q, want only the open image's", f)
	}
}
