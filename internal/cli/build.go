package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/report"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// BuildOptions are the flags of `redline build`. Each maps onto one field
// of build.Options; docs/build.md describes them.
type BuildOptions struct {
	// To are --to destinations (oci-dir:DIR, oci-archive:FILE,
	// docker-archive:FILE, registry:REF); default oci-dir:./out/NAME.
	To []string
	// Tag names the image inside archives; default NAME:latest.
	Tag string
	// NoSBOM skips attaching the CycloneDX SBOM of the built image.
	NoSBOM bool
	// Name names the binary and image; default from the package.
	Name string
	// Platforms is a comma-separated list; default linux/<host arch>.
	Platforms string
	// Base is static (default), scratch or an image reference.
	Base string
	// CACerts is bundled (default), host or none.
	CACerts string
	// TZData embeds the time zone database in the binary.
	TZData bool
	// LDFlags and Tags replace the hardened defaults when given.
	LDFlags string
	Tags    string
	// CGO, PIE and Dynamic change how the binary links.
	CGO, PIE, Dynamic bool
	// Toolchain sets GOTOOLCHAIN for the build.
	Toolchain string
	// Env are extra KEY=VALUE build settings.
	Env []string
	// Version records the module version when VCS gives none.
	Version string
	// User is the numeric UID[:GID]; default 65532:65532.
	User string
	// Caps are capability names granted as file capabilities.
	Caps []string
	// Volumes, Ports, WorkDir, Labels, Annotations and Source go to the
	// image config and manifest.
	Volumes, Ports      []string
	WorkDir             string
	Labels, Annotations []string
	Source              string
	// Compare names a baseline image for the slimming percentage.
	Compare string
	// Outputs are -o FORMAT[=PATH]; formats table (default) and json.
	Outputs []string
	// DefaultSize measures the default-flags binary (a second go build).
	DefaultSize bool
	// GzipLevel is the layers' gzip level, 1-9; default build.DefaultLevel.
	GzipLevel int
	// Insecure lists registries reached over plain HTTP.
	Insecure []string
}

