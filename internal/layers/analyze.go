// Package layers measures where an image's bytes go: per layer, per path,
// in the final filesystem, and against a baseline image.
//
// # Reclaimable bytes
//
// For each path, reclaimable bytes are all the bytes any layer wrote to it
// minus the size of the copy visible in the final filesystem (zero when the
// path is gone). Whiteouts and opaque directories are applied as a
// container runtime applies them. Efficiency is the share of written bytes
// that the final filesystem still shows. docs/analyze.md derives both and
// sets them beside dive's numbers, which [Dive] reproduces.
package layers

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/image"
)

// SchemaVersion identifies the JSON form of [Analysis].
const SchemaVersion = "redline.dev/analyze/v1"

// Analysis is the full result of analyzing one image. Its JSON form is
// documented in docs/analyze.md.
type Analysis struct {
	SchemaVersion string    `json:"schemaVersion"`
	Image         ImageInfo `json:"image"`
	Summary       Summary   `json:"summary"`
	Layers        []Layer   `json:"layers"`
	// Waste lists every path with reclaimable bytes, most first.
	Waste []Waste `json:"waste"`
	// LargestFiles and LargestDirs are the top of the final filesystem.
	LargestFiles []File `json:"largestFiles"`
	LargestDirs  []Dir  `json:"largestDirs"`
	Config       Config `json:"config"`
	// Dive holds dive's metrics for the same image, for comparison.
	Dive DiveMetrics `json:"dive"`
	// Rules holds the CI gates evaluated, when any were given.
	Rules []RuleResult `json:"rules,omitempty"`
}

// ImageInfo identifies the image analyzed.
type ImageInfo struct {
	Ref       string    `json:"ref"`
	Name      string    `json:"name,omitempty"`
	Digest    string    `json:"digest,omitempty"`
	MediaType string    `json:"mediaType,omitempty"`
	Platform  string    `json:"platform,omitempty"`
	Created   time.Time `json:"created,omitzero"`
}

// Summary is the image at a glance.
type Summary struct {
	Layers int `json:"layers"`
	// CompressedBytes is the sum of the layer blobs as stored (what a pull
	// transfers); UncompressedBytes the sum of their tar streams.
	CompressedBytes   int64 `json:"compressedBytes"`
	UncompressedBytes int64 `json:"uncompressedBytes"`
	// WrittenBytes adds up every regular file every layer wrote;
	// FinalBytes the regular files of the final filesystem.
	WrittenBytes int64 `json:"writtenBytes"`
	FinalBytes   int64 `json:"finalBytes"`
	// Files counts non-directory paths of the final filesystem,
	// Directories its directories.
	Files       int `json:"files"`
	Directories int `json:"directories"`
	// ReclaimableBytes = WrittenBytes - FinalBytes.
	ReclaimableBytes int64 `json:"reclaimableBytes"`
	// Efficiency = FinalBytes / WrittenBytes (1 when nothing was written).
	Efficiency float64 `json:"efficiency"`
}

// Layer is one layer's measure.
type Layer struct {
	Index             int    `json:"index"`
	Digest            string `json:"digest"`
	DiffID            string `json:"diffID,omitempty"`
	MediaType         string `json:"mediaType,omitempty"`
	Compression       string `json:"compression"`
	CompressedBytes   int64  `json:"compressedBytes"`
	UncompressedBytes int64  `json:"uncompressedBytes"`
	// WrittenBytes are the regular-file bytes the layer holds.
	WrittenBytes int64  `json:"writtenBytes"`
	CreatedBy    string `json:"createdBy,omitempty"`
	Entries      int64  `json:"entries"`
	// Added, Modified and Removed count non-directory paths.
	Added    int `json:"added"`
	Modified int `json:"modified"`
	Removed  int `json:"removed"`
	// RemovedBytes are bytes of lower layers that this layer deleted.
	RemovedBytes int64 `json:"removedBytes"`
	// ShadowedBytes are bytes this layer wrote that a later layer (or this
	// one, writing the path twice) overwrote; DeletedBytes those a later
	// layer deleted. Both are reclaimable.
	ShadowedBytes int64 `json:"shadowedBytes"`
	DeletedBytes  int64 `json:"deletedBytes"`
}

