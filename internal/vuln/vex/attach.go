package vex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/vuln"
)

// Attacher attaches the result of a source-level analysis to the image
// `redline build` (or `redline check`) made from that source: an OpenVEX
// document ([SourceStatements]) bound to the image's digest, as an OCI
// referrer in layouts and registries and as NAME.vex.json beside a docker
// archive (DESIGN.md, "Attachments"). Scanning the image later without
// its source applies it.
type Attacher struct {
	// Findings returns the findings of the source analysis. Attach calls
	// it once and waits for it: the analysis runs alongside the build.
	// Required.
	Findings func(ctx context.Context) ([]vuln.Finding, error)
	// Module is the Go module that was analysed; it is recorded in the
	// referrer's [AnnotationSource] annotation.
	Module string
	// Platform ("linux/amd64") is the platform the analysis was made for
	// (its GOOS and GOARCH): only that platform's image gets the
	// statements. Empty: every platform built.
	Platform string
	// Options configure the documents. A zero Timestamp takes the image's
	// creation time, so that a reproducible build attaches the same bytes.
	Options WriteOptions
}

// Attach implements build.Attacher.
func (a Attacher) Attach(ctx context.Context, b *build.Built) ([]build.Attachment, error) {
	if a.Findings == nil {
		return nil, errors.New("openvex attachment: no source findings to wait for")
	}
	findings, err := a.Findings(ctx)
	if err != nil {
		return nil, fmt.Errorf("openvex attachment: source analysis: %w", err)
	}
	name := b.Labels["org.opencontainers.image.title"]
	var out []build.Attachment
	for _, p := range b.Platforms {
		plat := p.Platform.String()
		if a.Platform != "" && a.Platform != plat {
			continue
		}
		opts := a.Options
		if opts.Timestamp.IsZero() && p.Image != nil {
			if cfg, err := p.Image.ConfigFile(); err == nil {
				opts.Timestamp = cfg.Created.Time
			}
		}
		doc, err := SourceStatements(findings, ImagePURL(name, p.Digest.String()), opts)
		if err != nil {
			return nil, fmt.Errorf("openvex attachment (%s): %w", plat, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return nil, err
		}
		att := build.Attachment{
			ArtifactType: ArtifactType, Data: buf.Bytes(),
			Annotations: map[string]string{"org.opencontainers.image.description": "OpenVEX from redline's source analysis"},
		}
		if a.Module != "" {
			att.Annotations[AnnotationSource] = a.Module
		}
		// The statements name the platform's image: attach them to it. A
		// single-platform image is its own top, which is also what a
		// docker archive's sibling file stands for.
		if len(b.Platforms) > 1 {
			att.Platform = plat
		} else {
			att.Suffix = ".vex.json"
		}
		out = append(out, att)
	}
	if a.Platform != "" && len(out) == 0 {
		return nil, fmt.Errorf("openvex attachment: no image for platform %s", a.Platform)
	}
	return out, nil
}

var _ build.Attacher = Attacher{}
