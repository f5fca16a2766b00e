package build

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	kflate "github.com/klauspost/compress/flate"
)

// The hardened defaults of the go build step.
var (
	// DefaultLDFlags strip the symbol table and DWARF (-s -w) and empty
	// the Go build ID, which would otherwise change with the build host.
	DefaultLDFlags = "-s -w -buildid="
	// DefaultTags select the pure-Go resolver and user lookup, so no libc
	// is ever needed.
	DefaultTags = []string{"netgo", "osusergo"}
)

// Base and CA source names.
const (
	BaseStatic  = "static"
	BaseScratch = "scratch"

	CABundled = "bundled"
	CAHost    = "host"
	CANone    = "none"
)

// DefaultLevel is the gzip level of the layers. Level 8 gives the
// examples/hello binary layer 0.3% (8 KB of 2.6 MB) more than level 9 at a
// third of its CPU time: 9 tries four times as many matches for each byte,
// and on two cores its second of compression was most of what redline
// added to go build when the source changed (docs/benchmarks.md, "build").
const DefaultLevel = 8

// DefaultUser is the numeric user and group the image runs as.
const DefaultUser = "65532:65532"

// BinDir is where the binary goes in the image: /usr/local/bin/NAME.
const BinDir = "/usr/local/bin"

// Options configure a [Builder]. Zero fields take the defaults their
// comments state; [New] validates them all before anything runs.
type Options struct {
	// Dir is the directory the go command runs in. Default ".".
	Dir string
	// Package is the main package, relative to Dir ("." by default) or an
	// import path.
	Package string
	// Name names the binary and the image. Default: the last element of
	// the package's import path (a major-version suffix such as /v2
	// skipped), as go build names it.
	Name string
	// Platforms to build; more than one gives an image index. Default:
	// linux on the host's architecture.
	Platforms []v1.Platform

	// LDFlags replace [DefaultLDFlags] when non-nil.
	LDFlags *string
	// Tags replace [DefaultTags] when non-nil (an empty slice: no tags).
	Tags []string
	// TZData embeds the time zone database (the timetzdata tag): the
	// static base has no /usr/share/zoneinfo.
	TZData bool
	// CGO builds with CGO_ENABLED=1, linked statically (external linking
	// with -extldflags=-static) unless AllowDynamic. Off by default.
	CGO bool
	// PIE builds a static position-independent executable: cgo on,
	// -buildmode=pie, external linking with -static-pie. It needs a C
	// toolchain (gcc) for the target.
	PIE bool
	// AllowDynamic accepts a dynamically linked binary; by default one is
	// an error (the static base has no loader).
	AllowDynamic bool
	// Toolchain sets GOTOOLCHAIN (e.g. "go1.27.3") for every go command.
	Toolchain string
	// Env adds KEY=VALUE settings to the build's environment. GOOS,
	// GOARCH and CGO_ENABLED are refused: use Platforms and CGO.
	Env []string
	// Environ is the environment the go command starts from. Default:
	// os.Environ().
	Environ []string
	// Version records the main module's version when VCS data gives none
	// (or overrides it), in labels, annotations and the report.
	Version string

	// Base is "static" (default: made here, never pulled), "scratch" or
	// an image reference in the target syntax of DESIGN.md (registry:REF,
	// oci-dir:DIR, oci-archive:FILE, docker-archive:FILE, or a bare
	// registry reference).
	Base string
	// CACerts is the CA bundle of the static base: "bundled" (default:
	// golang.org/x/crypto/x509roots/fallback), "host" (this machine's) or
	// "none".
	CACerts string
	// User is the numeric UID[:GID] the image runs as. Default 65532:65532.
	User string
	// Caps are granted to the binary as file capabilities (=ep).
	Caps []Capability
	// Volumes are directories created owned by User and declared as
	// volumes.
	Volumes []string
	// Ports are exposed: "8080", "8080/tcp", "53/udp".
	Ports []string
	// WorkDir is the working directory. Default "/".
	WorkDir string
	// Labels and Annotations are added to the image config and manifest;
	// they cannot override the keys redline sets.
	Labels, Annotations map[string]string
	// Source is org.opencontainers.image.source. Default: derived from a
	// github.com, gitlab.com or bitbucket.org module path.
	Source string
	// SourceDateEpoch fixes every timestamp. Default: the VCS commit time,
	// else the Unix epoch.
	SourceDateEpoch *time.Time

	// To are the destinations, written only when everything succeeded.
	// Default: oci-dir:./out/NAME.
	To []Destination
	// Tag names the image in archives (docker-archive, the OCI
	// ref.name annotation). Default NAME:latest.
	Tag string
	// Keychain resolves registry credentials for a base and for pushes.
	// Default: authn.DefaultKeychain (docker config).
	Keychain authn.Keychain
	// Insecure lists registries (host[:port]) reached over plain HTTP.
	Insecure []string

	// SkipDefaultSize skips the second go build, with go build's default
	// flags, that measures what hardening saved (the CLI's
	// --default-size=false).
	SkipDefaultSize bool
	// Level is the gzip level of the layers. Default [DefaultLevel].
	Level int
	// Workers compress a layer in parallel. Default GOMAXPROCS.
	Workers int
	// TempDir holds the work directory. Default os.TempDir().
	TempDir string
	// CacheDir keeps the default-flags binary between builds so go build
	// can skip relinking it. Default: os.UserCacheDir()/redline/build;
	// "-" disables it.
	CacheDir string
	// Attachers produce artifacts about the built image, attached as OCI
	// referrers (issue 4: the SBOM).
	Attachers []Attacher
	// Go runs the go command. Default [ExecGo]; tests replace it.
	Go GoFunc
	// Logger receives progress notes and warnings. Default: discard.
	Logger *slog.Logger
}

