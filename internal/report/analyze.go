// Package report renders redline's results for people (table) and
// machines (JSON). Tables fit an 80-column terminal.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redline-go/redline/internal/layers"
)

// Width is the terminal width tables are laid out for.
const Width = 80

// TableOptions tune the analyze tables.
type TableOptions struct {
	// Top bounds the waste, file and directory lists. Default 10.
	Top int
	// DiveCompat adds dive's metrics beside redline's.
	DiveCompat bool
}

func (o TableOptions) top() int {
	if o.Top <= 0 {
		return 10
	}
	return o.Top
}

// JSON writes v as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

var hb = layers.HumanBytes

// AnalysisTable writes the analyze report.
func AnalysisTable(w io.Writer, a *layers.Analysis, o TableOptions) error {
	p := &printer{w: w}
	header(p, a.Image)
	s := a.Summary
	p.section("SUMMARY")
	p.kv("layers", strconv.Itoa(s.Layers), "")
	p.kv("compressed", hb(s.CompressedBytes), "layer blobs as stored and pulled")
	p.kv("uncompressed", hb(s.UncompressedBytes), "layer tar streams")
	p.kv("written", hb(s.WrittenBytes), "file bytes all layers wrote")
	p.kv("final", hb(s.FinalBytes), "file bytes the final filesystem shows")
	p.kv("files", fmt.Sprintf("%d in %d directories", s.Files, s.Directories), "")
	p.kv("reclaimable", hb(s.ReclaimableBytes), fmt.Sprintf("%s of written: overwritten or deleted later", pct(s.ReclaimableBytes, s.WrittenBytes)))
	p.kv("efficiency", fmt.Sprintf("%.1f%%", s.Efficiency*100), "final / written")
	if o.DiveCompat {
		d := a.Dive
		p.section("DIVE-COMPATIBLE METRICS (see docs/analyze.md for why they differ)")
		p.kv("efficiency", fmt.Sprintf("%.1f%%", d.Efficiency*100), "smallest copy / all copies, per path")
		p.kv("wasted", hb(d.WastedBytes), "every copy of each path seen twice")
		p.kv("user wasted", fmt.Sprintf("%.1f%%", d.UserWastedPercent*100), "wasted / bytes after the first layer")
	}

	p.section("LAYERS")
	p.line("  #    COMPRESSED  UNCOMPR.   +ADD   ~MOD   -DEL     WASTED  DIGEST")
	for _, l := range a.Layers {
		p.line(fmt.Sprintf("%3d  %12s %9s %6d %6d %6d %10s  %s",
			l.Index, hb(l.CompressedBytes), hb(l.UncompressedBytes),
			l.Added, l.Modified, l.Removed, hb(l.ShadowedBytes+l.DeletedBytes), shortDigest(l.Digest)))
		if cb := oneLine(l.CreatedBy); cb != "" {
			p.line(clip("       "+cb, Width))
		}
	}
	p.note("WASTED: bytes a layer wrote that later layers overwrote or deleted.")

	p.section(fmt.Sprintf("WASTE (%d paths, %s reclaimable)", len(a.Waste), hb(s.ReclaimableBytes)))
	if len(a.Waste) == 0 {
		p.note("nothing: every byte written is in the final filesystem.")
	} else {
		p.line("  RECLAIMABLE  COPIES  LAYERS      PATH")
		for _, ws := range a.Waste[:min(len(a.Waste), o.top())] {
			path := ws.Path
			if ws.Deleted {
				path += " (deleted)"
			}
			row := fmt.Sprintf("  %11s  %6d  %-10s  ", hb(ws.ReclaimableBytes), ws.Copies, clip(intList(ws.Layers), 10))
			p.line(row + clipLeft(path, Width-len(row)))
		}
		if len(a.Waste) > o.top() {
			p.note(fmt.Sprintf("... %d more in -o json", len(a.Waste)-o.top()))
		}
	}

	p.section("LARGEST FILES")
	p.line("         SIZE  LAYER  PATH")
	for _, f := range a.LargestFiles[:min(len(a.LargestFiles), o.top())] {
		row := fmt.Sprintf("  %11s  %5d  ", hb(f.Bytes), f.Layer)
		p.line(row + clipLeft(f.Path, Width-len(row)))
	}
	p.section("LARGEST DIRECTORIES")
	p.line("         SIZE   FILES  PATH")
	for _, d := range a.LargestDirs[:min(len(a.LargestDirs), o.top())] {
		row := fmt.Sprintf("  %11s  %6d  ", hb(d.Bytes), d.Files)
		p.line(row + clipLeft(d.Path, Width-len(row)))
	}

	configTable(p, a.Config)
	rulesTable(p, a.Rules)
	return p.err
}

func header(p *printer, ii layers.ImageInfo) {
	title := "redline analyze  " + ii.Ref
	p.line(clip(title, Width))
	var facts []string
	if ii.Name != "" && !strings.Contains(ii.Ref, ii.Name) {
		facts = append(facts, ii.Name)
	}
	if ii.Platform != "" {
		facts = append(facts, ii.Platform)
	}
	if !ii.Created.IsZero() {
		facts = append(facts, "created "+ii.Created.UTC().Format("2006-01-02 15:04"))
	}
	if len(facts) > 0 {
		p.line(clip(strings.Join(facts, "  ·  "), Width))
	}
	if ii.Digest != "" {
		p.line(clip("digest "+ii.Digest, Width))
	}
}

