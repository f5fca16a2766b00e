// Command build measures `redline build` against its floors:
//
//   - size: the compressed layers of the image against `gzip -9` of the
//     hardened binary (target: at most +150 KB);
//   - time: `redline build` against `go build` of the same package with
//     the same flags, warm caches (target: at most +1 s), with the source
//     unchanged and changed before each build (the edit loop; there also
//     with --default-size=false and --gzip-level 9);
//
// and, for the slimming ratio, builds a naive image (a `debootstrap
// --variant=minbase` Debian root plus the binary go build makes with its
// default flags) and compares with `redline analyze --compare`.
//
//	go run ./bench/build                      # examples/hello, 5 runs
//	go run ./bench/build -pkg ./cmd/redline   # any main package
//
// Work files go to bench/work/build (git-ignored). The Debian root is the
// one .ci/run caches ($REDLINE_DEBIAN_ROOT, /var/cache/redline-e2e/
// debian-minbase) or one made under bench/work with debootstrap. Tables go
// to stdout and OUT/results.md.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var (
	pkgFlag  = flag.String("pkg", "./examples/hello", "main package directory to build")
	outFlag  = flag.String("out", "bench/work/build", "work directory")
	runsFlag = flag.Int("runs", 5, "timed runs of each command (median)")
	rootFlag = flag.String("root", "", "Debian root filesystem for the naive image (default: the cached one, or debootstrap)")
	naive    = flag.Bool("naive", true, "build the naive Debian image and compare")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal("bench/build: ", err)
	}
}

// hardenedFlags are the flags redline build passes to go build.
var hardenedFlags = []string{"-trimpath", "-buildvcs=auto", "-tags=netgo,osusergo", "-ldflags=-s -w -buildid="}

