// Command sbom measures `redline sbom` against syft (the reference) and
// trivy's SBOM mode on the same docker-archives, and compares what they
// find: Go modules (per binary) and Debian packages.
//
//	go run ./bench/sbom [-out bench/work/sbom] [-runs 3] [-doc docs/benchmarks.md]
//
// It installs syft and trivy at pinned versions into OUT/tools (go install
// through the module proxy; a tool that cannot be built is skipped with a
// message), builds a few large Go programs at pinned versions into OUT/bin,
// and writes two docker-archives (manifest.json, config, gzip layer blobs):
//
//	debian    a `debootstrap --variant=minbase bookworm` root (one layer)
//	          and the Go binaries under /usr/local/bin (a second layer)
//	scratch   FROM scratch with one Go binary, /crane
//
// Each tool runs once per image untimed (its output is what is compared),
// then -runs times, interleaved; the median wall time and peak RSS are
// reported, measured through a re-exec of this program (-child) as in
// bench/analyze. The markdown goes to stdout, OUT/results.md and, between
// markers in the "## sbom" section, to -doc.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redline-go/redline/bench/internal/harness"
	"github.com/redline-go/redline/bench/internal/measure"
)

const (
	syftModule  = "github.com/anchore/syft/cmd/syft"
	syftVersion = "v1.57.1"
	trivyModule = "github.com/aquasecurity/trivy/cmd/trivy"
	trivyVer    = "v0.74.0"
	// trivyToolchain is tried when the local Go is too old for trivy.
	trivyToolchain = "go1.27.3"
)

// goPrograms are the large real Go programs put in the Debian image, at
// pinned versions from the module proxy; syft and redline are added too.
var goPrograms = []struct{ name, pkg, version string }{
	{"gopls", "golang.org/x/tools/gopls", "v0.21.0"},
	{"crane", "github.com/google/go-containerregistry/cmd/crane", "v0.22.1"},
}

var (
	outFlag     = flag.String("out", "bench/work/sbom", "work directory: tools, binaries, images, outputs, results.md")
	runsFlag    = flag.Int("runs", 3, "measured runs of each tool on each image; the median is reported")
	syftFlag    = flag.String("syft", "auto", `syft binary: "auto" (install `+syftVersion+` into OUT/tools), a path, or "off"`)
	trivyFlag   = flag.String("trivy", "auto", `trivy binary: "auto" (install `+trivyVer+` into OUT/tools), a path, or "off"`)
	installTime = flag.Duration("install-timeout", 20*time.Minute, "time allowed for each go install of a tool")
	rootFlag    = flag.String("root", "", "Debian minbase root (default /var/cache/redline-e2e/debian-minbase, else OUT/debian-minbase, made with debootstrap when missing; \"debootstrap\" makes a fresh one)")
	docFlag     = flag.String("doc", "docs/benchmarks.md", `markdown file whose "## sbom" section gets the results ("" to skip); relative to the module root`)
	reuseFlag   = flag.Bool("reuse", false, "reuse the images of a previous run instead of rebuilding them")
)

func main() { harness.Main("sbom", run) }

var logf = harness.Logf

// tool is one SBOM generator under test.
type tool struct {
	name, bin, version string
	args               func(archive string) []string
	env                []string
	// perRun makes per-run state (trivy's cache directory) and cleans it.
	perRun func() (args []string, cleanup func())
}

