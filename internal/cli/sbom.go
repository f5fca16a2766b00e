package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// SBOMOptions are the flags of `redline sbom`.
type SBOMOptions struct {
	Image ImageFlags
	// Outputs are -o FORMAT[=PATH] values; default cyclonedx-json.
	Outputs []string
	// Strict turns warnings (unparseable content) into exit 2.
	Strict bool
}

// sbomFormats are the formats of `redline sbom`, the default first.
var sbomFormats = []string{"cyclonedx-json", "cyclonedx-xml", "spdx-json", "table", "json"}

func newSBOM(env *Env, g *global) *cobra.Command {
	o := &SBOMOptions{}
	cmd := &cobra.Command{
		Use:   "sbom [flags] TARGET",
		Short: "List what an image, root filesystem, binary or Go module holds (CycloneDX, SPDX)",
		Long: `Sbom catalogues a target during one streaming pass: Go binaries (main
module, every module with its h1: hash, replacements, the toolchain as
stdlib, build settings, static/PIE/stripped), Debian packages (dpkg status
and the distroless status.d), Alpine packages, and the distribution from
os-release. Every component names the layer that added it and its path.

TARGET is any image (docker-archive:, oci-archive:, oci-dir:, registry:,
docker:, podman:), dir:PATH (a root filesystem), file:PATH (one binary) or
go:PATH (a Go module: the modules its packages come from, via go list).

Content that cannot be parsed (a broken dpkg stanza, truncated build info)
is a warning on stderr; --strict makes warnings exit 2. A layer that cannot
be read is an error: no SBOM is written.`,
		Example: `  redline sbom testdata/images/naive.tar
  redline sbom -o spdx-json=sbom.spdx.json -o table oci-dir:./out/hello
  redline sbom file:./bin/server
  redline sbom go:./examples/hello`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunSBOM(cmd.Context(), env, g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Outputs, "output", "o", nil, "output FORMAT[=PATH], repeatable; formats: cyclonedx-json (default), cyclonedx-xml, spdx-json, table, json")
	f.BoolVar(&o.Strict, "strict", false, "exit 2 when any content could not be parsed")
	o.Image.register(cmd)
	return cmd
}

// RunSBOM is `redline sbom`.
func RunSBOM(ctx context.Context, env *Env, g *global, o *SBOMOptions, arg string) error {
	outs, err := ParseOutputs(o.Outputs, sbomFormats, sbomFormats[0])
	if err != nil {
		return err
	}
	log := g.logger(env.Stderr)
	iopts, popts, err := o.Image.options(log)
	if err != nil {
		return err
	}
	t, err := image.ParseTarget(arg)
	if err != nil {
		return err
	}
	s, err := makeSBOM(ctx, env, t, iopts, popts)
	if err != nil {
		return err
	}
	for _, w := range s.Warnings {
		where := w.Path
		if w.Layer >= 0 {
			where = fmt.Sprintf("%s (layer %d)", w.Path, w.Layer)
		}
		log.Warn(w.Message, "path", where)
	}
	if o.Strict && len(s.Warnings) > 0 {
		return fmt.Errorf("%s: %d warnings and --strict: no SBOM written", t, len(s.Warnings))
	}
	return WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		return EncodeSBOM(w, format, s)
	})
}

func makeSBOM(ctx context.Context, env *Env, t image.Target, iopts image.Options, popts image.PassOptions) (*sbom.SBOM, error) {
	if t.Resolved {
		iopts.Logger.Info("resolved target", "arg", t.Value, "as", t.Scheme, "because", t.Why)
	}
	switch t.Scheme {
	case image.File:
		s, err := inventory.File(t.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		return s, nil
	case image.GoSource:
		s, err := inventory.GoSource(ctx, t.Value, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		return s, nil
	}
	t.Resolved = false // logged above
	p := withProgress(popts, env, "")
	defer p.done()
	return inventory.Image(ctx, t, iopts, p.opts)
}

// EncodeSBOM writes s in one of sbomFormats.
func EncodeSBOM(w io.Writer, format string, s *sbom.SBOM) error {
	switch format {
	case "cyclonedx-json":
		return encode.CycloneDXJSON(w, s)
	case "cyclonedx-xml":
		return encode.CycloneDXXML(w, s)
	case "spdx-json":
		return encode.SPDXJSON(w, s)
	case "table":
		return encode.Table(w, s)
	case "json":
		return encode.JSON(w, s)
	}
	return fmt.Errorf("unknown SBOM format %q", format)
}
