package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/redline-go/redline/bench/internal/harness"
	"github.com/redline-go/redline/bench/internal/measure"
)

type report struct {
	root, out, debRoot    string
	loadBefore, loadAfter string
	imgs                  []*builtImage
	tools                 []*tool
	founds                map[string]*found
	samples               map[string]measure.Samples
	notes                 []string
	imageBins             map[string]string
}

// maxListed bounds each difference list in the markdown; the full lists
// are in OUT/diff-*.txt.
const maxListed = 40

// The medians of the runs of key (TOOL|IMAGE).
func (r *report) wall(key string) time.Duration { return r.samples[key].Wall() }
func (r *report) cpu(key string) time.Duration  { return r.samples[key].CPU() }
func (r *report) rss(key string) int64          { return r.samples[key].RSS() }

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "Run of %s (`go run ./bench/sbom`, %d measured runs, median).\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), *runsFlag)
	r.machine(w)
	r.images(w)
	r.results(w)
	r.targets(w)
	r.differences(w)
	if len(r.notes) > 0 {
		fmt.Fprintf(w, "\n### What failed or was skipped\n\n")
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func (r *report) machine(w io.Writer) {
	fmt.Fprintf(w, "### Machine and versions\n\n| | |\n|---|---|\n")
	cpu := "?"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	fmt.Fprintf(w, "| CPU | %d × %s |\n", runtime.NumCPU(), cpu)
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				var kib int64
				fmt.Sscan(strings.TrimPrefix(l, "MemTotal:"), &kib)
				fmt.Fprintf(w, "| memory | %.1f GiB |\n", float64(kib)/(1<<20))
			}
		}
	}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		fmt.Fprintf(w, "| kernel | Linux %s |\n", strings.TrimSpace(string(raw)))
	}
	fmt.Fprintf(w, "| load average (1, 5, 15 min) | %s before the measured runs, %s after (2 cores: above 2 means other work shared the CPUs) |\n", r.loadBefore, r.loadAfter)
	if v, err := exec.Command("go", "version").Output(); err == nil {
		fmt.Fprintf(w, "| Go | %s |\n", strings.TrimSpace(string(v)))
	}
	for _, t := range r.tools {
		how := ""
		switch t.name {
		case "syft":
			how = fmt.Sprintf(" (`GOFLAGS= go install %s@%s`)", syftModule, syftVersion)
		case "trivy":
			how = fmt.Sprintf(" (`GOEXPERIMENT=jsonv2 go install %s@%s`)", trivyModule, trivyVer)
		case "redline":
			how = " (`go build -buildvcs=false ./cmd/redline`)"
		}
		fmt.Fprintf(w, "| %s | %s%s |\n", t.name, t.version, how)
	}
	fmt.Fprintf(w, "| commands | ")
	for i, t := range r.tools {
		if i > 0 {
			fmt.Fprintf(w, "; ")
		}
		args := t.args("IMAGE.tar")
		if t.perRun != nil {
			extra, cleanup := t.perRun()
			cleanup()
			for i, a := range extra {
				if a == "" {
					extra[i] = `""`
				} else if strings.HasPrefix(a, os.TempDir()) {
					extra[i] = "FRESH_DIR"
				}
			}
			args = append(args, extra...)
		}
		for i, a := range args {
			if a == "" {
				args[i] = `""`
			}
		}
		fmt.Fprintf(w, "`%s %s`", t.name, strings.Join(args, " "))
	}
	fmt.Fprintf(w, " |\n")
}