func run() error {
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	out := *outFlag
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	for _, d := range []string{"tools", "bin", "outputs"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	if m, err := measure.Run("", "true", nil, nil); err == nil {
		logf("peak RSS of `true` under the measuring wrapper: %d KiB (the floor of every RSS below)", m.RSSKiB)
	}
	var notes []string // what failed or was skipped, for the report
	note := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		logf("NOTE: %s", s)
		notes = append(notes, s)
	}

	// ---- tools ----
	syft, err := installTool(out, "syft", *syftFlag, syftModule, syftVersion, nil, "")
	if err != nil {
		note("syft not available: %v", firstLine(err))
	}
	trivy, err := installTool(out, "trivy", *trivyFlag, trivyModule, trivyVer, []string{"GOEXPERIMENT=jsonv2"}, trivyToolchain)
	if err != nil {
		note("trivy not available: %v", firstLine(err))
	}

	// ---- binaries ----
	bins := filepath.Join(out, "bin")
	redline := filepath.Join(bins, "redline")
	logf("go build -buildvcs=false -o %s ./cmd/redline", redline)
	if err := harness.RunLog(root, nil, "go", "build", "-buildvcs=false", "-o", redline, "./cmd/redline"); err != nil {
		return err
	}
	imageBins := map[string]string{"/usr/local/bin/redline": redline}
	for _, p := range goPrograms {
		dst := filepath.Join(bins, p.name)
		logf("GOBIN=%s go install %s@%s", bins, p.pkg, p.version)
		if err := harness.RunLog("", []string{"GOFLAGS=", "GOBIN=" + bins}, "go", "install", p.pkg+"@"+p.version); err != nil {
			note("%s@%s did not build, left out of the image: %v", p.pkg, p.version, firstLine(err))
			continue
		}
		imageBins["/usr/local/bin/"+p.name] = dst
	}
	if syft != "" {
		dst := filepath.Join(bins, "syft")
		if err := copyPath(syft, dst); err != nil {
			return err
		}
		imageBins["/usr/local/bin/syft"] = dst
	}

	// ---- images ----
	debRoot, err := debianRoot(out)
	if err != nil {
		return err
	}
	blobs := filepath.Join(out, "blobs")
	var binPaths []string
	for p := range imageBins {
		binPaths = append(binPaths, p)
	}
	sortStrings(binPaths)
	var imgs []*builtImage
	mk := func(name string, srcs []layerSrc, binaries []string) error {
		archive := filepath.Join(out, name+".docker.tar")
		if *reuseFlag {
			if b := loadImage(name, archive); b != nil {
				logf("%s: reusing %s", name, archive)
				imgs = append(imgs, b)
				return nil
			}
		}
		b, err := writeImage(blobs, name, archive, srcs, binaries)
		if err != nil {
			return err
		}
		imgs = append(imgs, b)
		return nil
	}
	if err := mk("debian", []layerSrc{
		{createdBy: "debootstrap --variant=minbase bookworm (" + debRoot + ")", rootDir: debRoot},
		{createdBy: "COPY Go binaries to /usr/local/bin/", files: imageBins},
	}, binPaths); err != nil {
		return err
	}
	scratchBin := "crane"
	if _, ok := imageBins["/usr/local/bin/crane"]; !ok {
		scratchBin = "redline"
	}
	if err := mk("scratch", []layerSrc{
		{createdBy: "COPY " + scratchBin + " /" + scratchBin, files: map[string]string{"/" + scratchBin: imageBins["/usr/local/bin/"+scratchBin]}},
	}, []string{"/" + scratchBin}); err != nil {
		return err
	}

	// ---- tools under test ----
	var tools []*tool
	if syft != "" {
		tools = append(tools, &tool{
			name: "syft", bin: syft, version: moduleVersion(syft),
			args: func(a string) []string { return []string{"scan", "-q", "-o", "json", "docker-archive:" + a} },
			env:  []string{"SYFT_CHECK_FOR_APP_UPDATE=false"},
		})
	}
	if trivy != "" {
		t, err := trivyTool(trivy, out)
		if err != nil {
			note("trivy: %v", firstLine(err))
		} else {
			tools = append(tools, t)
		}
	}
	tools = append(tools, &tool{
		name: "redline", bin: redline, version: redlineVersion(root),
		args: func(a string) []string { return []string{"sbom", "-q", "-o", "json", "docker-archive:" + a} },
	})

	// ---- one untimed run each: the outputs compared; warms the page cache ----
	founds := map[string]*found{} // tool|image
	outFile := func(t *tool, b *builtImage) string {
		return filepath.Join(out, "outputs", t.name+"-"+b.name+".json")
	}
	for _, b := range imgs {
		for _, t := range tools {
			logf("%s on %s (untimed, output kept in %s)", t.name, b.name, outFile(t, b))
			if _, err := runTool(t, b, outFile(t, b)); err != nil {
				note("%s failed on %s: %v", t.name, b.name, firstLine(err))
				logf("%v", err)
				continue
			}
			var f *found
			switch t.name {
			case "syft":
				f, err = parseSyft(outFile(t, b))
			case "trivy":
				f, err = parseTrivy(outFile(t, b))
			default:
				f, err = parseRedline(outFile(t, b))
			}
			if err != nil {
				return err
			}
			founds[t.name+"|"+b.name] = f
		}
	}

	// ---- measured runs ----
	samples := map[string]measure.Samples{}
	loadBefore := loadAvg()
	for i := 1; i <= *runsFlag; i++ {
		for _, b := range imgs {
			for _, t := range tools {
				if founds[t.name+"|"+b.name] == nil {
					continue
				}
				s, err := runTool(t, b, "")
				if err != nil {
					return err
				}
				logf("run %d/%d: %s on %s: %.2fs, %.1f MiB", i, *runsFlag, t.name, b.name, s.Wall.Seconds(), float64(s.RSSKiB)/1024)
				samples[t.name+"|"+b.name] = append(samples[t.name+"|"+b.name], s)
			}
			if s, ok := gzipFloor(b); ok {
				logf("run %d/%d: gzip -dc floor of %s: %.2fs", i, *runsFlag, b.name, s.Wall.Seconds())
				samples["gzip|"+b.name] = append(samples["gzip|"+b.name], s)
			}
		}
	}

	// ---- report ----
	loadAfter := loadAvg()
	rep := &report{loadBefore: loadBefore, loadAfter: loadAfter, root: root, out: out, imgs: imgs, tools: tools, founds: founds, samples: samples, notes: notes, debRoot: debRoot, imageBins: imageBins}
	var md bytes.Buffer
	rep.write(&md)
	fmt.Print(md.String())
	if err := os.WriteFile(filepath.Join(out, "results.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	if err := rep.writeDiffFiles(); err != nil {
		return err
	}
	if *docFlag != "" {
		doc := *docFlag
		if !filepath.IsAbs(doc) {
			doc = filepath.Join(root, doc)
		}
		if err := updateDoc(doc, md.String()); err != nil {
			return err
		}
		logf("results written to the \"## sbom\" section of %s", doc)
	}
	logf("results in %s", filepath.Join(out, "results.md"))
	return nil
}

// runTool runs t on b once, stdout to stdoutPath ("" discards it).
func runTool(t *tool, b *builtImage, stdoutPath string) (measure.Sample, error) {
	args := t.args(b.archive)
	if t.perRun != nil {
		extra, cleanup := t.perRun()
		defer cleanup()
		args = append(args, extra...)
	}
	return measure.Run(stdoutPath, t.bin, args, t.env)
}

// trivyTool works out trivy's flags for an SBOM with no database: its
// help decides which of the optional flags exist in this version.
func trivyTool(bin, out string) (*tool, error) {
	help, err := exec.Command(bin, "image", "--help").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("trivy image --help: %w\n%s", err, help)
	}
	h := string(help)
	fixed := []string{"--format", "cyclonedx", "--quiet"}
	// No --scanners: with --format cyclonedx and no --scanners flag trivy
	// turns every security scanner off (vulnerabilities, secrets) and keeps
	// only the SBOM one, so it needs no database (pkg/flag/options.go).
	for _, f := range []string{"--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-version-check", "--disable-telemetry"} {
		if strings.Contains(h, f+" ") || strings.Contains(h, f+"\n") {
			fixed = append(fixed, f)
		}
	}
	t := &tool{
		name: "trivy", bin: bin, version: moduleVersion(bin),
		args: func(a string) []string {
			return append([]string{"image", "--input", a}, fixed...)
		},
		env: []string{"TRIVY_NO_PROGRESS=true"},
	}
	// trivy caches each layer's analysis by diff ID: a fresh cache per run
	// (or the memory backend) so every run does the work.
	cacheRoot := filepath.Join(out, "trivy-cache")
	t.perRun = func() ([]string, func()) {
		dir, err := os.MkdirTemp(os.TempDir(), "trivy-cache-")
		if err != nil {
			dir = cacheRoot
		}
		args := []string{"--cache-dir", dir}
		if strings.Contains(h, "--cache-backend") {
			args = append(args, "--cache-backend", "memory")
		}
		return args, func() { os.RemoveAll(dir) }
	}
	return t, nil
}