func newBuild(env *Env, g *global) *cobra.Command {
	o := &BuildOptions{}
	cmd := &cobra.Command{
		Use:   "build [flags] [PACKAGE]",
		Short: "Build a hardened static Go binary into a minimal, reproducible, non-root image (no daemon)",
		Long: `Build runs go build with hardened defaults (CGO_ENABLED=0, -trimpath,
-ldflags "-s -w -buildid=", tags netgo,osusergo), checks that the binary is
static, and assembles an OCI image without any container engine: the static
base made here (passwd and group with root, nonroot 65532 and nobody, a CA
bundle, /tmp), the binary in /usr/local/bin, USER 65532:65532, labels that
record what the build promised. The same source and flags give the same
digest.

PACKAGE is a directory (default .) or an import path; go:PATH also works.

The report compares the binary with go build's default flags, lists the
layers, and for each --cap says under which runtime settings the capability
takes effect. --compare IMAGE adds how much smaller the image is.`,
		Example: `  redline build ./examples/hello
  redline build --to docker-archive:hello.tar --tag hello:dev ./examples/hello
  redline build --cap NET_BIND_SERVICE --to registry:ghcr.io/org/hello:1.2 .
  redline build --platform linux/amd64,linux/arm64 --to oci-archive:hello.tar .
  redline build --compare docker-archive:naive.tar -o json=build.json .`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pkg := "."
			if len(args) == 1 {
				pkg = args[0]
			}
			return RunBuild(cmd.Context(), env, g, o, pkg, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.To, "to", nil, "destination, repeatable: oci-dir:DIR, oci-archive:FILE, docker-archive:FILE, registry:REF (default oci-dir:./out/NAME)")
	f.StringVar(&o.Tag, "tag", "", "image name inside archives (default NAME:latest)")
	f.BoolVar(&o.NoSBOM, "no-sbom", false, "do not attach the CycloneDX SBOM of the built image (a referrer, or NAME.cdx.json beside a docker archive)")
	f.StringVar(&o.Name, "name", "", "binary and image name (default: the package's last path element)")
	f.StringVar(&o.Platforms, "platform", "", "platforms, comma-separated, e.g. linux/amd64,linux/arm64 (default: linux on this machine's architecture)")
	f.StringVar(&o.Base, "base", build.BaseStatic, "base: static (made here), scratch, or an image (registry:REF, oci-dir:DIR, oci-archive:FILE, docker-archive:FILE)")
	f.StringVar(&o.CACerts, "ca-certs", build.CABundled, "CA bundle of the static base: bundled (Mozilla's roots from x509roots/fallback), host, none")
	f.BoolVar(&o.TZData, "tzdata", false, "embed the time zone database in the binary (tag timetzdata)")
	f.StringVar(&o.LDFlags, "ldflags", build.DefaultLDFlags, "linker flags (replace the default)")
	f.StringVar(&o.Tags, "tags", strings.Join(build.DefaultTags, ","), "build tags, comma-separated (replace the default)")
	f.BoolVar(&o.CGO, "cgo", false, "build with cgo (CGO_ENABLED=1, linked statically); not recommended")
	f.BoolVar(&o.PIE, "pie", false, "build a static PIE (cgo, external linking with -static-pie; needs gcc)")
	f.BoolVar(&o.Dynamic, "dynamic", false, "accept a dynamically linked binary (then use a --base with its libraries)")
	f.StringVar(&o.Toolchain, "toolchain", "", "Go toolchain for the build, e.g. go1.27.3 (sets GOTOOLCHAIN)")
	f.StringArrayVar(&o.Env, "env", nil, "extra build environment KEY=VALUE, repeatable")
	f.StringVar(&o.Version, "version", "", "module version to record when VCS data gives none")
	f.StringVar(&o.User, "user", build.DefaultUser, "numeric UID[:GID] the image runs as")
	f.StringArrayVar(&o.Caps, "cap", nil, "grant a capability to the binary as a file capability, e.g. NET_BIND_SERVICE (repeatable)")
	f.StringArrayVar(&o.Volumes, "volume", nil, "directory to create owned by the user and declare as a volume (repeatable)")
	f.StringArrayVar(&o.Ports, "expose", nil, "port to declare, PORT[/tcp|udp] (repeatable)")
	f.StringVar(&o.WorkDir, "workdir", "/", "working directory")
	f.StringArrayVar(&o.Labels, "label", nil, "extra config label KEY=VALUE (repeatable)")
	f.StringArrayVar(&o.Annotations, "annotation", nil, "extra manifest annotation KEY=VALUE (repeatable)")
	f.StringVar(&o.Source, "source", "", "org.opencontainers.image.source (default: from a github.com/gitlab.com module path)")
	f.StringVar(&o.Compare, "compare", "", "baseline image: report how much smaller the built image is")
	f.StringArrayVarP(&o.Outputs, "output", "o", nil, "report FORMAT[=PATH], repeatable; formats: table, json")
	f.BoolVar(&o.DefaultSize, "default-size", true, "also build with go build's default flags to report the size saved")
	f.IntVar(&o.GzipLevel, "gzip-level", build.DefaultLevel, "gzip level of the layers, 1-9 (9: about 0.3% smaller, three times the compression time)")
	f.StringArrayVar(&o.Insecure, "insecure-registry", nil, "registry host[:port] reached over plain HTTP (repeatable)")
	return cmd
}

// options translates the flags into the library's options.
func (o *BuildOptions) options(env *Env, pkg string, changed func(string) bool) (build.Options, error) {
	bo := build.Options{
		Name: o.Name, Base: o.Base, CACerts: o.CACerts, TZData: o.TZData,
		CGO: o.CGO, PIE: o.PIE, AllowDynamic: o.Dynamic, Toolchain: o.Toolchain,
		Env: o.Env, Version: o.Version, User: o.User, Volumes: o.Volumes, Ports: o.Ports,
		WorkDir: o.WorkDir, Source: o.Source, Tag: o.Tag, Insecure: o.Insecure,
		SkipDefaultSize: !o.DefaultSize, Level: o.GzipLevel,
	}
	if o.GzipLevel < 1 || o.GzipLevel > 9 {
		return bo, usageErrorf("--gzip-level %d: want 1 to 9", o.GzipLevel)
	}
	dir, p, err := packageArg(pkg)
	if err != nil {
		return bo, err
	}
	bo.Dir, bo.Package = dir, p
	if changed("ldflags") {
		ld := o.LDFlags
		bo.LDFlags = &ld
	}
	if changed("tags") {
		bo.Tags = []string{}
		for _, t := range strings.Split(o.Tags, ",") {
			if t = strings.TrimSpace(t); t != "" {
				bo.Tags = append(bo.Tags, t)
			}
		}
	}
	if o.Platforms != "" {
		for _, s := range strings.Split(o.Platforms, ",") {
			p, err := image.ParsePlatform(strings.TrimSpace(s))
			if err != nil {
				return bo, usageErrorf("--platform: %v", err)
			}
			bo.Platforms = append(bo.Platforms, *p)
		}
	}
	for _, c := range o.Caps {
		capability, err := build.ParseCapability(c)
		if err != nil {
			return bo, usageErrorf("--cap: %v", err)
		}
		bo.Caps = append(bo.Caps, capability)
	}
	for _, d := range o.To {
		dest, err := build.ParseDestination(d)
		if err != nil {
			return bo, usageError{err}
		}
		bo.To = append(bo.To, dest)
	}
	if bo.Labels, err = keyValues("--label", o.Labels); err != nil {
		return bo, err
	}
	if bo.Annotations, err = keyValues("--annotation", o.Annotations); err != nil {
		return bo, err
	}
	if s := env.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return bo, usageErrorf("SOURCE_DATE_EPOCH=%s: want seconds since 1970", s)
		}
		t := time.Unix(n, 0).UTC()
		bo.SourceDateEpoch = &t
	}
	return bo, nil
}