func run() error {
	out, err := filepath.Abs(*outFlag)
	if err != nil {
		return err
	}
	pkg, err := filepath.Abs(*pkgFlag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	redline := filepath.Join(out, "redline")
	log.Printf("building redline into %s", redline)
	if err := runCmd("", nil, "go", "build", "-o", redline, "./cmd/redline"); err != nil {
		return err
	}
	hardBin, defBin := filepath.Join(out, "hardened"), filepath.Join(out, "default")
	goHardened := func() error {
		return runCmd(pkg, []string{"CGO_ENABLED=0"}, "go", append(append([]string{"build", "-o", hardBin}, hardenedFlags...), ".")...)
	}
	goDefault := func() error { return runCmd(pkg, nil, "go", "build", "-o", defBin, ".") }
	img := filepath.Join(out, "image")
	report := filepath.Join(out, "build.json")
	redlineBuild := func() error {
		return runCmd(pkg, nil, redline, "build", "-q", "-o", "json="+report, "--to", "oci-dir:"+img, ".")
	}
	// Warm every cache once: the go build cache for both flag sets, and
	// redline's cached default-flags binary.
	for _, f := range []func() error{goHardened, goDefault, redlineBuild} {
		if err := f(); err != nil {
			return err
		}
	}
	loadBefore := loadavg()
	times := map[string]time.Duration{}
	cpu := map[string][]time.Duration{}
	// Unchanged source: go build relinks (-buildid= disables its
	// up-to-date check), redline finds the compressed layers in its cache.
	// Interleaved, so load on the machine hits both alike.
	order := []string{"go build (hardened flags)", "redline build", "go build (default flags)"}
	fs := map[string]func() error{order[0]: goHardened, order[1]: redlineBuild, order[2]: goDefault}
	all := map[string][]time.Duration{}
	for range max(*runsFlag, 1) {
		for _, n := range order {
			start := time.Now()
			if err := fs[n](); err != nil {
				return err
			}
			all[n] = append(all[n], time.Since(start))
			cpu[n] = append(cpu[n], lastCPU)
		}
	}
	// Changed source (the edit-build loop): a copy of the package inside
	// this module gets one more line before each build, which moves every
	// line number in the binary, so both commands compile and link anew and
	// redline compresses anew.
	copyDir := filepath.Join(out, "src")
	if err := copyPackage(pkg, copyDir); err != nil {
		return err
	}
	defer os.RemoveAll(copyDir) // its edited files are not gofmt-clean
	edit := func() error {
		for _, f := range mustGlob(filepath.Join(copyDir, "*.go")) {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if err := os.WriteFile(f, append([]byte("\n"), b...), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	changed := map[string]func() error{
		"go build (hardened flags), source changed": func() error {
			return runCmd(copyDir, []string{"CGO_ENABLED=0"}, "go", append(append([]string{"build", "-o", filepath.Join(out, "hardened-src")}, hardenedFlags...), ".")...)
		},
		"redline build, source changed": func() error {
			return runCmd(copyDir, nil, redline, "build", "-q", "-o", "json=/dev/null", "--to", "oci-dir:"+filepath.Join(out, "image-src"), ".")
		},
		"redline build --default-size=false, source changed": func() error {
			return runCmd(copyDir, nil, redline, "build", "-q", "--default-size=false", "-o", "json=/dev/null", "--to", "oci-dir:"+filepath.Join(out, "image-src"), ".")
		},
		"redline build --gzip-level 9, source changed": func() error {
			return runCmd(copyDir, nil, redline, "build", "-q", "--gzip-level", "9", "-o", "json=/dev/null", "--to", "oci-dir:"+filepath.Join(out, "image-src"), ".")
		},
	}
	changedOrder := []string{"go build (hardened flags), source changed", "redline build, source changed", "redline build --default-size=false, source changed", "redline build --gzip-level 9, source changed"}
	for _, n := range changedOrder {
		if err := changed[n](); err != nil { // warm the compile cache of the copy's dependencies
			return err
		}
	}
	for range max(*runsFlag, 1) {
		for _, n := range changedOrder {
			if err := edit(); err != nil {
				return err
			}
			start := time.Now()
			if err := changed[n](); err != nil {
				return err
			}
			all[n] = append(all[n], time.Since(start))
			cpu[n] = append(cpu[n], lastCPU)
		}
	}
	cpuMedian := map[string]time.Duration{}
	for n, ds := range all {
		times[n] = medianOf(ds)
		cpuMedian[n] = medianOf(cpu[n])
	}

	var res struct {
		Digest    string `json:"digest"`
		Platforms []struct {
			CompressedBytes int64 `json:"compressedBytes"`
			Binary          struct {
				Bytes, DefaultFlagsBytes int64
			} `json:"binary"`
			Layers []struct {
				CompressedBytes int64  `json:"compressedBytes"`
				Source          string `json:"source"`
			} `json:"layers"`
		} `json:"platforms"`
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	p := res.Platforms[0]
	// The same image at gzip level 9, for what the default level costs.
	report9 := filepath.Join(out, "build-gzip9.json")
	if err := runCmd(pkg, nil, redline, "build", "-q", "--default-size=false", "--gzip-level", "9", "-o", "json="+report9, "--to", "oci-dir:"+filepath.Join(out, "image-gzip9"), "."); err != nil {
		return err
	}
	raw9, err := os.ReadFile(report9)
	if err != nil {
		return err
	}
	res9 := res
	res9.Platforms = nil
	if err := json.Unmarshal(raw9, &res9); err != nil {
		return err
	}
	hardSize, defSize := fileSize(hardBin), fileSize(defBin)
	if p.Binary.Bytes != hardSize {
		return fmt.Errorf("redline's binary is %d bytes, go build's with the same flags %d: the flags differ", p.Binary.Bytes, hardSize)
	}
	gz9, err := gzipSize(hardBin, "-9")
	if err != nil {
		return err
	}
	gz6, err := gzipSize(hardBin, "-6")
	if err != nil {
		return err
	}

	var b strings.Builder
	fmt.Fprintf(&b, "## build: %s (%s/%s, %s)\n\n", *pkgFlag, runtime.GOOS, runtime.GOARCH, goVersion())
	fmt.Fprintf(&b, "### Size\n\n| | bytes | |\n|---|---:|---|\n")
	fmt.Fprintf(&b, "| binary, go build default flags | %d | %s |\n", defSize, human(defSize))
	fmt.Fprintf(&b, "| binary, hardened (redline's flags) | %d | %s (%.1f%% smaller) |\n", hardSize, human(hardSize), 100*float64(defSize-hardSize)/float64(defSize))
	fmt.Fprintf(&b, "| `gzip -6` of the hardened binary | %d | %s |\n", gz6, human(gz6))
	fmt.Fprintf(&b, "| `gzip -9` of the hardened binary (the floor) | %d | %s |\n", gz9, human(gz9))
	for i, l := range p.Layers {
		fmt.Fprintf(&b, "| layer %d: %s | %d | %s |\n", i, strings.SplitN(l.Source, ":", 2)[0], l.CompressedBytes, human(l.CompressedBytes))
	}
	over := p.CompressedBytes - gz9
	verdict := "met"
	if over > 150_000 {
		verdict = "NOT met"
	}
	fmt.Fprintf(&b, "| **image layers, compressed** | **%d** | **%s: floor + %d bytes (target ≤ +150 KB: %s)** |\n", p.CompressedBytes, human(p.CompressedBytes), over, verdict)
	if len(res9.Platforms) > 0 {
		p9 := res9.Platforms[0]
		fmt.Fprintf(&b, "| image layers at `--gzip-level 9` | %d | %s: floor + %d bytes (%d bytes smaller than the default level) |\n", p9.CompressedBytes, human(p9.CompressedBytes), p9.CompressedBytes-gz9, p.CompressedBytes-p9.CompressedBytes)
	}
	fmt.Fprintln(&b)

	fmt.Fprintf(&b, "### Time (warm caches, median of %d, interleaved)\n\n| command | wall | CPU (user+sys) |\n|---|---:|---:|\n", *runsFlag)
	var names []string
	for n := range times {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "| %s | %.2f s | %.2f s |\n", n, times[n].Seconds(), cpuMedian[n].Seconds())
	}
	for _, c := range []struct{ what, redline, gobuild string }{
		{"unchanged source", "redline build", "go build (hardened flags)"},
		{"source changed", "redline build, source changed", "go build (hardened flags), source changed"},
		{"source changed, --default-size=false", "redline build --default-size=false, source changed", "go build (hardened flags), source changed"},
		{"source changed, --gzip-level 9", "redline build --gzip-level 9, source changed", "go build (hardened flags), source changed"},
	} {
		extra := times[c.redline] - times[c.gobuild]
		verdict = "met"
		if extra > time.Second {
			verdict = "NOT met"
		}
		fmt.Fprintf(&b, "\n%s: redline build = go build (hardened) + %.2f s wall (target ≤ +1 s: %s), + %.2f s CPU.\n", c.what, extra.Seconds(), verdict, (cpuMedian[c.redline] - cpuMedian[c.gobuild]).Seconds())
	}
	fmt.Fprintf(&b, "\nload average (1, 5, 15 min) before: %s, after: %s\n", loadBefore, loadavg())

	if *naive {
		naiveTar := filepath.Join(out, "naive.tar")
		root, err := debianRoot(out)
		if err != nil {
			return err
		}
		if err := naiveImage(root, defBin, naiveTar); err != nil {
			return err
		}
		cmp := filepath.Join(out, "compare.json")
		if err := runCmd("", nil, redline, "analyze", "-q", "-o", "json="+cmp, "--compare", "docker-archive:"+naiveTar, "oci-dir:"+img); err != nil {
			return err
		}
		var c struct {
			Baseline, Image struct {
				Summary struct {
					CompressedBytes, UncompressedBytes int64
					Files                              int
				} `json:"summary"`
			}
			Reduction struct {
				CompressedPercent, UncompressedPercent float64
			} `json:"reduction"`
		}
		raw, err := os.ReadFile(cmp)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n### Slimming (`redline analyze --compare`)\n\n| image | compressed | uncompressed | files |\n|---|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| naive: Debian bookworm minbase + default-flags binary | %s | %s | %d |\n", human(c.Baseline.Summary.CompressedBytes), human(c.Baseline.Summary.UncompressedBytes), c.Baseline.Summary.Files)
		fmt.Fprintf(&b, "| redline build | %s | %s | %d |\n", human(c.Image.Summary.CompressedBytes), human(c.Image.Summary.UncompressedBytes), c.Image.Summary.Files)
		fmt.Fprintf(&b, "\nThe built image is **%.1f%% smaller** compressed (%.1f%% uncompressed) — %.1f× smaller.\n",
			c.Reduction.CompressedPercent, c.Reduction.UncompressedPercent, float64(c.Baseline.Summary.CompressedBytes)/float64(c.Image.Summary.CompressedBytes))
	}
	fmt.Print(b.String())
	return os.WriteFile(filepath.Join(out, "results.md"), []byte(b.String()), 0o644)
}

func medianOf(ds []time.Duration) time.Duration {
	ds = append([]time.Duration(nil), ds...)
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func mustGlob(p string) []string {
	m, _ := filepath.Glob(p)
	return m
}

// copyPackage copies the Go files of a package directory.
func copyPackage(src, dst string) error {
	os.RemoveAll(dst)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range mustGlob(filepath.Join(src, "*.go")) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// lastCPU is the user+system time of the last command and everything it
// waited for (wait4's rusage counts the descendants it reaped).
var lastCPU time.Duration

func runCmd(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if cmd.ProcessState != nil {
		lastCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func gzipSize(file, level string) (int64, error) {
	out, err := exec.Command("gzip", level, "-c", file).Output()
	if err != nil {
		return 0, fmt.Errorf("gzip %s: %w", level, err)
	}
	return int64(len(out)), nil
}

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "go?"
	}
	return strings.TrimSpace(string(out))
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// debianRoot returns a debootstrap --variant=minbase root: the one given,
// the one .ci/run caches, or one made here.
func debianRoot(out string) (string, error) {
	for _, r := range []string{*rootFlag, os.Getenv("REDLINE_DEBIAN_ROOT"), "/var/cache/redline-e2e/debian-minbase", filepath.Join(filepath.Dir(out), "debian-minbase")} {
		if r == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(r, "var/lib/dpkg/status")); err == nil {
			return r, nil
		}
	}
	if *rootFlag != "" {
		return "", fmt.Errorf("-root %s: not a Debian root (no var/lib/dpkg/status)", *rootFlag)
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", errors.New("debootstrap is not installed: apt-get install -y debootstrap (or pass -naive=false)")
	}
	root := filepath.Join(filepath.Dir(out), "debian-minbase")
	os.RemoveAll(root)
	log.Printf("debootstrap --variant=minbase bookworm %s (a minute or two)", root)
	if err := runCmd("", nil, "debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian"); err != nil {
		os.RemoveAll(root)
		return "", err
	}
	return root, nil
}

// naiveImage writes a docker archive of what `FROM debian` plus `COPY app`
// gives: the root filesystem as one layer, the default-flags binary as
// another, gzip at go-containerregistry's default level (as docker does).
func naiveImage(root, bin, archive string) error {
	rootTar := archive + ".root.tar"
	if err := tarDir(root, rootTar); err != nil {
		return err
	}
	defer os.Remove(rootTar)
	binTar := archive + ".app.tar"
	if err := tarFile(bin, "app", binTar); err != nil {
		return err
	}
	defer os.Remove(binTar)
	var layers []v1.Layer
	for _, p := range []string{rootTar, binTar} {
		l, err := tarball.LayerFromFile(p)
		if err != nil {
			return err
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Entrypoint = []string{"/app"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	tag, err := name.NewTag("bench/naive:latest")
	if err != nil {
		return err
	}
	return tarball.WriteToFile(archive, tag, img)
}

func tarDir(root, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
			return nil // a runtime provides /dev
		}
		// What the debian images on registries leave out too: the .debs
		// debootstrap downloaded and the apt lists.
		if strings.HasPrefix(rel, "var/cache/apt/archives/") && strings.HasSuffix(rel, ".deb") || strings.HasPrefix(rel, "var/lib/apt/lists/") && fi.Mode().IsRegular() {
			return nil
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func tarFile(file, name, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	src, err := os.Open(file)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, src); err != nil {
		return err
	}
	return tw.Close()
}