// Waste is one path whose bytes are written more than they are kept.
type Waste struct {
	Path string `json:"path"`
	// Copies counts the layers that wrote the path as a regular file.
	Copies           int   `json:"copies"`
	WrittenBytes     int64 `json:"writtenBytes"`
	FinalBytes       int64 `json:"finalBytes"`
	ReclaimableBytes int64 `json:"reclaimableBytes"`
	// Layers lists every layer that wrote or deleted the path.
	Layers []int `json:"layers"`
	// Deleted is true when the path is absent from the final filesystem.
	Deleted bool `json:"deleted"`
}

// File is a regular file of the final filesystem.
type File struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Layer int    `json:"layer"`
}

// Dir is a directory of the final filesystem with everything below it.
type Dir struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Files int    `json:"files"`
}

// Config is the image configuration at a glance. Environment values are
// never shown: they may hold secrets.
type Config struct {
	User         string            `json:"user"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"workingDir,omitempty"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	EnvNames     []string          `json:"envNames,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	StopSignal   string            `json:"stopSignal,omitempty"`
	// EmptySteps are the history steps that made no layer.
	EmptySteps []image.EmptyStep `json:"emptySteps,omitempty"`
}

// Options tune [Analyze].
type Options struct {
	// Top is the length of the largest-files and largest-dirs lists.
	// Default 20.
	Top int
}

