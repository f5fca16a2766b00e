package encode

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/sbom"
)

// ErrInvalid reports an SBOM whose references do not hold together: an empty
// or duplicate component ID, or a relationship naming an ID that is neither
// the subject, a component nor a file a component owns. It is a bug in the
// producer, not in the scanned content.
var ErrInvalid = errors.New("encode: invalid sbom")

// defaultSubjectID names the subject in the standard formats when the model
// leaves Subject.ID empty.
const defaultSubjectID = "subject"

// doc is an SBOM made ready for the standard formats: a sorted copy whose
// references are checked, with the derived values every format shares.
type doc struct {
	s         *sbom.SBOM
	subjectID string
	byID      map[string]*sbom.Component
	// edges are the relationships between the subject and components,
	// de-duplicated, in the model's sort order. File edges are not here:
	// they come from Component.Files.
	edges []sbom.Relationship
	// created is the document time: SBOM.Created, else the subject's, else
	// the Unix epoch; UTC, whole seconds (SPDX allows no fraction).
	created time.Time
	// uuid is a name-based (version 5) UUID of the SBOM's content, so the
	// same SBOM gets the same serial number and namespace, and any change
	// of content or tool version gets new ones.
	uuid string
}

// prepare sorts a copy of s and checks its references. s is not modified.
func prepare(s *sbom.SBOM) (*doc, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil", ErrInvalid)
	}
	c := *s
	c.Components = slices.Clone(s.Components)
	c.Relationships = slices.Clone(s.Relationships)
	c.Warnings = slices.Clone(s.Warnings)
	c.Sort()

	d := &doc{s: &c, subjectID: c.Subject.ID, byID: make(map[string]*sbom.Component, len(c.Components))}
	if d.subjectID == "" {
		d.subjectID = defaultSubjectID
	}
	files := map[string]string{} // file ID -> owner ID
	for i := range c.Components {
		comp := &c.Components[i]
		switch {
		case comp.ID == "":
			return nil, fmt.Errorf("%w: component %q %q has no ID", ErrInvalid, comp.Type, comp.Name)
		case comp.ID == d.subjectID:
			return nil, fmt.Errorf("%w: component ID %q is the subject's", ErrInvalid, comp.ID)
		case d.byID[comp.ID] != nil:
			return nil, fmt.Errorf("%w: duplicate component ID %q", ErrInvalid, comp.ID)
		}
		d.byID[comp.ID] = comp
		for _, f := range comp.Files {
			files[sbom.FileID(comp.ID, f)] = comp.ID
		}
	}
	known := func(id string) bool { return id == d.subjectID || d.byID[id] != nil }
	seen := map[sbom.Relationship]bool{}
	for _, r := range c.Relationships {
		if r.Type != sbom.RelContains && r.Type != sbom.RelDependsOn {
			return nil, fmt.Errorf("%w: relationship %q -> %q: unknown type %q", ErrInvalid, r.From, r.To, r.Type)
		}
		if !known(r.From) {
			return nil, fmt.Errorf("%w: relationship %q %s %q: unknown ID %q", ErrInvalid, r.From, r.Type, r.To, r.From)
		}
		if owner, ok := files[r.To]; ok && owner == r.From && r.Type == sbom.RelContains {
			continue // derived from Component.Files
		}
		if !known(r.To) {
			return nil, fmt.Errorf("%w: relationship %q %s %q: unknown ID %q", ErrInvalid, r.From, r.Type, r.To, r.To)
		}
		if r.From == r.To || seen[r] {
			continue
		}
		seen[r] = true
		d.edges = append(d.edges, r)
	}

	switch {
	case !c.Created.IsZero():
		d.created = c.Created
	case !c.Subject.Created.IsZero():
		d.created = c.Subject.Created
	default:
		d.created = time.Unix(0, 0)
	}
	d.created = d.created.UTC().Truncate(time.Second)

	// The content hash covers the sorted model, tool version included.
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode: hashing sbom: %w", err)
	}
	sum := sha256.Sum256(b)
	d.uuid = uuidV5(namespaceURL, "https://redline.dev/sbom/sha256:"+hex.EncodeToString(sum[:]))
	return d, nil
}

// timestamp is the document time in the form both standards accept.
func (d *doc) timestamp() string { return d.created.Format("2006-01-02T15:04:05Z") }

// toolName and toolVersion name the producer, defaulting to redline.
func (d *doc) toolName() string {
	if d.s.Tool.Name != "" {
		return d.s.Tool.Name
	}
	return "redline"
}

// subjectName is what the subject is called in the documents.
func (d *doc) subjectName() string {
	switch {
	case d.s.Subject.Name != "":
		return d.s.Subject.Name
	case d.s.Subject.Ref != "":
		return d.s.Subject.Ref
	}
	return "unknown"
}

// namespaceURL is RFC 9562's name space ID for URLs.
var namespaceURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// uuidV5 returns the RFC 9562 version 5 UUID of name in name space ns.
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// goHash turns a Go checksum database hash ("h1:" and the base64 of a
// SHA-256) into lower-case hex. ok is false for any other form.
func goHash(h string) (hexSum string, ok bool) {
	b64, found := strings.CutPrefix(h, "h1:")
	if !found {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != sha256.Size {
		return "", false
	}
	return hex.EncodeToString(b), true
}

// digest splits an OCI-style digest ("sha256:hex") into algorithm and hex.
// ok is false for algorithms the standards cannot name or a malformed hex.
func digest(d string) (alg, hexSum string, ok bool) {
	alg, hexSum, found := strings.Cut(d, ":")
	if !found {
		return "", "", false
	}
	want := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if want == 0 || len(hexSum) != want {
		return "", "", false
	}
	if _, err := hex.DecodeString(hexSum); err != nil {
		return "", "", false
	}
	return alg, strings.ToLower(hexSum), true
}
