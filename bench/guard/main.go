// Command guard measures what package guard costs examples/hello: the stripped binary
// with and without the import, and guard.Check's time and allocations on the recorded
// podman fixture, on this process, and (with -podman) live inside a hardened container.
//
//	go run ./bench/guard [-count 5] [-podman]
//
// The build without guard uses `go build -overlay` to replace examples/hello/guard.go
// by a stub with the same function and no import, so both builds share the module, the
// flags and everything else. Both use redline build's hardened flags: CGO_ENABLED=0,
// -trimpath, -ldflags "-s -w -buildid=", -tags netgo,osusergo. Results go to stdout as
// markdown.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

var (
	countFlag  = flag.Int("count", 5, "runs of each Go benchmark")
	podmanFlag = flag.Bool("podman", false, "also run the live benchmark inside podman as uid 65532 with one capability, no_new_privs, --read-only and --memory 256m")
)

// stub replaces examples/hello/guard.go: the same service without guard.
const stub = `package main

import (
	"context"
	"log/slog"
	"net/http"
)

func startupCheck(context.Context, *slog.Logger) http.Handler { return http.NotFoundHandler() }
`

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/guard:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "bench-guard-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// Sizes.
	stubFile := filepath.Join(work, "guard_stub.go")
	if err := os.WriteFile(stubFile, []byte(stub), 0o644); err != nil {
		return err
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(root, "examples/hello/guard.go"): stubFile,
	}})
	overlayFile := filepath.Join(work, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return err
	}
	hardened := []string{"-trimpath", "-ldflags=-s -w -buildid=", "-tags=netgo,osusergo"}
	type build struct {
		name  string
		flags []string
	}
	builds := []build{
		{"hello (hardened, stripped)", hardened},
		{"hello without guard (hardened, stripped)", append([]string{"-overlay=" + overlayFile}, hardened...)},
		{"hello (default flags)", nil},
		{"hello without guard (default flags)", []string{"-overlay=" + overlayFile}},
	}
	sizes := make([]int64, len(builds))
	for i, b := range builds {
		out := filepath.Join(work, fmt.Sprintf("hello-%d", i))
		args := append(append([]string{"build", "-o", out}, b.flags...), "./examples/hello")
		if err := goCmd(root, []string{"CGO_ENABLED=0"}, args...); err != nil {
			return err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return err
		}
		sizes[i] = fi.Size()
	}
	fmt.Printf("## Binary size (%s %s/%s)\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Println("| build | bytes | KiB |")
	fmt.Println("|---|---:|---:|")
	for i, b := range builds {
		fmt.Printf("| %s | %d | %.1f |\n", b.name, sizes[i], float64(sizes[i])/1024)
	}
	fmt.Printf("| **guard adds (hardened, stripped)** | **%d** | **%.1f** |\n", sizes[0]-sizes[1], float64(sizes[0]-sizes[1])/1024)
	fmt.Printf("| guard adds (default flags) | %d | %.1f |\n\n", sizes[2]-sizes[3], float64(sizes[2]-sizes[3])/1024)

	// Go benchmarks on this machine.
	fmt.Println("## BenchmarkCheck (this machine)")
	fmt.Println()
	fmt.Println("```")
	out, err := goOutput(root, nil, "test", "-run", "^$", "-bench", "Check", "-benchmem", "-count", fmt.Sprint(*countFlag), "./guard")
	fmt.Print(out)
	fmt.Println("```")
	if err != nil {
		return err
	}
	if !*podmanFlag {
		return nil
	}

	// Live, inside the container the e2e test uses.
	testBin := filepath.Join(work, "guard.test")
	if err := goCmd(root, []string{"CGO_ENABLED=0"}, "test", "-c", "-o", testBin, "./guard"); err != nil {
		return err
	}
	rootfs := filepath.Join(work, "rootfs.tar")
	if err := writeRootfs(rootfs, testBin); err != nil {
		return err
	}
	conf := filepath.Join(work, "containers.conf")
	os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644)
	const image = "localhost/redline-bench-guard:latest"
	pod := func(args ...string) (string, error) {
		cmd := exec.Command("podman", append([]string{"--runtime", "/usr/sbin/runc", "--cgroup-manager=cgroupfs"}, args...)...)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return string(b), fmt.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b), nil
	}
	if _, err := pod("import", "--change", `ENTRYPOINT ["/guard.test"]`, rootfs, image); err != nil {
		return err
	}
	defer pod("rmi", "-f", image)
	flags := []string{"run", "--rm", "--user", "65532", "--cap-drop=ALL", "--cap-add=NET_BIND_SERVICE",
		"--security-opt", "no-new-privileges", "--read-only", "--memory", "256m", image, "-test.run=^$", "-test.benchmem"}
	fmt.Println()
	fmt.Println("## BenchmarkCheck/live inside podman (uid 65532, NET_BIND_SERVICE, no_new_privs, --read-only, --memory 256m)")
	fmt.Println()
	fmt.Println("```")
	res, err := pod(append(flags, "-test.bench=Check/live", fmt.Sprintf("-test.count=%d", *countFlag))...)
	fmt.Print(res)
	fmt.Println("```")
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("First call in a fresh process (pool empty, build info not read yet), 5 containers:")
	fmt.Println()
	fmt.Println("```")
	for range 5 {
		res, err := pod(append(flags, "-test.bench=Check/live", "-test.benchtime=1x")...)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(res, "\n") {
			if strings.HasPrefix(l, "BenchmarkCheck") {
				fmt.Println(l)
			}
		}
	}
	fmt.Println("```")
	return nil
}

func writeRootfs(path, testBin string) error {
	body, err := os.ReadFile(testBin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: "guard.test", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Size > 0 {
			tw.Write(body)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run it inside the redline module")
	}
	return filepath.Dir(gomod), nil
}

func goCmd(dir string, env []string, args ...string) error {
	out, err := goOutput(dir, env, args...)
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func goOutput(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