// Analyze measures an image from what one pass over it recorded.
func Analyze(img *image.Image, res *image.Result, o Options) (*Analysis, error) {
	top := o.Top
	if top <= 0 {
		top = 20
	}
	a := &Analysis{SchemaVersion: SchemaVersion, Image: imageInfo(img), Config: configOf(img)}
	a.Layers = make([]Layer, len(img.Layers))
	for i, l := range img.Layers {
		lr := res.Layers[i]
		ch := res.Tree.Changes(i)
		a.Layers[i] = Layer{
			Index: i, Digest: lr.Digest.String(), MediaType: string(l.MediaType),
			Compression: lr.Compression, CompressedBytes: lr.CompressedBytes,
			UncompressedBytes: lr.UncompressedBytes, WrittenBytes: lr.ContentBytes,
			Entries: lr.Entries, Added: ch.Added, Modified: ch.Modified, Removed: ch.Removed,
			RemovedBytes: ch.RemovedBytes, ShadowedBytes: ch.RewrittenBytes,
		}
		if lr.Digest.Hex == "" {
			a.Layers[i].Digest = ""
		}
		if l.DiffID.Hex != "" {
			a.Layers[i].DiffID = l.DiffID.String()
		}
		if l.History != nil {
			a.Layers[i].CreatedBy = RedactHistory(l.History.CreatedBy)
		}
		s := &a.Summary
		s.CompressedBytes += lr.CompressedBytes
		s.UncompressedBytes += lr.UncompressedBytes
		s.WrittenBytes += lr.ContentBytes
		s.ReclaimableBytes += ch.RewrittenBytes
	}
	a.Summary.Layers = len(img.Layers)

	files := &topN[File]{n: top, below: fileBelow}
	dirs := &topN[Dir]{n: top, below: dirBelow}
	type frame struct {
		bytes int64
		files int
	}
	var stack []frame
	err := res.Tree.Walk(image.WalkOptions{Post: func(h *image.PathHistory) error {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(stack) > 0 {
			stack[len(stack)-1].bytes += f.bytes
			stack[len(stack)-1].files += f.files
		}
		if h.Path != "/" && (h.Final != nil && h.Final.Kind == image.KindDir || h.Final == nil && f.files > 0) {
			a.Summary.Directories++
			dirs.add(Dir{Path: h.Path, Bytes: f.bytes, Files: f.files})
		}
		return nil
	}}, func(h *image.PathHistory) error {
		var fr frame
		var written int64
		var copies int
		var layers []int
		fin := h.Final
		for _, ev := range h.Events {
			if len(layers) == 0 || layers[len(layers)-1] != ev.Layer {
				layers = append(layers, ev.Layer)
			}
			if ev.Kind != image.KindFile {
				continue
			}
			copies++
			written += ev.Size
			switch {
			case fin != nil && fin.Layer == ev.Layer:
			case fin != nil:
				a.Layers[ev.Layer].ShadowedBytes += ev.Size
			default:
				a.Layers[ev.Layer].DeletedBytes += ev.Size
			}
		}
		var final int64
		if fin != nil && fin.Kind != image.KindDir {
			fr.files = 1
			a.Summary.Files++
			if fin.Kind == image.KindFile {
				final = fin.Size
				fr.bytes = final
				files.add(File{Path: h.Path, Bytes: final, Layer: fin.Layer})
			}
		}
		a.Summary.FinalBytes += final
		if r := written - final; r > 0 {
			a.Summary.ReclaimableBytes += r
			a.Waste = append(a.Waste, Waste{
				Path: h.Path, Copies: copies, WrittenBytes: written, FinalBytes: final,
				ReclaimableBytes: r, Layers: layers, Deleted: fin == nil,
			})
		}
		stack = append(stack, fr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(a.Waste, func(i, j int) bool { return a.Waste[i].ReclaimableBytes > a.Waste[j].ReclaimableBytes })
	a.LargestFiles = files.sorted()
	a.LargestDirs = dirs.sorted()
	a.Summary.Efficiency = 1
	if w := a.Summary.WrittenBytes; w > 0 {
		a.Summary.Efficiency = float64(w-a.Summary.ReclaimableBytes) / float64(w)
	}
	a.Dive = Dive(img, res)
	if a.Waste == nil {
		a.Waste = []Waste{}
	}
	return a, nil
}

func imageInfo(img *image.Image) ImageInfo {
	ii := ImageInfo{Ref: img.Ref, Name: img.Name, MediaType: string(img.MediaType), Created: img.Created()}
	if img.Digest.Hex != "" {
		ii.Digest = img.Digest.String()
	}
	if img.Platform != nil {
		ii.Platform = img.Platform.String()
	}
	return ii
}

func configOf(img *image.Image) Config {
	var c Config
	if img.Config == nil {
		return c
	}
	cfg := img.Config.Config
	c.User = cfg.User
	c.Entrypoint = cfg.Entrypoint
	c.Cmd = cfg.Cmd
	c.WorkingDir = cfg.WorkingDir
	c.StopSignal = cfg.StopSignal
	for p := range cfg.ExposedPorts {
		c.ExposedPorts = append(c.ExposedPorts, p)
	}
	slices.Sort(c.ExposedPorts)
	for _, e := range cfg.Env {
		name, _, _ := strings.Cut(e, "=")
		c.EnvNames = append(c.EnvNames, name)
	}
	if len(cfg.Labels) > 0 {
		c.Labels = cfg.Labels
	}
	c.EmptySteps = img.EmptyHistory()
	for i := range c.EmptySteps {
		c.EmptySteps[i].CreatedBy = RedactHistory(c.EmptySteps[i].CreatedBy)
	}
	return c
}

// topN keeps the n largest items with a min-heap, so memory stays bounded
// whatever the image holds.
type topN[T any] struct {
	n     int
	below func(a, b T) bool // a ranks below b
	items []T
}

func (t *topN[T]) Len() int           { return len(t.items) }
func (t *topN[T]) Less(i, j int) bool { return t.below(t.items[i], t.items[j]) }
func (t *topN[T]) Swap(i, j int)      { t.items[i], t.items[j] = t.items[j], t.items[i] }
func (t *topN[T]) Push(x any)         { t.items = append(t.items, x.(T)) }
func (t *topN[T]) Pop() any {
	x := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return x
}

func (t *topN[T]) add(x T) {
	if len(t.items) < t.n {
		heap.Push(t, x)
		return
	}
	if t.below(t.items[0], x) {
		t.items[0] = x
		heap.Fix(t, 0)
	}
}

// sorted returns the items, largest first.
func (t *topN[T]) sorted() []T {
	out := slices.Clone(t.items)
	sort.Slice(out, func(i, j int) bool { return t.below(out[j], out[i]) })
	if out == nil {
		out = []T{}
	}
	return out
}

func fileBelow(a, b File) bool {
	if a.Bytes != b.Bytes {
		return a.Bytes < b.Bytes
	}
	return a.Path > b.Path
}

func dirBelow(a, b Dir) bool {
	if a.Bytes != b.Bytes {
		return a.Bytes < b.Bytes
	}
	return a.Path > b.Path
}

// Run opens a target, makes the one pass over it and analyzes it. The tree
// is returned for comparisons.
func Run(ctx context.Context, t image.Target, o image.Options, po image.PassOptions, ao Options) (*Analysis, *image.Tree, error) {
	img, err := image.Open(ctx, t, o)
	if err != nil {
		return nil, nil, err
	}
	defer img.Close()
	res, err := image.Walk(ctx, img, po)
	if err != nil {
		return nil, nil, err
	}
	a, err := Analyze(img, res, ao)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", img.Ref, err)
	}
	return a, res.Tree, nil
}
