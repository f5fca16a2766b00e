package build

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
)

// SchemaVersion identifies the JSON form of [Result].
const SchemaVersion = "redline.dev/build/v1"

// Result is the build report. Its JSON form is documented in
// docs/build.md.
type Result struct {
	SchemaVersion string `json:"schemaVersion"`
	// Name is the binary's and image's name; Package the import path
	// built; Tag the name inside archives.
	Name    string `json:"name"`
	Package string `json:"package"`
	Tag     string `json:"tag"`
	// Digest and MediaType name the top of the image: the index for
	// several platforms, else the image manifest.
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Version is the main module's version as recorded in the labels;
	// VersionSource says where it came from: "vcs", "flag" or "none".
	Version       string `json:"version"`
	VersionSource string `json:"versionSource"`
	// Created is the one timestamp of the image; CreatedSource says why.
	Created       time.Time `json:"created"`
	CreatedSource string    `json:"createdSource"`
	// Flags is the hardened go build as recorded in dev.redline.flags.
	Flags string   `json:"flags"`
	Base  BaseInfo `json:"base"`
	// Platforms hold each platform's binary and layers.
	Platforms []PlatformResult `json:"platforms"`
	User      string           `json:"user"`
	Ports     []string         `json:"ports,omitempty"`
	Volumes   []string         `json:"volumes,omitempty"`
	// Capabilities are the file capabilities granted to the binary;
	// Conditions predict what they do under each runtime setting, and
	// CapabilityNotes say when they are not needed at all.
	Capabilities    []string          `json:"capabilities"`
	Conditions      []Condition       `json:"conditions,omitempty"`
	CapabilityNotes []string          `json:"capabilityNotes,omitempty"`
	Labels          map[string]string `json:"labels"`
	// Destinations were written, in order.
	Destinations []string `json:"destinations"`
	Warnings     []string `json:"warnings,omitempty"`
	// Comparison is the slimming report against --compare.
	Comparison *layers.Comparison `json:"comparison,omitempty"`
}

// BaseInfo says what the image was built on.
type BaseInfo struct {
	// Kind is "static", "scratch" or "image".
	Kind string `json:"kind"`
	// Ref and Digest name an image base.
	Ref    string `json:"ref,omitempty"`
	Digest string `json:"digest,omitempty"`
	// CACerts is the static base's CA source, CACount its certificates.
	CACerts string `json:"caCerts,omitempty"`
	CACount int    `json:"caCount,omitempty"`
}

// PlatformResult is one platform's image.
type PlatformResult struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Binary   Binary `json:"binary"`
	// CompressedBytes adds up the layer blobs (what a pull transfers).
	CompressedBytes int64       `json:"compressedBytes"`
	Layers          []LayerInfo `json:"layers"`

	digest v1.Hash
}

// LayerInfo is one layer of a built image.
type LayerInfo struct {
	Index           int    `json:"index"`
	Digest          string `json:"digest"`
	CompressedBytes int64  `json:"compressedBytes"`
	// UncompressedBytes and Files are known for redline's own layers.
	UncompressedBytes int64  `json:"uncompressedBytes,omitempty"`
	Files             int    `json:"files,omitempty"`
	Source            string `json:"source"`
}

// Compare measures the built image against a baseline with the analyze
// machinery (layers.Run, layers.Compare): the built image is read from the
// first file destination, or the registry it was pushed to.
func Compare(ctx context.Context, res *Result, baseline image.Target, o image.Options, po image.PassOptions, top int) (*layers.Comparison, error) {
	var built image.Target
	for _, d := range res.Destinations {
		t, err := image.ParseTarget(d)
		if err != nil {
			return nil, err
		}
		if built.Value == "" || (built.Scheme == image.Registry && t.Scheme != image.Registry) {
			built = t
		}
	}
	if built.Value == "" {
		return nil, fmt.Errorf("--compare: the image was written nowhere to read it back from")
	}
	if len(res.Platforms) > 0 && o.Platform == nil {
		p, err := v1.ParsePlatform(res.Platforms[0].Platform)
		if err != nil {
			return nil, err
		}
		o.Platform = p
	}
	base, baseTree, err := layers.Run(ctx, baseline, o, po, layers.Options{Top: max(top, 1)})
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	a, tree, err := layers.Run(ctx, built, o, po, layers.Options{Top: max(top, 1)})
	if err != nil {
		return nil, fmt.Errorf("--compare: reading the built image back: %w", err)
	}
	return layers.Compare(base, baseTree, a, tree, max(top, 1))
}

