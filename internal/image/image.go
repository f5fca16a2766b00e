// Package image opens container images from any source redline supports and
// walks their layers in one streaming pass.
//
// # Sources
//
// [Open] takes a target in the syntax of DESIGN.md (docker-archive:FILE,
// oci-archive:FILE, oci-dir:DIR, registry:REF, docker:NAME, podman:NAME,
// dir:PATH, or a bare argument that [Resolve] turns into one of these) and
// returns an [Image]: its configuration, its manifest where the source has
// one, and for each layer the facts the source knows without reading the
// blob (digest, diff ID, media type, stored size) plus a way to open it.
//
// [Image] is redline's own small type rather than go-containerregistry's
// v1.Image: v1.Layer's Digest and Size force an uncompressed docker-archive
// layer to be compressed just to be described, which would double the cost
// of the pass. Registry sources still go through go-containerregistry.
//
// # The pass
//
// [Walk] decompresses each layer once (gzip, zstd or none, sniffed from the
// bytes), verifies its digest and diff ID while streaming, checks every entry
// against [Limits] and hostile names, records it in a compact [Tree] that
// resolves whiteouts and opaque directories, and offers it to every
// [Visitor]. Nothing is extracted to disk.
package image

import (
	"context"
	"errors"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is an opened image: what its source says about it, and its layers in
// order from the base up. Close releases files and connections the source
// holds.
type Image struct {
	// Ref is the target as resolved, with its scheme (e.g.
	// "oci-archive:app.tar").
	Ref string
	// Scheme is the source kind of Ref.
	Scheme Scheme
	// Name is the image name inside the source (a tag from an archive, the
	// registry reference), empty when the source has none.
	Name string
	// Digest is the manifest digest; zero when the source has no manifest
	// (docker-archive, dir).
	Digest v1.Hash
	// MediaType is the manifest media type; empty when there is none.
	MediaType types.MediaType
	// Platform is the platform of the chosen manifest when the target was
	// an index, else the platform the config declares.
	Platform *v1.Platform
	// Config is the image configuration. For a dir: target it is an empty
	// config with only the OS set.
	Config *v1.ConfigFile
	// ConfigSize is the size in bytes of the raw config blob (0 for dir:).
	ConfigSize int64
	// Layers are the filesystem layers, base first.
	Layers []*Layer

	closers []io.Closer
	// referrers lists attachments where the source keeps them.
	referrers referrerSource
}

// Layer is one filesystem layer as its source describes it.
type Layer struct {
	// Index is the layer's position, 0 for the base.
	Index int
	// Digest is the digest of the blob as stored. Zero when the source does
	// not name it (old docker-archive layout); [Walk] then computes it.
	Digest v1.Hash
	// DiffID is the digest of the uncompressed tar stream from the image
	// config; [Walk] verifies it. Zero for dir: targets.
	DiffID v1.Hash
	// MediaType is the layer media type from the manifest, or the one
	// sniffed from the bytes for docker-archive layers.
	MediaType types.MediaType
	// Size is the blob size as stored (compressed), -1 when unknown.
	Size int64
	// History is the history entry that produced this layer, nil when the
	// config has none for it.
	History *v1.History

	// open returns the layer blob as stored. dir: layers set walk instead.
	open func(ctx context.Context) (io.ReadCloser, error)
	// walk returns the entries of a layer that is not a tar blob.
	walk func(ctx context.Context) (entryReader, error)
}

// Close releases what the source holds open. It is safe to call twice.
func (img *Image) Close() error {
	var errs []error
	for _, c := range img.closers {
		errs = append(errs, c.Close())
	}
	img.closers = nil
	return errors.Join(errs...)
}

// Created returns the image creation time from the config, zero if unset.
func (img *Image) Created() time.Time {
	if img.Config == nil {
		return time.Time{}
	}
	return img.Config.Created.Time
}

// attachHistory pairs history entries with layers, skipping empty_layer
// entries. A history longer or shorter than the layers is tolerated: the
// layers without an entry keep a nil History.
func (img *Image) attachHistory() {
	if img.Config == nil {
		return
	}
	i := 0
	for h := range img.Config.History {
		if img.Config.History[h].EmptyLayer {
			continue
		}
		if i >= len(img.Layers) {
			return
		}
		hist := img.Config.History[h]
		img.Layers[i].History = &hist
		i++
	}
}

// EmptyHistory returns the history entries that made no layer (ENV, USER,
// ...), in order, with the index of the layer they follow (-1 before the
// first).
func (img *Image) EmptyHistory() []EmptyStep {
	if img.Config == nil {
		return nil
	}
	var out []EmptyStep
	layer := -1
	for _, h := range img.Config.History {
		if !h.EmptyLayer {
			layer++
			continue
		}
		out = append(out, EmptyStep{After: layer, CreatedBy: h.CreatedBy})
	}
	return out
}

// EmptyStep is a history entry that produced no layer.
type EmptyStep struct {
	After     int    `json:"after"`
	CreatedBy string `json:"createdBy"`
}