// installTool returns the binary of a tool: a path given by flag, or,
// for "auto", OUT/tools/NAME when it is the pinned version, else a fresh
// `go install MODULE@VERSION` into OUT/tools. With toolchain set, a build
// the local Go is too old for is retried once with GOTOOLCHAIN=toolchain.
func installTool(out, name, flagVal, module, version string, env []string, toolchain string) (string, error) {
	switch flagVal {
	case "off", "":
		return "", errors.New("-" + name + " off")
	case "auto":
	default:
		if !harness.IsExec(flagVal) {
			return "", fmt.Errorf("-%s %s: not an executable", name, flagVal)
		}
		return flagVal, nil
	}
	dir := filepath.Join(out, "tools")
	bin := filepath.Join(dir, name)
	if harness.IsExec(bin) && moduleVersion(bin) == version {
		logf("%s: %s (%s, installed before)", name, bin, version)
		return bin, nil
	}
	env = append([]string{"GOFLAGS=", "GOBIN=" + dir}, env...)
	try := func(env []string) (string, error) {
		logf("%s go install %s@%s (may take minutes)", strings.Join(env, " "), module, version)
		ctx, cancel := context.WithTimeout(context.Background(), *installTime)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install", module+"@"+version)
		cmd.Env = append(os.Environ(), env...)
		var t measure.Tail
		cmd.Stdout, cmd.Stderr = &t, io.MultiWriter(&t, prefixWriter(name))
		start := time.Now()
		err := cmd.Run()
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", *installTime)
		}
		if err != nil {
			return t.String(), fmt.Errorf("go install %s@%s: %w\n%s", module, version, err, t.String())
		}
		logf("%s installed in %.0fs", name, time.Since(start).Seconds())
		return "", nil
	}
	msg, err := try(append(env, "GOTOOLCHAIN=local"))
	if err != nil && toolchain != "" && (strings.Contains(msg, "requires go >=") || strings.Contains(msg, "GOTOOLCHAIN") || strings.Contains(msg, "toolchain")) {
		logf("%s: the local Go is too old; once more with GOTOOLCHAIN=%s", name, toolchain)
		_, err = try(append(env, "GOTOOLCHAIN="+toolchain))
	}
	if err != nil {
		return "", err
	}
	return bin, nil
}

