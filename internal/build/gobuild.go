package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ExecGo is the default [GoFunc]: it runs the go command found on PATH.
func ExecGo(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &GoError{Args: args, Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	return stdout.Bytes(), nil
}

// GoError is a go command that failed; Stderr holds what it printed (the
// compiler's errors).
type GoError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *GoError) Error() string {
	verb := "go"
	if len(e.Args) > 0 {
		verb += " " + e.Args[0]
	}
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", verb, e.Err)
	}
	return fmt.Sprintf("%s: %v:\n%s", verb, e.Err, e.Stderr)
}

func (e *GoError) Unwrap() error { return e.Err }

// goPackage is what `go list -json` says about the main package.
type goPackage struct {
	Dir        string
	ImportPath string
	Name       string
	Module     *struct {
		Path, Dir, Version, GoVersion string
	}
}

// listPackage describes the package and checks it is a main package.
func (b *Builder) listPackage(ctx context.Context) (*goPackage, error) {
	env := b.env(b.o.Platforms[0], false)
	out, err := b.o.Go(ctx, b.o.Dir, env, "list", "-json=Dir,ImportPath,Name,Module", b.o.Package)
	if err != nil {
		return nil, fmt.Errorf("finding the package %s: %w", b.o.Package, err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	switch {
	case len(pkgs) == 0:
		return nil, fmt.Errorf("%s: no Go package there", b.o.Package)
	case len(pkgs) > 1:
		return nil, fmt.Errorf("%s: %d packages match; name one main package", b.o.Package, len(pkgs))
	}
	p := &pkgs[0]
	if p.Name != "main" {
		return nil, fmt.Errorf("%s (%s) is package %s, not a main package: redline builds commands (package main with func main)", b.o.Package, p.ImportPath, p.Name)
	}
	return p, nil
}

// binaryName is go build's name for a package: the last import path
// element, skipping a major-version suffix.
func binaryName(importPath string) string {
	elem := path.Base(importPath)
	if isMajorSuffix(elem) {
		if d := path.Dir(importPath); d != "." && d != "/" {
			elem = path.Base(d)
		}
	}
	return elem
}

func isMajorSuffix(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// controlled are environment variables redline sets itself.
var controlled = []string{"GOOS", "GOARCH", "GOARM", "GOAMD64", "CGO_ENABLED", "GOTOOLCHAIN"}

// env is the go command's environment for a platform: the starting
// environment without the variables redline controls, then those, then
// the extra --env settings. hardened selects CGO_ENABLED as the options
// say; the default-flags build keeps the environment's own.
func (b *Builder) env(p v1.Platform, hardened bool) []string {
	var env []string
	for _, kv := range b.environ {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, c := range controlled {
			if k == c && (hardened || c != "CGO_ENABLED") {
				keep = false
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	env = append(env, "GOOS="+p.OS, "GOARCH="+p.Architecture)
	switch {
	case p.Architecture == "arm" && p.Variant != "":
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	case p.Architecture == "amd64" && p.Variant != "":
		env = append(env, "GOAMD64="+p.Variant)
	}
	if hardened {
		env = append(env, "CGO_ENABLED="+boolDigit(b.o.CGO || b.o.PIE))
	}
	if b.o.Toolchain != "" {
		env = append(env, "GOTOOLCHAIN="+b.o.Toolchain)
	}
	return append(env, b.o.Env...)
}

func boolDigit(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// ldflags are the linker flags of the hardened build.
func (b *Builder) ldflags() string {
	ld := DefaultLDFlags
	if b.o.LDFlags != nil {
		ld = *b.o.LDFlags
	}
	var extra string
	switch {
	case b.o.PIE:
		extra = "-linkmode=external -extldflags=-static-pie"
	case b.o.CGO && !b.o.AllowDynamic:
		extra = "-linkmode=external -extldflags=-static"
	}
	return strings.TrimSpace(ld + " " + extra)
}

func (b *Builder) tags() []string {
	tags := DefaultTags
	if b.o.Tags != nil {
		tags = b.o.Tags
	}
	if b.o.TZData && !contains(tags, "timetzdata") {
		tags = append(append([]string(nil), tags...), "timetzdata")
	}
	return tags
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// buildFlags are the hardened go build flags, without -o and the package.
// -buildvcs=auto stamps VCS data when the package is in a repository and
// the VCS tool is there, whatever GOFLAGS says.
func (b *Builder) buildFlags() []string {
	args := []string{"-trimpath", "-buildvcs=auto"}
	if b.o.PIE {
		args = append(args, "-buildmode=pie")
	}
	if tags := b.tags(); len(tags) > 0 {
		args = append(args, "-tags="+strings.Join(tags, ","))
	}
	return append(args, "-ldflags="+b.ldflags())
}

// flagsRecord is the hardened build as one line, for the dev.redline.flags
// label: the cgo setting and the go build flags.
func (b *Builder) flagsRecord() string {
	parts := []string{"CGO_ENABLED=" + boolDigit(b.o.CGO || b.o.PIE)}
	for _, f := range b.buildFlags() {
		if k, v, ok := strings.Cut(f, "="); ok && strings.Contains(v, " ") {
			f = k + "=" + `"` + v + `"`
		}
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// Binary is one built binary.
type Binary struct {
	Platform string `json:"platform"`
	// Path is where the binary is in the image.
	Path string `json:"path"`
	// Bytes is the hardened binary's size; DefaultFlagsBytes the size go
	// build with its default flags gives (0 when not measured).
	Bytes             int64 `json:"bytes"`
	DefaultFlagsBytes int64 `json:"defaultFlagsBytes,omitempty"`
	// Static is true when the binary needs no dynamic loader; PIE when it
	// is position-independent.
	Static bool `json:"static"`
	PIE    bool `json:"pie"`
	// GoVersion is the toolchain that built it ("go1.26.8").
	GoVersion string `json:"goVersion"`
	// ModuleVersion is the main module's version as the binary's build
	// info records it ("(devel)" when VCS data gave none).
	ModuleVersion string `json:"moduleVersion"`
	// VCS data from the build info, when stamped.
	Revision string    `json:"revision,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	Modified bool      `json:"modified,omitempty"`

	file        string // on disk, in the work directory
	waitDefault func() // sets DefaultFlagsBytes when the default-flags build is done
}

// goBuild runs the hardened build for p (and, alongside, the default-flags
// build that measures what hardening saved) and inspects the result.
func (b *Builder) goBuild(ctx context.Context, p v1.Platform) (*Binary, error) {
	out := filepath.Join(b.work, platformDir(p), "app")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	// The default-flags build only feeds the report: it runs on beside
	// the hardened build and the compression, and Build collects it last.
	var defSize int64
	var defErr error
	done := make(chan struct{})
	if b.o.SkipDefaultSize {
		close(done)
	} else {
		b.bg.Add(1)
		go func() {
			defer b.bg.Done()
			defer close(done)
			defSize, defErr = b.defaultBuild(b.bgCtx, p)
		}()
	}
	args := append([]string{"build", "-o", out}, b.buildFlags()...)
	_, err := b.o.Go(ctx, b.o.Dir, b.env(p, true), append(args, b.o.Package)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return nil, fmt.Errorf("%s: no binary: %w", p, err)
	}
	bin := &Binary{Platform: p.String(), Bytes: fi.Size(), file: out}
	bin.waitDefault = func() {
		<-done
		if defErr != nil {
			// The hardened build worked, so the default one failing says
			// something about the environment (cgo without a C
			// compiler...): the size is a nice-to-have.
			b.warn("the default-flags build (for the size comparison) failed", "err", firstLine(defErr.Error()))
			return
		}
		bin.DefaultFlagsBytes = defSize
	}
	facts, err := inspectELF(out)
	if err != nil {
		return nil, fmt.Errorf("built binary %s: %w", out, err)
	}
	if want, ok := elfMachine[p.Architecture]; ok && facts.Machine != want {
		return nil, fmt.Errorf("built binary for %s is %s code", p, facts.Machine)
	}
	bin.Static, bin.PIE = facts.Static, facts.PIE
	if !facts.Static && !b.o.AllowDynamic {
		why := "needs " + facts.Interp
		if len(facts.Needed) > 0 {
			why += " and " + strings.Join(facts.Needed, ", ")
		}
		return nil, fmt.Errorf("the binary for %s is dynamically linked (%s), so it cannot start on a base without libc; %s", p, why, dynamicAdvice(&b.o))
	}
	if b.o.PIE && !facts.PIE {
		return nil, fmt.Errorf("--pie: the binary for %s is not position-independent", p)
	}
	info, err := readBuildInfo(out)
	if err != nil {
		return nil, fmt.Errorf("built binary %s: reading its build info: %w", out, err)
	}
	bin.GoVersion = info.GoVersion
	bin.ModuleVersion = info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bin.Revision = s.Value
		case "vcs.time":
			bin.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			bin.Modified = s.Value == "true"
		}
	}
	return bin, nil
}

func dynamicAdvice(o *Options) string {
	switch {
	case o.PIE:
		return "the external linker did not honour -static-pie (is the C library's static-pie support installed? on Debian: libc6-dev)"
	case o.CGO:
		return "cgo code pulled in a shared library that cannot be linked statically; remove it, or pass --dynamic with a --base that has the libraries"
	case o.LDFlags != nil || o.Tags != nil:
		return "check --ldflags and --tags (the defaults netgo,osusergo avoid libc)"
	}
	return "pass --dynamic with a --base that provides the loader if this is intended"
}

// defaultBuild builds with go build's default flags (only the platform
// set) and returns the binary's size. The output is kept in the cache
// directory so that go build, finding it up to date, skips relinking.
func (b *Builder) defaultBuild(ctx context.Context, p v1.Platform) (int64, error) {
	env := b.env(p, false)
	dir := filepath.Join(b.work, "default", platformDir(p))
	if b.cacheDir != "" {
		abs, err := filepath.Abs(b.o.Dir)
		if err != nil {
			return 0, err
		}
		key := sha256.Sum256([]byte(strings.Join(append([]string{abs, b.o.Package, p.String()}, env...), "\x00")))
		dir = filepath.Join(b.cacheDir, "default", hex.EncodeToString(key[:12]))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	out := filepath.Join(dir, "app")
	if _, err := b.o.Go(ctx, b.o.Dir, env, "build", "-o", out, b.o.Package); err != nil {
		return 0, err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func platformDir(p v1.Platform) string {
	return strings.ReplaceAll(p.String(), "/", "_")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// elfMachine maps GOARCH to the ELF machine its binaries carry.
var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
	"loong64": elf.EM_LOONGARCH, "mips64le": elf.EM_MIPS,
}

// elfFacts is what linking left in a binary.
type elfFacts struct {
	Machine elf.Machine
	// Static is true without a PT_INTERP program header and without
	// DT_NEEDED entries (a static PIE is ET_DYN but needs no loader).
	Static bool
	PIE    bool
	Interp string
	Needed []string
}

// ErrNotELF is returned for a build output that is not an ELF binary.
var ErrNotELF = errors.New("build: not an ELF binary")

func inspectELF(file string) (elfFacts, error) {
	f, err := elf.Open(file)
	if err != nil {
		return elfFacts{}, fmt.Errorf("%w: %v", ErrNotELF, err)
	}
	defer f.Close()
	facts := elfFacts{Machine: f.Machine, PIE: f.Type == elf.ET_DYN}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			buf := make([]byte, min(p.Filesz, 4096))
			n, _ := p.ReadAt(buf, 0)
			facts.Interp = strings.TrimRight(string(buf[:n]), "\x00")
			if facts.Interp == "" {
				facts.Interp = "a dynamic loader"
			}
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err == nil {
		facts.Needed = needed
	}
	facts.Static = facts.Interp == "" && len(facts.Needed) == 0
	return facts, nil
}

// readBuildInfo reads the Go build info a binary carries.
func readBuildInfo(file string) (*debug.BuildInfo, error) { return buildinfo.ReadFile(file) }