func configTable(p *printer, c layers.Config) {
	p.section("CONFIG")
	user := c.User
	if user == "" {
		user = "(unset: runs as root)"
	}
	p.kv("user", user, "")
	if len(c.Entrypoint) > 0 {
		p.kv("entrypoint", jsonList(c.Entrypoint), "")
	}
	if len(c.Cmd) > 0 {
		p.kv("cmd", jsonList(c.Cmd), "")
	}
	if c.WorkingDir != "" {
		p.kv("workdir", c.WorkingDir, "")
	}
	if len(c.ExposedPorts) > 0 {
		p.kv("ports", strings.Join(c.ExposedPorts, " "), "")
	}
	if len(c.EnvNames) > 0 {
		p.kv("env", strings.Join(c.EnvNames, " "), "")
	}
	for _, k := range sortedKeys(c.Labels) {
		p.kv("label", k+"="+c.Labels[k], "")
	}
}

func rulesTable(p *printer, rules []layers.RuleResult) {
	if len(rules) == 0 {
		return
	}
	p.section("CI RULES (measured by " + rules[0].Measure + ")")
	for _, r := range rules {
		mark := "PASS"
		if !r.Pass {
			mark = "FAIL"
		}
		p.line(clip(fmt.Sprintf("  %s  %-25s %s", mark, r.Name, r.Message), Width))
	}
}

// ComparisonTable writes the slimming report.
func ComparisonTable(w io.Writer, c *layers.Comparison, o TableOptions) error {
	p := &printer{w: w}
	p.line(clip("redline analyze --compare", Width))
	p.line(clip("  baseline  "+c.Baseline.Image.Ref, Width))
	p.line(clip("  image     "+c.Image.Image.Ref, Width))
	p.section("SIZE")
	p.line("                       BASELINE        IMAGE       SAVED  REDUCTION")
	b, i, r := c.Baseline.Summary, c.Image.Summary, c.Reduction
	row := func(name string, bv, iv, saved int64, pc float64) {
		p.line(fmt.Sprintf("  %-16s %12s %12s %11s  %8.1f%%", name, hb(bv), hb(iv), hb(saved), pc))
	}
	row("compressed", b.CompressedBytes, i.CompressedBytes, r.CompressedBytes, r.CompressedPercent)
	row("uncompressed", b.UncompressedBytes, i.UncompressedBytes, r.UncompressedBytes, r.UncompressedPercent)
	row("final files", b.FinalBytes, i.FinalBytes, r.FinalBytes, r.FinalPercent)
	p.line(fmt.Sprintf("  %-16s %12d %12d %11d", "files", b.Files, i.Files, r.Files))
	p.line(fmt.Sprintf("  %-16s %12d %12d", "layers", b.Layers, i.Layers))
	p.line(fmt.Sprintf("  %-16s %11.1f%% %11.1f%%", "efficiency", b.Efficiency*100, i.Efficiency*100))
	verdict := fmt.Sprintf("The image is %.1f%% smaller than the baseline (compressed).", r.CompressedPercent)
	if r.CompressedPercent < 0 {
		verdict = fmt.Sprintf("The image is %.1f%% LARGER than the baseline (compressed).", -r.CompressedPercent)
	}
	p.line("")
	p.line("  " + verdict)

	for _, side := range []struct {
		name string
		s    layers.Side
	}{{"BASELINE LAYERS", c.Baseline}, {"IMAGE LAYERS", c.Image}} {
		p.section(side.name)
		p.line("  #   COMPRESSED  UNCOMPR.  CREATED BY")
		for _, l := range side.s.Layers {
			row := fmt.Sprintf("%3d  %11s %9s  ", l.Index, hb(l.CompressedBytes), hb(l.UncompressedBytes))
			p.line(row + clip(oneLine(l.CreatedBy), Width-len(row)))
		}
	}
	dirFiles := func(title string, dirs []layers.Dir, files []layers.File) {
		p.section(title)
		if len(dirs) == 0 && len(files) == 0 {
			p.note("nothing")
			return
		}
		for _, d := range dirs[:min(len(dirs), o.top())] {
			row := fmt.Sprintf("  %11s  %6d files  ", hb(d.Bytes), d.Files)
			p.line(row + clipLeft(d.Path+"/", Width-len(row)))
		}
		if len(dirs) > 0 {
			p.line("")
		}
		for _, f := range files[:min(len(files), o.top())] {
			row := fmt.Sprintf("  %11s  ", hb(f.Bytes))
			p.line(row + clipLeft(f.Path, Width-len(row)))
		}
	}
	dirFiles("GONE (in the baseline only)", c.RemovedDirs, c.Removed)
	dirFiles("NEW (in the image only)", c.AddedDirs, c.Added)
	if c.Changed > 0 {
		p.section("CHANGED")
		p.note(fmt.Sprintf("%d files in both changed size by %s in all", c.Changed, hb(c.ChangedBytes)))
	}
	return p.err
}

// printer writes lines and remembers the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, strings.TrimRight(s, " ")+"\n")
	}
}

func (p *printer) section(title string) {
	p.line("")
	p.line(clip(title, Width))
}

func (p *printer) kv(k, v, note string) {
	s := fmt.Sprintf("  %-14s %-14s", k, v)
	if note != "" {
		s += "  " + note
	}
	p.line(clip(s, Width))
}

func (p *printer) note(s string) { p.line(clip("  "+s, Width)) }

func shortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) >= 12 {
		return hex[:12]
	}
	if d == "" {
		return "-"
	}
	return d
}

func pct(part, whole int64) string {
	if whole == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", float64(part)*100/float64(whole))
}

// clip shortens s to n runes, marking the cut with "…".
func clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// clipLeft keeps the end of s (the file name matters most in a path).
func clipLeft(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-n+1:])
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimPrefix(s, "/bin/sh -c ")
	return strings.TrimPrefix(s, "#(nop) ")
}

func intList(xs []int) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

func jsonList(xs []string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
