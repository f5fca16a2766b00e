package layers

import (
	"github.com/redline-go/redline/internal/image"
)

// DiveMetrics are dive's numbers for an image, computed the way dive
// computes them, so users moving from dive can compare. docs/analyze.md
// explains where they mislead.
type DiveMetrics struct {
	// Efficiency is dive's score: the sum over paths of the smallest copy
	// seen, over the sum of all copies.
	Efficiency float64 `json:"efficiency"`
	// WastedBytes adds up every copy, the kept one included, of each path
	// that appears in more than one layer.
	WastedBytes int64 `json:"wastedBytes"`
	// UserWastedPercent is WastedBytes over the bytes of every layer but
	// the first, as a ratio (0.1 = 10%); 0 when there are no such bytes.
	UserWastedPercent float64 `json:"userWastedPercent"`
	// SizeBytes adds up the entry sizes of all layers; UserSizeBytes of all
	// but the first.
	SizeBytes     int64 `json:"sizeBytes"`
	UserSizeBytes int64 `json:"userSizeBytes"`
}

// Dive computes dive's metrics. It follows dive's rules, errors included:
// only entries with no child entry in the same layer count; opaque markers
// are ignored; a whiteout of a directory counts the bytes below it, a
// whiteout of a file counts nothing; and a path's smallest copy, not its
// final one, is taken as needed.
func Dive(img *image.Image, res *image.Result) DiveMetrics {
	var m DiveMetrics
	for i, lr := range res.Layers {
		m.SizeBytes += lr.ContentBytes
		if i > 0 {
			m.UserSizeBytes += lr.ContentBytes
		}
	}
	words := (len(res.Layers) + 63) / 64
	var stack [][]uint64
	var minSum, cumSum int64
	tree := res.Tree
	_ = tree.Walk(image.WalkOptions{IgnoreOpaque: true, Post: func(h *image.PathHistory) error {
		below := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var cum, minSize int64 = 0, -1
		nodes := 0
		for i, ev := range h.Events {
			// One node per path and layer: the layer's last entry wins.
			if i+1 < len(h.Events) && h.Events[i+1].Layer == ev.Layer {
				continue
			}
			if below[ev.Layer/64]&(1<<(ev.Layer%64)) != 0 {
				continue // not a leaf in that layer's tree
			}
			var size int64
			switch ev.Kind {
			case image.KindWhiteout:
				if b, dir := tree.SubtreeBytes(h.Path, ev.Layer, true); dir {
					size = b
				}
			case image.KindFile:
				size = ev.Size
			}
			nodes++
			cum += size
			if minSize < 0 || size < minSize {
				minSize = size
			}
		}
		if nodes > 0 {
			cumSum += cum
			minSum += minSize
			if nodes >= 2 {
				m.WastedBytes += cum
			}
		}
		if len(stack) > 0 {
			parent := stack[len(stack)-1]
			for i := range parent {
				parent[i] |= below[i]
			}
			for _, ev := range h.Events {
				parent[ev.Layer/64] |= 1 << (ev.Layer % 64)
			}
		}
		return nil
	}}, func(*image.PathHistory) error {
		stack = append(stack, make([]uint64, words))
		return nil
	})
	m.Efficiency = 1
	if cumSum > 0 {
		m.Efficiency = float64(minSum) / float64(cumSum)
	}
	if m.UserSizeBytes > 0 {
		m.UserWastedPercent = float64(m.WastedBytes) / float64(m.UserSizeBytes)
	}
	return m
}
