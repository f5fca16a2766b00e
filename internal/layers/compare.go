package layers

import (
	"path"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/image"
)

// CompareSchemaVersion identifies the JSON form of [Comparison].
const CompareSchemaVersion = "redline.dev/compare/v1"

// Comparison is the slimming report of an image against a baseline.
type Comparison struct {
	SchemaVersion string    `json:"schemaVersion"`
	Baseline      Side      `json:"baseline"`
	Image         Side      `json:"image"`
	Reduction     Reduction `json:"reduction"`
	// Removed and Added list files present in only one of the two final
	// filesystems, largest first; RemovedDirs and AddedDirs add them up
	// by directory (up to three levels deep).
	Removed     []File `json:"removed"`
	Added       []File `json:"added"`
	RemovedDirs []Dir  `json:"removedDirs"`
	AddedDirs   []Dir  `json:"addedDirs"`
	// Changed counts files in both whose size differs; ChangedBytes is the
	// net change of their sizes.
	Changed      int   `json:"changed"`
	ChangedBytes int64 `json:"changedBytes"`
}

// Side is one image of a comparison.
type Side struct {
	Image   ImageInfo `json:"image"`
	Summary Summary   `json:"summary"`
	Layers  []Layer   `json:"layers"`
}

// Reduction says how much smaller the image is than the baseline; positive
// percentages mean smaller.
type Reduction struct {
	CompressedBytes     int64   `json:"compressedBytes"`
	CompressedPercent   float64 `json:"compressedPercent"`
	UncompressedBytes   int64   `json:"uncompressedBytes"`
	UncompressedPercent float64 `json:"uncompressedPercent"`
	FinalBytes          int64   `json:"finalBytes"`
	FinalPercent        float64 `json:"finalPercent"`
	Files               int     `json:"files"`
}

// Compare builds the slimming report. base and img are the analyses; the
// trees are the final filesystems they were made from.
func Compare(base *Analysis, baseTree *image.Tree, img *Analysis, imgTree *image.Tree, top int) (*Comparison, error) {
	if top <= 0 {
		top = 20
	}
	c := &Comparison{
		SchemaVersion: CompareSchemaVersion,
		Baseline:      Side{Image: base.Image, Summary: base.Summary, Layers: base.Layers},
		Image:         Side{Image: img.Image, Summary: img.Summary, Layers: img.Layers},
	}
	r := &c.Reduction
	r.CompressedBytes = base.Summary.CompressedBytes - img.Summary.CompressedBytes
	r.CompressedPercent = percent(r.CompressedBytes, base.Summary.CompressedBytes)
	r.UncompressedBytes = base.Summary.UncompressedBytes - img.Summary.UncompressedBytes
	r.UncompressedPercent = percent(r.UncompressedBytes, base.Summary.UncompressedBytes)
	r.FinalBytes = base.Summary.FinalBytes - img.Summary.FinalBytes
	r.FinalPercent = percent(r.FinalBytes, base.Summary.FinalBytes)
	r.Files = base.Summary.Files - img.Summary.Files

	// The baseline's files are held in a map while the image's stream past:
	// memory grows with the baseline's entries, never with bytes.
	baseFiles := map[string]File{}
	err := baseTree.Walk(image.WalkOptions{}, func(h *image.PathHistory) error {
		if f := h.Final; f != nil && f.Kind != image.KindDir {
			baseFiles[h.Path] = File{Path: h.Path, Bytes: f.Size, Layer: f.Layer}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	added := &topN[File]{n: top, below: fileBelow}
	addedDirs := map[string]*Dir{}
	err = imgTree.Walk(image.WalkOptions{}, func(h *image.PathHistory) error {
		f := h.Final
		if f == nil || f.Kind == image.KindDir {
			return nil
		}
		if b, ok := baseFiles[h.Path]; ok {
			delete(baseFiles, h.Path)
			if b.Bytes != f.Size {
				c.Changed++
				c.ChangedBytes += f.Size - b.Bytes
			}
			return nil
		}
		file := File{Path: h.Path, Bytes: f.Size, Layer: f.Layer}
		added.add(file)
		addToDirs(addedDirs, file)
		return nil
	})
	if err != nil {
		return nil, err
	}
	removed := &topN[File]{n: top, below: fileBelow}
	removedDirs := map[string]*Dir{}
	for _, f := range baseFiles {
		removed.add(f)
		addToDirs(removedDirs, f)
	}
	c.Added, c.Removed = added.sorted(), removed.sorted()
	c.AddedDirs, c.RemovedDirs = topDirsOf(addedDirs, top), topDirsOf(removedDirs, top)
	return c, nil
}

func percent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) * 100 / float64(whole)
}

// maxDirDepth bounds the directories a comparison adds up: deeper ones
// repeat what their parents say.
const maxDirDepth = 3

func addToDirs(dirs map[string]*Dir, f File) {
	d := path.Dir(f.Path)
	for d != "/" {
		if strings.Count(d, "/") <= maxDirDepth {
			e := dirs[d]
			if e == nil {
				e = &Dir{Path: d}
				dirs[d] = e
			}
			e.Bytes += f.Bytes
			e.Files++
		}
		d = path.Dir(d)
	}
}

func topDirsOf(dirs map[string]*Dir, top int) []Dir {
	out := make([]Dir, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return dirBelow(out[j], out[i]) })
	if len(out) > top {
		out = out[:top]
	}
	return out
}