// ErrInvalidOptions marks options [New] refused; the CLI exits 2 on it.
var ErrInvalidOptions = errors.New("build: invalid options")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
}

var toolchainRE = regexp.MustCompile(`^(local|auto|go1(\.[0-9]+){1,2}((rc|beta)[0-9]+)?(\+(auto|path))?)$`)

// supportedArch lists the GOARCH values that make Linux images, with the
// variants an image platform may carry.
var supportedArch = map[string][]string{
	"amd64": {"", "v1", "v2", "v3", "v4"}, "arm64": {"", "v8"}, "arm": {"v5", "v6", "v7", ""},
	"386": {""}, "ppc64le": {""}, "s390x": {""}, "riscv64": {""}, "loong64": {""}, "mips64le": {""},
}

// validate fills defaults and checks every option; nothing has run yet.
func (o *Options) validate() error {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Package == "" {
		o.Package = "."
	}
	if o.Name != "" && !validName(o.Name) {
		return invalidf("name %q: use letters, digits, '.', '_' and '-'", o.Name)
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []v1.Platform{{OS: "linux", Architecture: runtime.GOARCH}}
	}
	seen := map[string]bool{}
	for i, p := range o.Platforms {
		if p.OS != "linux" {
			return invalidf("platform %s: container images here are Linux images (linux/ARCH)", p)
		}
		variants, ok := supportedArch[p.Architecture]
		if !ok {
			return invalidf("platform %s: architecture %q is not one Go builds Linux images for", p, p.Architecture)
		}
		if !slices.Contains(variants, p.Variant) {
			return invalidf("platform %s: unknown variant %q for %s", p, p.Variant, p.Architecture)
		}
		if p.Architecture == "arm" && p.Variant == "" {
			o.Platforms[i].Variant = "v7"
		}
		if seen[o.Platforms[i].String()] {
			return invalidf("platform %s given twice", p)
		}
		seen[o.Platforms[i].String()] = true
	}
	if o.Toolchain != "" && !toolchainRE.MatchString(o.Toolchain) {
		return invalidf("toolchain %q: want goX.Y.Z (e.g. go1.27.3), local or auto", o.Toolchain)
	}
	for _, kv := range o.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return invalidf("env %q: want KEY=VALUE", kv)
		}
		switch k {
		case "GOOS", "GOARCH", "GOARM", "GOAMD64":
			return invalidf("env %s: set the platform with --platform", k)
		case "CGO_ENABLED":
			return invalidf("env %s: use --cgo (or --pie)", k)
		case "GOTOOLCHAIN":
			return invalidf("env %s: use --toolchain", k)
		}
	}
	if o.PIE && len(o.Platforms) > 0 {
		for _, p := range o.Platforms {
			if p.Architecture != runtime.GOARCH && !hasEnv(o.Env, "CC") {
				return invalidf("--pie for %s needs a C cross-compiler for external linking: pass --env CC=<cross gcc>, or drop --pie", p)
			}
		}
	}
	switch o.Base {
	case "":
		o.Base = BaseStatic
	case BaseStatic, BaseScratch:
	}
	switch o.CACerts {
	case "":
		o.CACerts = CABundled
	case CABundled, CAHost, CANone:
	default:
		return invalidf("--ca-certs %q: want bundled, host or none", o.CACerts)
	}
	if o.Base != BaseStatic && o.CACerts == CAHost {
		return invalidf("--ca-certs host applies to the static base only (the base %q brings its own)", o.Base)
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if _, _, err := parseUser(o.User); err != nil {
		return invalidf("user %q: %v", o.User, err)
	}
	o.Caps = normalizeCaps(o.Caps)
	for i, v := range o.Volumes {
		if !path.IsAbs(v) || path.Clean(v) == "/" {
			return invalidf("volume %q: want an absolute directory other than /", v)
		}
		o.Volumes[i] = path.Clean(v)
		if strings.HasPrefix(o.Volumes[i]+"/", BinDir+"/") {
			return invalidf("volume %q: inside %s, where the binary goes", v, BinDir)
		}
	}
	for _, p := range o.Ports {
		if _, err := parsePort(p); err != nil {
			return invalidf("port %q: %v", p, err)
		}
	}
	if o.WorkDir == "" {
		o.WorkDir = "/"
	}
	if !path.IsAbs(o.WorkDir) {
		return invalidf("workdir %q: want an absolute path", o.WorkDir)
	}
	for k := range o.Labels {
		if reservedKey(k) {
			return invalidf("label %q: redline sets it", k)
		}
	}
	for k := range o.Annotations {
		if reservedKey(k) {
			return invalidf("annotation %q: redline sets it", k)
		}
	}
	if o.Tag != "" {
		if _, err := name.NewTag(o.Tag); err != nil {
			return invalidf("tag %q: %v", o.Tag, err)
		}
	}
	multi := len(o.Platforms) > 1
	dests := map[string]bool{}
	for _, d := range o.To {
		if d.Kind == DockerArchive && multi {
			return invalidf("%s: a docker archive holds one platform; use oci-archive: or oci-dir: for %d platforms", d, len(o.Platforms))
		}
		if dests[d.String()] {
			return invalidf("destination %s given twice", d)
		}
		dests[d.String()] = true
	}
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	if o.Level < kflate.HuffmanOnly || o.Level > kflate.BestCompression {
		return invalidf("gzip level %d: want 1 to 9", o.Level)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Go == nil {
		o.Go = ExecGo
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// parseUser parses a numeric UID[:GID]; the GID defaults to the UID.
func parseUser(s string) (uid, gid int, err error) {
	u, g, hasG := strings.Cut(s, ":")
	uid, err = strconv.Atoi(u)
	if err != nil || uid < 0 || uid > 1<<31-1 {
		return 0, 0, fmt.Errorf("want a numeric UID[:GID] such as 65532:65532 (names need a passwd lookup the runtime may not do)")
	}
	gid = uid
	if hasG {
		gid, err = strconv.Atoi(g)
		if err != nil || gid < 0 || gid > 1<<31-1 {
			return 0, 0, fmt.Errorf("want a numeric UID[:GID] such as 65532:65532")
		}
	}
	return uid, gid, nil
}

// parsePort parses PORT[/tcp|udp|sctp] into the config's "PORT/PROTO".
func parsePort(s string) (string, error) {
	p, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("want PORT[/tcp|udp|sctp] with PORT in 1-65535")
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("protocol %q: want tcp, udp or sctp", proto)
	}
	return strconv.Itoa(n) + "/" + proto, nil
}

// GoFunc runs the go command with args, in dir, with env as its whole
// environment, and returns its standard output. A failure's error carries
// the command's standard error (the compiler's output).
type GoFunc func(ctx context.Context, dir string, env []string, args ...string) ([]byte, error)
