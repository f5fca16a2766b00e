package scan

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// attachedVEX is an OpenVEX document read from an image's referrer.
type attachedVEX struct {
	doc    *vex.Document
	digest string // the referrer manifest's
	source string // what it was derived from (vex.AnnotationSource)
}

// referrerVEX reads the OpenVEX documents attached to img as referrers
// (`redline build`/`check` attach the source analysis of the module the
// image was built from). A referrer that cannot be listed, read or parsed
// is a warning and is not applied: it can only suppress findings, so
// leaving it out never hides one.
func referrerVEX(ctx context.Context, img *image.Image, o Options) ([]attachedVEX, []string) {
	refs, err := img.Referrers(ctx, vex.ArtifactType)
	if err != nil {
		return nil, []string{fmt.Sprintf("reading the image's referrers: %v; attached OpenVEX not applied", err)}
	}
	var out []attachedVEX
	var warnings []string
	for _, ref := range refs {
		b, err := ref.Read(ctx, o.MaxReferrerBytes)
		if err == nil {
			var doc *vex.Document
			if doc, err = vex.Read(bytes.NewReader(b)); err == nil {
				if doc.ID == "" {
					doc.ID = "referrer:" + ref.Digest.String()
				}
				out = append(out, attachedVEX{doc: doc, digest: ref.Digest.String(), source: ref.Annotations[vex.AnnotationSource]})
				continue
			}
		}
		warnings = append(warnings, fmt.Sprintf("OpenVEX referrer %s not applied: %v", ref.Digest, err))
	}
	return out, warnings
}

// appliedNotes says, for each attached document, how many findings its
// statements suppressed.
func appliedNotes(attached []attachedVEX, fs []vuln.Finding) []string {
	var out []string
	for _, a := range attached {
		count := 0
		for _, f := range fs {
			if f.Suppressed != nil && strings.HasPrefix(f.Suppressed.Statement, a.doc.ID+"#") {
				count++
			}
		}
		what := "attached OpenVEX"
		if a.source != "" {
			what = "source analysis of " + a.source
		}
		out = append(out, fmt.Sprintf("applied OpenVEX from referrer %s (%s): %d findings suppressed", a.digest, what, count))
	}
	return out
}