// packageArg splits PACKAGE into the directory the go command runs in and
// the package it builds: a directory is built from inside (so a nested
// module works), anything else is an import path built from here.
func packageArg(arg string) (dir, pkg string, err error) {
	arg = strings.TrimPrefix(arg, "go:")
	fi, err := os.Stat(arg)
	switch {
	case err == nil && fi.IsDir():
		return arg, ".", nil
	case err == nil:
		return "", "", usageErrorf("%s: a file; redline builds a package directory or import path", arg)
	case strings.HasPrefix(arg, ".") || strings.HasPrefix(arg, "/"):
		return "", "", usageErrorf("%s: no such directory", arg)
	}
	return ".", arg, nil
}

func keyValues(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("%s %q: want KEY=VALUE", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// RunBuild is `redline build`.
func RunBuild(ctx context.Context, env *Env, g *global, o *BuildOptions, pkg string, changed func(string) bool) error {
	outs, err := ParseOutputs(o.Outputs, []string{"table", "json"}, "table")
	if err != nil {
		return err
	}
	var baseline image.Target
	if o.Compare != "" {
		if baseline, err = image.ParseTarget(o.Compare); err != nil {
			return usageErrorf("--compare: %v", err)
		}
	}
	bo, err := o.options(env, pkg, changed)
	if err != nil {
		return err
	}
	log := g.logger(env.Stderr)
	bo.Logger = log
	if !o.NoSBOM {
		bo.Attachers = append(bo.Attachers, inventory.SBOMAttacher{})
	}
	b, err := build.New(bo)
	if err != nil {
		if errors.Is(err, build.ErrInvalidOptions) {
			return usageError{err}
		}
		return err
	}
	defer b.Close()
	res, err := b.Build(ctx)
	if err != nil {
		return err
	}
	if o.Compare != "" {
		iopts := image.Options{Insecure: o.Insecure, Logger: log}
		if len(res.Platforms) > 0 {
			p, err := v1.ParsePlatform(res.Platforms[0].Platform)
			if err == nil {
				iopts.Platform = p
			}
		}
		res.Comparison, err = build.Compare(ctx, res, baseline, iopts, image.PassOptions{}, 10)
		if err != nil {
			return err
		}
	}
	return WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		if format == "json" {
			return report.JSON(w, res)
		}
		return build.WriteTable(w, res)
	})
}