func (r *report) images(w io.Writer) {
	fmt.Fprintf(w, "\n### Images\n\ndocker-archives (manifest.json, config, gzip layer blobs) under `%s`; the Debian root is %s.\n\n", rel(r.root, r.out), r.debRoot)
	fmt.Fprintf(w, "| image | layers | tar (uncompressed) | gzip blobs | Go binaries |\n|---|---:|---:|---:|---|\n")
	for _, b := range r.imgs {
		var bins []string
		for _, p := range b.binaries {
			src := r.imageBins[p]
			if src == "" {
				src = r.imageBins["/usr/local/bin/"+filepath.Base(p)]
			}
			sz := ""
			if st, err := os.Stat(src); err == nil {
				sz = " " + harness.Human(st.Size())
			}
			v := moduleVersion(src)
			if v != "" {
				v = " " + v
			}
			bins = append(bins, fmt.Sprintf("`%s`%s%s", p, v, sz))
		}
		layers, tarSz, gzSz := "?", "?", "?"
		if len(b.layers) > 0 {
			layers = fmt.Sprint(len(b.layers))
			tarSz, gzSz = harness.Human(b.tarBytes()), harness.Human(b.blobBytes())
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", b.name, layers, tarSz, gzSz, strings.Join(bins, ", "))
	}
}

func (r *report) results(w io.Writer) {
	fmt.Fprintf(w, "\n### Results\n\nMedian of %d runs after one untimed run; peak RSS is the child's `ru_maxrss` through the `-child` wrapper. "+
		"Go modules: (binary, module@version) pairs, then distinct module@version, stdlib and main modules included.\n\n", *runsFlag)
	fmt.Fprintf(w, "| tool | image | wall s | (min–max) | peak RSS MiB | CPU s | Go modules (pairs / distinct) | debs | wall / syft | RSS / syft |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, b := range r.imgs {
		if k := "gzip|" + b.name; len(r.samples[k]) > 0 {
			ratioT := "—"
			if sk := "syft|" + b.name; len(r.samples[sk]) > 0 {
				ratioT = fmt.Sprintf("%.3f (1/%.1f)", r.wall(k).Seconds()/r.wall(sk).Seconds(), r.wall(sk).Seconds()/r.wall(k).Seconds())
			}
			lo, hi := r.samples[k].WallRange()
			fmt.Fprintf(w, "| gzip -dc per layer blob, summed (floor) | %s | %.2f | %.2f–%.2f | %.1f | %.2f | — | — | %s | — |\n",
				b.name, r.wall(k).Seconds(), lo.Seconds(), hi.Seconds(), float64(r.rss(k))/1024, r.cpu(k).Seconds(), ratioT)
		}
		for _, t := range r.tools {
			k := t.name + "|" + b.name
			f := r.founds[k]
			if f == nil || len(r.samples[k]) == 0 {
				fmt.Fprintf(w, "| %s | %s | failed | | | | | | | |\n", t.name, b.name)
				continue
			}
			lo, hi := r.samples[k].WallRange()
			ratioT, ratioM := "—", "—"
			if sk := "syft|" + b.name; len(r.samples[sk]) > 0 && t.name != "syft" {
				ratioT = fmt.Sprintf("%.3f (1/%.1f)", r.wall(k).Seconds()/r.wall(sk).Seconds(), r.wall(sk).Seconds()/r.wall(k).Seconds())
				ratioM = fmt.Sprintf("%.3f (1/%.1f)", float64(r.rss(k))/float64(r.rss(sk)), float64(r.rss(sk))/float64(r.rss(k)))
			}
			fmt.Fprintf(w, "| %s | %s | %.2f | %.2f–%.2f | %.1f | %.2f | %d / %d | %d | %s | %s |\n",
				t.name, b.name, r.wall(k).Seconds(), lo.Seconds(), hi.Seconds(), float64(r.rss(k))/1024, r.cpu(k).Seconds(),
				len(f.goPairs), len(f.goModules()), len(f.debs), ratioT, ratioM)
		}
	}
	// Per binary.
	fmt.Fprintf(w, "\nGo modules per binary (stdlib and main module included):\n\n| image | binary |")
	for _, t := range r.tools {
		fmt.Fprintf(w, " %s |", t.name)
	}
	fmt.Fprintf(w, "\n|---|---|")
	for range r.tools {
		fmt.Fprintf(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, b := range r.imgs {
		bins := map[string]bool{}
		for _, t := range r.tools {
			if f := r.founds[t.name+"|"+b.name]; f != nil {
				for k := range f.binaries() {
					bins[k] = true
				}
			}
		}
		var list []string
		for k := range bins {
			list = append(list, k)
		}
		sortStrings(list)
		for _, bin := range list {
			fmt.Fprintf(w, "| %s | `%s` |", b.name, bin)
			for _, t := range r.tools {
				n := 0
				if f := r.founds[t.name+"|"+b.name]; f != nil {
					for k := range f.goPairs {
						if strings.HasPrefix(k, bin+"\t") {
							n++
						}
					}
				}
				fmt.Fprintf(w, " %d |", n)
			}
			fmt.Fprintln(w)
		}
	}
}

func (r *report) targets(w io.Writer) {
	fmt.Fprintf(w, "\n### Targets\n\n")
	for _, b := range r.imgs {
		red, sy := r.founds["redline|"+b.name], r.founds["syft|"+b.name]
		rk, sk, tk := "redline|"+b.name, "syft|"+b.name, "trivy|"+b.name
		if red != nil && sy != nil {
			mg, md := minus(sy.goPairs, red.goPairs), minus(sy.debs, red.debs)
			fmt.Fprintf(w, "- %s: redline finds every Go module (%d) and deb package (%d) syft finds: %s (missing: %d modules, %d debs)\n",
				b.name, len(sy.goPairs), len(sy.debs), passFail(len(mg) == 0 && len(md) == 0), len(mg), len(md))
		}
		if len(r.samples[rk]) > 0 && len(r.samples[sk]) > 0 {
			rt := r.wall(rk).Seconds() / r.wall(sk).Seconds()
			rm := float64(r.rss(rk)) / float64(r.rss(sk))
			fmt.Fprintf(w, "- %s: wall time ≤ 1/4 of syft's: %.2fs vs %.2fs = %.3f: %s\n", b.name, r.wall(rk).Seconds(), r.wall(sk).Seconds(), rt, passFail(rt <= 0.25))
			if gk := "gzip|" + b.name; len(r.samples[gk]) > 0 {
				fmt.Fprintf(w, "  (the `gzip -dc` floor alone is %.2fs = %.3f of syft's time; redline is %.2fx that floor)\n",
					r.wall(gk).Seconds(), r.wall(gk).Seconds()/r.wall(sk).Seconds(), r.wall(rk).Seconds()/r.wall(gk).Seconds())
			}
			fmt.Fprintf(w, "- %s: peak RSS ≤ 1/4 of syft's: %.1f MiB vs %.1f MiB = %.3f: %s\n", b.name, float64(r.rss(rk))/1024, float64(r.rss(sk))/1024, rm, passFail(rm <= 0.25))
		}
		if len(r.samples[rk]) > 0 && len(r.samples[tk]) > 0 {
			fmt.Fprintf(w, "- %s: faster than trivy: %.2fs vs %.2fs: %s\n", b.name, r.wall(rk).Seconds(), r.wall(tk).Seconds(), passFail(r.wall(rk) < r.wall(tk)))
		}
	}
}

// passFail is the verdict in bold: **PASS** or **MISS**.
func passFail(ok bool) string { return "**" + harness.PassFail(ok) + "**" }

// pairs are the comparisons made: everything against syft, the
// reference, and redline against trivy.
func (r *report) pairs() [][2]string {
	var ps [][2]string
	has := func(n string) bool {
		for _, t := range r.tools {
			if t.name == n {
				return true
			}
		}
		return false
	}
	if has("syft") {
		ps = append(ps, [2]string{"syft", "redline"})
		if has("trivy") {
			ps = append(ps, [2]string{"syft", "trivy"})
		}
	}
	if has("trivy") {
		ps = append(ps, [2]string{"trivy", "redline"})
	}
	return ps
}

func (r *report) differences(w io.Writer) {
	fmt.Fprintf(w, "\n### Set differences\n\nGo modules as `binary: module@version` (normalised: stdlib as `stdlib@1.X.Y`, an unversioned main module as `(devel)`), "+
		"debs as `name@version`. At most %d lines per list here; the full lists are in `%s/diff-*.txt`.\n", maxListed, rel(r.root, r.out))
	for _, b := range r.imgs {
		for _, p := range r.pairs() {
			a, c := r.founds[p[0]+"|"+b.name], r.founds[p[1]+"|"+b.name]
			if a == nil || c == nil {
				continue
			}
			fmt.Fprintf(w, "\n**%s: %s vs %s**\n\n", b.name, p[0], p[1])
			r.list(w, fmt.Sprintf("Go modules only in %s", p[0]), minus(a.goPairs, c.goPairs), a, c, p[0], p[1], true)
			r.list(w, fmt.Sprintf("Go modules only in %s", p[1]), minus(c.goPairs, a.goPairs), c, a, p[1], p[0], true)
			r.list(w, fmt.Sprintf("debs only in %s", p[0]), minus(a.debs, c.debs), a, c, p[0], p[1], false)
			r.list(w, fmt.Sprintf("debs only in %s", p[1]), minus(c.debs, a.debs), c, a, p[1], p[0], false)
		}
	}
}

func (r *report) list(w io.Writer, title string, keys []string, in, notIn *found, inName, notInName string, goKeys bool) {
	if len(keys) == 0 {
		fmt.Fprintf(w, "- %s: none\n", title)
		return
	}
	fmt.Fprintf(w, "- %s: %d\n", title, len(keys))
	for i, k := range keys {
		if i == maxListed {
			fmt.Fprintf(w, "  - … %d more\n", len(keys)-maxListed)
			break
		}
		line := "`" + strings.Replace(k, "\t", ": ", 1) + "`"
		if goKeys {
			if why := explain(k, in, notIn, inName, notInName); why != "" {
				line += " — " + why
			}
		}
		fmt.Fprintf(w, "  - %s\n", line)
	}
}

func (r *report) writeDiffFiles() error {
	for _, b := range r.imgs {
		for _, p := range r.pairs() {
			a, c := r.founds[p[0]+"|"+b.name], r.founds[p[1]+"|"+b.name]
			if a == nil || c == nil {
				continue
			}
			var buf bytes.Buffer
			dump := func(title string, keys []string) {
				fmt.Fprintf(&buf, "## %s (%d)\n", title, len(keys))
				for _, k := range keys {
					fmt.Fprintln(&buf, strings.Replace(k, "\t", ": ", 1))
				}
				fmt.Fprintln(&buf)
			}
			dump("Go modules only in "+p[0], minus(a.goPairs, c.goPairs))
			dump("Go modules only in "+p[1], minus(c.goPairs, a.goPairs))
			dump("debs only in "+p[0], minus(a.debs, c.debs))
			dump("debs only in "+p[1], minus(c.debs, a.debs))
			f := filepath.Join(r.out, fmt.Sprintf("diff-%s-%s-%s.txt", b.name, p[0], p[1]))
			if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- docs/benchmarks.md ----

const (
	docHeading = "## sbom"
	beginMark  = "<!-- bench/sbom results: begin (written by `go run ./bench/sbom`; edit outside the markers) -->"
	endMark    = "<!-- bench/sbom results: end -->"
)

// updateDoc puts the results between the markers of the "## sbom"
// section, creating the section (at the end of the file) or the markers
// (at the end of the section) when missing. Everything outside the
// markers is left as it is.
func updateDoc(file, results string) error {
	raw, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(raw)
	block := beginMark + "\n\n" + strings.TrimSpace(results) + "\n\n" + endMark + "\n"
	start := headingIndex(doc, docHeading)
	switch {
	case start < 0:
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		doc += "\n" + docHeading + "\n\n" + block
	default:
		end := len(doc)
		if i := strings.Index(doc[start+len(docHeading):], "\n## "); i >= 0 {
			end = start + len(docHeading) + i + 1
		}
		sec := doc[start:end]
		b, e := strings.Index(sec, beginMark), strings.Index(sec, endMark)
		if b >= 0 && e > b {
			sec = sec[:b] + block + strings.TrimPrefix(sec[e+len(endMark):], "\n")
		} else {
			sec = strings.TrimRight(sec, "\n") + "\n\n" + block
			if end < len(doc) {
				sec += "\n"
			}
		}
		doc = doc[:start] + sec + doc[end:]
	}
	return os.WriteFile(file, []byte(doc), 0o644)
}

// headingIndex finds a line that is exactly heading.
func headingIndex(doc, heading string) int {
	for i := 0; i < len(doc); {
		j := strings.IndexByte(doc[i:], '\n')
		line := doc[i:]
		if j >= 0 {
			line = doc[i : i+j]
		}
		if strings.TrimRight(line, " \r") == heading {
			return i
		}
		if j < 0 {
			break
		}
		i += j + 1
	}
	return -1
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