// WriteTable renders the report for people.
func WriteTable(w io.Writer, r *Result) error {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("redline build  %s  →  %s", r.Package, strings.Join(r.Destinations, ", "))
	line("")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	kv := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	platforms := make([]string, len(r.Platforms))
	for i, p := range r.Platforms {
		platforms[i] = p.Platform
	}
	kv("image", fmt.Sprintf("%s  %s  (%s)", r.Tag, shortDigest(r.Digest), strings.Join(platforms, ", ")))
	base := r.Base.Kind
	switch r.Base.Kind {
	case BaseStatic:
		if r.Base.CACount > 0 {
			base += fmt.Sprintf(" (made here: passwd, group, %d CA certificates from %s, /tmp)", r.Base.CACount, r.Base.CACerts)
		} else {
			base += " (made here: passwd, group, /tmp; no CA certificates)"
		}
	case "image":
		base = r.Base.Ref + "  " + shortDigest(r.Base.Digest)
	}
	kv("base", base)
	if r.User == "0" || strings.HasPrefix(r.User, "0:") {
		kv("user", r.User+" (ROOT: the image runs as root)")
	} else {
		kv("user", r.User+" (numeric; non-root)")
	}
	version := r.Version + " (from " + r.VersionSource + ")"
	if r.VersionSource == "none" {
		version = "(devel): unknown to scanners; pass --version or build from a VCS checkout"
	}
	kv("version", version)
	kv("created", r.Created.Format(time.RFC3339)+" ("+r.CreatedSource+")")
	kv("flags", r.Flags)
	if len(r.Ports) > 0 {
		kv("ports", strings.Join(r.Ports, ", "))
	}
	if len(r.Volumes) > 0 {
		kv("volumes", strings.Join(r.Volumes, ", ")+" (owned by "+r.User+")")
	}
	tw.Flush()
	for _, p := range r.Platforms {
		bin := p.Binary
		line("")
		line("%s  %s", strings.ToUpper(p.Platform), shortDigest(p.Digest))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		link := "static"
		if !bin.Static {
			link = "DYNAMIC"
		}
		if bin.PIE {
			link += ", PIE"
		}
		kv("binary", fmt.Sprintf("%s  %s, %s", bin.Path, link, bin.GoVersion))
		if bin.DefaultFlagsBytes > 0 {
			kv("size", fmt.Sprintf("%s hardened, %s with go build's default flags (%s)", layers.HumanBytes(bin.Bytes), layers.HumanBytes(bin.DefaultFlagsBytes), pctChange(bin.Bytes, bin.DefaultFlagsBytes)))
		} else {
			kv("size", layers.HumanBytes(bin.Bytes)+" hardened (default flags not measured)")
		}
		kv("image", layers.HumanBytes(p.CompressedBytes)+" compressed, "+fmt.Sprint(len(p.Layers))+" layers")
		tw.Flush()
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  #\tCOMPRESSED\tUNCOMPR.\tFILES\tDIGEST\t\n")
		for _, l := range p.Layers {
			unc, files := "", ""
			if l.UncompressedBytes > 0 {
				unc, files = layers.HumanBytes(l.UncompressedBytes), fmt.Sprint(l.Files)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t\n", l.Index, layers.HumanBytes(l.CompressedBytes), unc, files, shortDigest(l.Digest))
		}
		tw.Flush()
		for _, l := range p.Layers {
			line("  %d: %s", l.Index, clip(l.Source, 110))
		}
	}
	line("")
	if len(r.Capabilities) == 0 {
		line("CAPABILITIES  none granted: the least privilege. Run with --cap-drop=ALL and no-new-privileges;")
		line("  serve ports ≥ 1024 (map :80 to it at the runtime). docs/build.md has the three ways to serve :80.")
	} else {
		line("CAPABILITIES  %s as a file capability (=ep) on %s", strings.Join(r.Capabilities, ", "), r.Platforms[0].Binary.Path)
		line("  What the kernel does with it, by runtime setting (non-root user):")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, c := range r.Conditions {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Runtime, strings.ToUpper(c.Outcome.String()), c.Settings)
		}
		tw.Flush()
		line("  EFFECTIVE: works · IGNORED: runs without it (no_new_privs) · EXEC-FAILS: \"operation not permitted\" at start")
		for _, n := range r.CapabilityNotes {
			line("  Note: %s", n)
		}
	}
	if c := r.Comparison; c != nil {
		line("")
		line("COMPARED WITH %s", c.Baseline.Image.Ref)
		line("  compressed    %s → %s  (%s)", layers.HumanBytes(c.Baseline.Summary.CompressedBytes), layers.HumanBytes(c.Image.Summary.CompressedBytes), smaller(c.Reduction.CompressedPercent))
		line("  uncompressed  %s → %s  (%s)", layers.HumanBytes(c.Baseline.Summary.UncompressedBytes), layers.HumanBytes(c.Image.Summary.UncompressedBytes), smaller(c.Reduction.UncompressedPercent))
		line("  files         %d → %d", c.Baseline.Summary.Files, c.Image.Summary.Files)
	}
	if len(r.Warnings) > 0 {
		line("")
		line("WARNINGS")
		for _, w := range r.Warnings {
			line("  - %s", w)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String returns the outcome's name.
func (o Outcome) String() string { return string(o) }

func smaller(pct float64) string {
	if pct < 0 {
		return fmt.Sprintf("%.1f%% larger", -pct)
	}
	return fmt.Sprintf("%.1f%% smaller", pct)
}

func shortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) >= 12 {
		return "sha256:" + hex[:12]
	}
	return d
}

func pctChange(now, before int64) string {
	if before == 0 {
		return "n/a"
	}
	return fmt.Sprintf("−%.1f%%", float64(before-now)*100/float64(before))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
