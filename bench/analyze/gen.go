package main

import (
	"archive/tar"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/bench/internal/harness"
)

// genVersion changes whenever the generator's output changes, so a kept
// image from an older harness is regenerated instead of reused.
const genVersion = 4

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// imageSpec is one benchmark image: Entries tar entries (directories,
// files, links, whiteouts) in total over six gzip layers, whose regular
// files hold Bytes bytes in total.
type imageSpec struct {
	Name    string `json:"name"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
	Seed    uint64 `json:"seed"`
	Version int    `json:"version"`
}

// planEntry is one tar entry of a layer. Content is generated while the
// layer is written, never held.
type planEntry struct {
	name string
	typ  byte
	size int64
	link string
}

type layerPlan struct {
	createdBy string
	entries   []planEntry
}

// layerDesc is what writing one layer produced. (The blob's fields come
// first in bench-image.json, as they always did.)
type layerDesc struct {
	harness.Layer
	ContentBytes int64  `json:"contentBytes"`
	CreatedBy    string `json:"createdBy"`
}

// builtImage is an OCI layout on disk, described by bench-image.json in it.
type builtImage struct {
	Spec      imageSpec   `json:"spec"`
	Dir       string      `json:"-"`
	Layers    []layerDesc `json:"layers"`
	ConfigD   string      `json:"config"`
	ConfigLen int64       `json:"configSize"`
	Manifest  string      `json:"manifest"`
}

func (b *builtImage) blobPath(d string) string {
	return harness.BlobPath(filepath.Join(b.Dir, "blobs", "sha256"), d)
}

// layerBlobs are the files of the layer blobs, in order.
func (b *builtImage) layerBlobs() []string {
	var files []string
	for _, l := range b.Layers {
		files = append(files, b.blobPath(l.Digest))
	}
	return files
}

func (b *builtImage) tarBytes() int64  { return harness.Total(b.Layers).TarBytes }
func (b *builtImage) blobBytes() int64 { return harness.Total(b.Layers).Size }
func (b *builtImage) entries() int     { return harness.Total(b.Layers).Entries }

// ---- planning ----

// planner lays out an image's entries so that they look like a distro
// base, a runtime, build dependencies, an application, and two layers that
// waste bytes: overwritten files, a directory deleted by a whiteout, files
// deleted one by one, and a directory made opaque.
type planner struct {
	rng   *rand.Rand
	words []string
}

func newPlanner(seed uint64) *planner {
	p := &planner{rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	p.words = vocabulary(rand.New(rand.NewPCG(seed^1, 7)), 600)
	return p
}

var exts = []string{".so", ".py", ".go", ".h", ".txt", ".json", "", ".a", ".js", ".pyc", ".mo", ".gz"}

// tree returns exactly n entries under prefix (its own directories first,
// then package directories of 16 subdirectories of 15 to 45 files each),
// whose regular files hold exactly bytes bytes. Every 17th file is a
// symlink to its neighbour.
func (p *planner) tree(prefix string, n int, bytes int64) []planEntry {
	out := make([]planEntry, 0, n)
	parts := strings.Split(prefix, "/")
	for i := range parts {
		if len(out) < n {
			out = append(out, planEntry{name: strings.Join(parts[:i+1], "/") + "/", typ: tar.TypeDir})
		}
	}
	files := 0
	for g := 0; len(out) < n; g++ {
		gp := fmt.Sprintf("%s/%s-%d", prefix, p.word(), g)
		out = append(out, planEntry{name: gp + "/", typ: tar.TypeDir})
		for s := 0; s < 16 && len(out) < n; s++ {
			sp := fmt.Sprintf("%s/%s%02d", gp, p.word(), s)
			out = append(out, planEntry{name: sp + "/", typ: tar.TypeDir})
			k := 15 + p.rng.IntN(31)
			prev := ""
			for f := 0; f < k && len(out) < n; f++ {
				base := fmt.Sprintf("%s_%s-%d%s", p.word(), p.word(), f, exts[p.rng.IntN(len(exts))])
				files++
				if files%17 == 0 && prev != "" {
					out = append(out, planEntry{name: sp + "/" + base, typ: tar.TypeSymlink, link: prev})
					continue
				}
				out = append(out, planEntry{name: sp + "/" + base, typ: tar.TypeReg})
				prev = base
			}
		}
	}
	p.sizes(out, bytes)
	return out
}

// sizes spreads bytes over the regular files of es with a log-normal
// distribution (many small files, a few large ones), exactly.
func (p *planner) sizes(es []planEntry, bytes int64) {
	var idx []int
	var ws []float64
	var sum float64
	for i, e := range es {
		if e.typ == tar.TypeReg {
			w := math.Exp(1.8 * p.rng.NormFloat64())
			idx = append(idx, i)
			ws = append(ws, w)
			sum += w
		}
	}
	if len(idx) == 0 {
		return
	}
	var total int64
	big := 0
	for j, i := range idx {
		es[i].size = int64(float64(bytes) * ws[j] / sum)
		total += es[i].size
		if es[i].size > es[idx[big]].size {
			big = j
		}
	}
	es[idx[big]].size += bytes - total
}

func (p *planner) word() string { return p.words[p.rng.IntN(len(p.words))] }

func regular(es []planEntry) []planEntry {
	var out []planEntry
	for _, e := range es {
		if e.typ == tar.TypeReg {
			out = append(out, e)
		}
	}
	return out
}

// plan lays out the six layers of spec.
func plan(spec imageSpec) []layerPlan {
	p := newPlanner(spec.Seed)
	N, B := spec.Entries, spec.Bytes
	en := func(f float64) int { return max(1, int(f*float64(N))) }
	by := func(f float64) int64 { return int64(f * float64(B)) }

	var L [6]layerPlan
	// 0: a distro base, with a hard link.
	L[0].createdBy = "ADD rootfs.tar /"
	L[0].entries = append(p.tree("usr/share", en(0.17), by(0.05)), p.tree("usr/lib/x86_64-linux-gnu", en(0.11), by(0.10))...)
	first := regular(L[0].entries)
	L[0].entries = append(L[0].entries,
		planEntry{name: "usr/bin/", typ: tar.TypeDir},
		planEntry{name: "usr/bin/hardlinked", typ: tar.TypeLink, link: first[len(first)-1].name})
	// 1: a language runtime.
	L[1].createdBy = "RUN apt-get install -y runtime"
	L[1].entries = p.tree("usr/lib/runtime", en(0.25), by(0.25))
	// 2: build dependencies and a build directory (deleted in layer 4).
	L[2].createdBy = "RUN make -C /tmp/build deps"
	L[2].entries = append(p.tree("usr/local/lib", en(0.18), by(0.19)), p.tree("tmp/build", en(0.04), by(0.06))...)
	// 4: rewrites runtime files (shadowing layer 1's copies), deletes
	// /tmp/build with a whiteout and base files one by one.
	L[4].createdBy = "RUN apt-get upgrade -y && rm -rf /tmp/build /usr/share/*/old*"
	rt := regular(L[1].entries)
	nOver := min(len(rt), en(0.05))
	var over []planEntry
	for i := 0; i < nOver; i++ {
		e := rt[i*len(rt)/nOver]
		over = append(over, planEntry{name: e.name, typ: tar.TypeReg})
	}
	p.sizes(over, by(0.10))
	L[4].entries = append(over, planEntry{name: "tmp/.wh.build", typ: tar.TypeReg})
	base := regular(L[0].entries)
	nDel := min(len(base)/10, max(1, N/1000))
	for i := 0; i < nDel; i++ {
		e := base[i*len(base)/nDel/2] // from usr/share, leaving the hard link's target
		dir, file := path2(e.name)
		L[4].entries = append(L[4].entries, planEntry{name: dir + ".wh." + file, typ: tar.TypeReg})
	}
	// 5: replaces /var/cache/app wholesale (opaque) and adds configuration.
	L[5].createdBy = "RUN app --warm-cache && configure"
	cache := p.tree("var/cache/app", en(0.005), by(0.01))
	opq := planEntry{name: "var/cache/app/.wh..wh..opq", typ: tar.TypeReg}
	L[5].entries = append(append(cache[:3:3], opq), cache[3:]...)
	L[5].entries = append(L[5].entries, p.tree("etc/app", en(0.025), by(0.04))...)
	// 3: the application and the cache layer 5 replaces; it takes what is
	// left, so the totals are exact.
	L[3].createdBy = "COPY app /opt/app"
	old := p.tree("var/cache/app", en(0.02), by(0.03))
	n, b := N-len(old), B-by(0.03)
	for i, l := range L {
		if i != 3 {
			n -= len(l.entries)
			for _, e := range l.entries {
				b -= e.size
			}
		}
	}
	L[3].entries = append(old, p.tree("opt/app", max(n, 1), max(b, 0))...)
	return L[:]
}

func path2(name string) (dir, file string) {
	i := strings.LastIndexByte(name, '/')
	return name[:i+1], name[i+1:]
}

// vocabulary returns n pronounceable pseudo-words.
func vocabulary(r *rand.Rand, n int) []string {
	const cons, vow = "bcdfghklmnprstvz", "aeiou"
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var sb strings.Builder
		for range 1 + r.IntN(4) {
			sb.WriteByte(cons[r.IntN(len(cons))])
			sb.WriteByte(vow[r.IntN(len(vow))])
			if r.IntN(3) == 0 {
				sb.WriteByte(cons[r.IntN(len(cons))])
			}
		}
		if w := sb.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// ---- content ----

// corpus returns text that compresses like source code and documentation
// (gzip about 4-5x): lines from templates filled with Zipf-distributed
// identifiers, comments of words, and repeated lines.
func corpus(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	ids := vocabulary(r, 1500)
	z := rand.NewZipf(r, 1.2, 4, uint64(len(ids)-1))
	id := func() string { return ids[z.Uint64()] }
	templates := []func() string{
		func() string { return "if err != nil {" },
		func() string { return "return nil, fmt.Errorf(\"" + id() + " " + id() + ": %w\", err)" },
		func() string { return id() + " := " + id() + "." + id() + "(" + id() + ", " + id() + ")" },
		func() string { return "for _, " + id() + " := range " + id() + "." + id() + " {" },
		func() string { return "}" },
		func() string { return "return " + id() + ", nil" },
		func() string {
			return "func (" + id()[:1] + " *" + id() + ") " + id() + "(" + id() + " string) error {"
		},
		func() string {
			s := "// " + id()
			for range 4 + r.IntN(8) {
				s += " " + id()
			}
			return s + "."
		},
		func() string { return id() + "." + id() + " = " + strconv.Itoa(r.IntN(1000)) },
		func() string { return "" },
	}
	var lines []string
	b := make([]byte, 0, size+256)
	for len(b) < size {
		var l string
		if len(lines) > 50 && r.IntN(8) == 0 {
			l = lines[len(lines)-1-r.IntN(50)]
		} else {
			l = strings.Repeat("\t", r.IntN(4)) + templates[r.IntN(len(templates))]()
		}
		lines = append(lines, l)
		b = append(b, l...)
		b = append(b, '\n')
	}
	return b[:size]
}

// content writes n bytes of a file: segments of 1 to 16 KiB, each either
// pseudo-random (like machine code and compressed data) or a slice of the
// text corpus. randomPct percent of segments are random.
type content struct {
	src    *rand.ChaCha8
	rng    *rand.Rand
	buf    []byte
	corpus []byte
}

const randomPct = 15

func newContent(seed uint64, corpus []byte) *content {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	src := rand.NewChaCha8(s)
	return &content{src: src, rng: rand.New(src), buf: make([]byte, 16<<10), corpus: corpus}
}

func (c *content) write(w io.Writer, n int64) error {
	for n > 0 {
		seg := min(int64(1024+c.rng.IntN(15<<10)), n)
		var chunk []byte
		if c.rng.IntN(100) < randomPct {
			chunk = c.buf[:seg]
			c.src.Read(chunk)
		} else {
			off := c.rng.IntN(len(c.corpus) - int(seg))
			chunk = c.corpus[off : off+int(seg)]
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		n -= seg
	}
	return nil
}

// ---- writing ----

// writeLayer streams one layer into blobs (harness.WriteLayer: tar ->
// (diff ID hash) -> gzip -> (digest hash) -> file), generating the file
// contents on the way.
func writeLayer(blobs string, lp layerPlan, seed uint64, corpus []byte) (layerDesc, error) {
	ld := layerDesc{CreatedBy: lp.createdBy}
	c := newContent(seed, corpus)
	var err error
	ld.Layer, err = harness.WriteLayer(blobs, func(tw *tar.Writer) (int, error) {
		for _, e := range lp.entries {
			h := &tar.Header{
				Name: e.name, Typeflag: e.typ, Linkname: e.link, ModTime: epoch,
				Mode: 0o644, Uname: "root", Gname: "root",
			}
			switch e.typ {
			case tar.TypeDir:
				h.Mode = 0o755
			case tar.TypeReg:
				h.Size = e.size
				if strings.HasSuffix(e.name, ".so") || !strings.Contains(path2Base(e.name), ".") {
					h.Mode = 0o755
				}
			case tar.TypeSymlink:
				h.Mode = 0o777
			}
			if err := tw.WriteHeader(h); err != nil {
				return 0, fmt.Errorf("%s: %w", e.name, err)
			}
			if e.typ == tar.TypeReg && e.size > 0 {
				if err := c.write(tw, e.size); err != nil {
					return 0, err
				}
				ld.ContentBytes += e.size
			}
		}
		return len(lp.entries), nil
	})
	return ld, err
}

func path2Base(name string) string { _, f := path2(name); return f }

const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtIndex    = "application/vnd.oci.image.index.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// generate writes spec as an OCI image layout in dir, or reuses the one
// there when it was made from the same spec. Layers are written in
// parallel, workers at a time.
func generate(dir string, spec imageSpec, corpus []byte, workers int, logf func(string, ...any)) (*builtImage, error) {
	spec.Version = genVersion
	meta := filepath.Join(dir, "bench-image.json")
	if raw, err := os.ReadFile(meta); err == nil {
		var old builtImage
		if json.Unmarshal(raw, &old) == nil && old.Spec == spec {
			old.Dir = dir
			ok := true
			for _, l := range old.Layers {
				if st, err := os.Stat(old.blobPath(l.Digest)); err != nil || st.Size() != l.Size {
					ok = false
				}
			}
			if ok {
				logf("reusing %s (%s)", dir, spec.Name)
				return &old, nil
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	plans := plan(spec)
	b := &builtImage{Spec: spec, Dir: dir, Layers: make([]layerDesc, len(plans))}
	errs := make([]error, len(plans))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				b.Layers[i], errs[i] = writeLayer(blobs, plans[i], spec.Seed*1000+uint64(i), corpus)
			}
		}()
	}
	for i := range plans {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var diffIDs []string
	var history []map[string]any
	var layers []map[string]any
	for _, l := range b.Layers {
		diffIDs = append(diffIDs, l.DiffID)
		history = append(history, map[string]any{"created": epoch, "created_by": l.CreatedBy})
		layers = append(layers, map[string]any{"mediaType": mtLayer, "digest": l.Digest, "size": l.Size})
	}
	cfg := mustJSON(map[string]any{
		"architecture": "amd64", "os": "linux", "created": epoch,
		"config": map[string]any{
			"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Entrypoint": []string{"/opt/app/bin/app"},
			"WorkingDir": "/opt/app",
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": history,
	})
	b.ConfigD, b.ConfigLen = harness.Digest(cfg), int64(len(cfg))
	man := mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": mtManifest,
		"config": map[string]any{"mediaType": mtConfig, "digest": b.ConfigD, "size": len(cfg)},
		"layers": layers,
	})
	b.Manifest = harness.Digest(man)
	idx := mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": mtIndex,
		"manifests": []any{map[string]any{
			"mediaType": mtManifest, "digest": b.Manifest, "size": len(man),
			"annotations": map[string]string{"org.opencontainers.image.ref.name": "bench/" + spec.Name + ":latest"},
		}},
	})
	for name, body := range map[string][]byte{
		b.blobPath(b.ConfigD):                cfg,
		b.blobPath(b.Manifest):               man,
		filepath.Join(dir, "index.json"):     idx,
		filepath.Join(dir, "oci-layout"):     []byte(`{"imageLayoutVersion":"1.0.0"}`),
		filepath.Join(dir, "bench-spec.txt"): []byte(fmt.Sprintf("%+v\n", spec)),
	} {
		if err := os.WriteFile(name, body, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(meta, mustJSON(b), 0o644); err != nil {
		return nil, err
	}
	logf("generated %s: %d entries, %s uncompressed, %s gzip (%.2fx) in %.1fs",
		spec.Name, b.entries(), harness.Human(b.tarBytes()), harness.Human(b.blobBytes()),
		float64(b.tarBytes())/float64(b.blobBytes()), time.Since(start).Seconds())
	return b, nil
}

// writeDockerArchive writes the image as a docker-archive (`docker save`
// before docker 25: manifest.json, HEX.json config, HEX.tar.gz layers),
// copying the blobs through.
func writeDockerArchive(b *builtImage, file string) error {
	a, err := harness.CreateTar(file, epoch)
	if err != nil {
		return err
	}
	defer a.Abort()
	cfgName := strings.TrimPrefix(b.ConfigD, "sha256:") + ".json"
	if err := a.AddFile(cfgName, b.blobPath(b.ConfigD)); err != nil {
		return err
	}
	var paths []string
	for _, l := range b.Layers {
		p := strings.TrimPrefix(l.Digest, "sha256:") + ".tar.gz"
		paths = append(paths, p)
		if err := a.AddFile(p, b.blobPath(l.Digest)); err != nil {
			return err
		}
	}
	m := mustJSON([]any{map[string]any{"Config": cfgName, "RepoTags": []string{"bench/" + b.Spec.Name + ":latest"}, "Layers": paths}})
	if err := a.AddBytes("manifest.json", m); err != nil {
		return err
	}
	return a.Close()
}

func mustJSON(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return out
}