// prefixWriter passes go install's progress to stderr, one line at a time
// with the tool's name.
type prefixWriter string

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "go: downloading") {
			continue // hundreds of them
		}
		fmt.Fprintf(os.Stderr, "    %s: %s\n", string(p), l)
	}
	return len(b), nil
}

// moduleVersion is the main module version in a Go binary's build info.
func moduleVersion(bin string) string {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "mod" {
			return f[2]
		}
	}
	return ""
}

func redlineVersion(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "(devel)"
	}
	v := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		v += " + uncommitted changes"
	}
	return v
}

func lookPath(name string) (string, error) { return exec.LookPath(name) }

func copyPath(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	o, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute averages: the machine is
// shared, and other work running during the measurement shows here.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// gzipFloor runs `gzip -dc BLOB > /dev/null` for each layer blob in turn
// and sums the times: decompressing the layers is work every tool must do,
// and none can go below it without decompressing layers in parallel.
// A floor that fails is left out of the report (logged).
func gzipFloor(b *builtImage) (measure.Sample, bool) {
	if _, err := exec.LookPath("gzip"); err != nil || len(b.layers) == 0 {
		return measure.Sample{}, false
	}
	var files []string
	for _, l := range b.layers {
		files = append(files, l.file)
	}
	s, err := measure.GzipFloor(files)
	if err != nil {
		logf("gzip floor: %v", firstLine(err))
		return measure.Sample{}, false
	}
	return s, true
}
