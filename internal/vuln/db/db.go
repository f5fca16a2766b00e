package db

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// ErrNoData reports that no vulnerability data could be found at all; a
// scan without data must not pass for a clean one.
var ErrNoData = errors.New("db: no vulnerability data")

// Source names of the data sources.
const (
	SourceVulnDB    = osvpack.VulnDBModule // the Go module golang.org/x/vulndb
	SourceVulnGoDev = "vuln.go.dev"
	SourceOSVDev    = "osv.dev"
	importPrefix    = "import:"
)

// StaleAfter is the data age past which redline warns.
const StaleAfter = 7 * 24 * time.Hour

// Options configure [Open].
type Options struct {
	// CacheDir holds what `redline db update` and `redline db import`
	// stored; default [DefaultCacheDir] (os.UserCacheDir()/redline/vulndb,
	// or $REDLINE_CACHE_DIR). A missing directory is no error.
	CacheDir string
	// NoEmbedded leaves the embedded snapshot out (tests).
	NoEmbedded bool
	// Logger receives debug notes (which data was chosen and why);
	// default: discarded.
	Logger *slog.Logger
}

// Source is one loaded source of data.
type Source struct {
	// Name is "golang.org/x/vulndb" (embedded or updated), "vuln.go.dev",
	// "osv.dev", "import:NAME", or for [OpenDir] "dir:PATH", "zip:PATH".
	Name string `json:"name"`
	// Version is the golang.org/x/vulndb module version, else empty.
	Version string `json:"version,omitempty"`
	// Date is the data's date: for golang.org/x/vulndb the
	// pseudo-version's commit time (its entries carry zero dates); for
	// vuln.go.dev the database's "modified"; otherwise the newest modified
	// or published date of the entries (or what `db import --date` said).
	Date time.Time `json:"date"`
	// Entries counts the entries, withdrawn ones included.
	Entries int `json:"entries"`
	// Ecosystems counts entries per ecosystem as written ("Go",
	// "Debian:12", "Alpine:v3.20", ...).
	Ecosystems map[string]int `json:"ecosystems"`
	// Embedded marks the snapshot built into redline.
	Embedded bool `json:"embedded,omitempty"`
	// Path is the file the data was read from; empty when embedded.
	Path string `json:"path,omitempty"`
	// Origin is where the data was fetched or imported from.
	Origin string `json:"origin,omitempty"`
	// Sum is the module zip's go.sum hash, for module data.
	Sum string `json:"sum,omitempty"`
	// Stored is when the data was written to the cache.
	Stored time.Time `json:"stored,omitzero"`
	// Skipped counts the malformed entries left out when the data was
	// read; SkippedSample names the first of them.
	Skipped       int      `json:"skipped,omitempty"`
	SkippedSample []string `json:"skipped_sample,omitempty"`
}

func sourceOf(m osvpack.Meta, path string, embedded bool) Source {
	return Source{
		Name: m.Name, Version: m.Version, Date: m.Date, Entries: m.Entries,
		Ecosystems: m.Ecosystems, Embedded: embedded, Path: path, Origin: m.Origin,
		Sum: m.Sum, Stored: m.Stored, Skipped: m.SkippedCount, SkippedSample: m.Skipped,
	}
}

// DB is loaded vulnerability data, indexed by (ecosystem, package name).
// Entries are decoded from JSON when first looked up. A DB is safe for
// concurrent use; the entries it returns are shared and must not be
// modified.
type DB struct {
	sources []Source
	entries map[string]*entry
	index   map[pkgKey][]*entry

	mu       sync.Mutex
	warnings []string
}

type pkgKey struct{ eco, name string }

type entry struct {
	id        string
	raw       []byte
	withdrawn bool
	pkgs      []osvpack.Pkg
	src       int

	once sync.Once
	e    *osv.Entry
}

// loaded is one source's records before indexing.
type loaded struct {
	src  Source
	recs []osvpack.Record
}

// Open loads the data redline scans with: the embedded snapshot, replaced
// by the cached update of `redline db update` when that one is newer, plus
// every source `redline db import` (or `db update --source osv.dev` for
// other ecosystems) stored in the cache. An entry ID found in several
// sources is taken from the last: the Go data first, then the cache's
// other sources by file name. Cached data that cannot be read is an error
// naming the file, never a silent fallback.
func Open(o Options) (*DB, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir := o.CacheDir
	if dir == "" {
		var err error
		if dir, err = DefaultCacheDir(nil); err != nil {
			log.Debug("no cache directory; using the embedded data only", "err", err)
		}
	}
	var loads []loaded
	goData, err := openGoData(dir, !o.NoEmbedded, log)
	if err != nil {
		return nil, err
	}
	if goData != nil {
		loads = append(loads, *goData)
	}
	if dir != "" {
		extra, err := openSources(dir)
		if err != nil {
			return nil, err
		}
		loads = append(loads, extra...)
	}
	if len(loads) == 0 {
		return nil, fmt.Errorf("%w: nothing embedded and nothing in %s; run `redline db update` or `redline db import`", ErrNoData, dir)
	}
	return build(loads), nil
}

// openGoData loads the Go vulnerability database: the embedded snapshot
// or the cached update, whichever is newer.
func openGoData(dir string, embedded bool, log *slog.Logger) (*loaded, error) {
	m, path, err := chooseGoData(dir, embedded, log)
	if err != nil || m == nil {
		return nil, err
	}
	if path != "" {
		return readPack(path)
	}
	body, err := osvpack.Decompress(snapshotData)
	if err != nil {
		return nil, fmt.Errorf("embedded snapshot: %w", err)
	}
	recs, err := osvpack.DecodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("embedded snapshot: %w", err)
	}
	if len(recs) != m.Entries {
		return nil, fmt.Errorf("embedded snapshot: %d entries, its metadata says %d", len(recs), m.Entries)
	}
	return &loaded{src: sourceOf(*m, "", true), recs: recs}, nil
}

// chooseGoData returns the metadata of the Go data in use and the cached
// file holding it ("" for the embedded snapshot); nil when there is none.
func chooseGoData(dir string, embedded bool, log *slog.Logger) (*osvpack.Meta, string, error) {
	var emb *osvpack.Meta
	if embedded {
		m, err := embeddedMeta()
		if err != nil {
			return nil, "", err
		}
		emb = &m
	}
	if dir != "" {
		path := filepath.Join(dir, goPackName)
		m, err := osvpack.ReadPackMeta(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, "", fmt.Errorf("reading vulnerability data: %w; run `redline db update` again, or delete the file to use the embedded data", err)
		case emb == nil || m.Date.After(emb.Date):
			log.Debug("using the cached update", "path", path, "source", m.Name, "version", m.Version, "date", m.Date)
			return &m, path, nil
		default:
			log.Debug("the cached update is not newer than the embedded snapshot; using the embedded snapshot",
				"path", path, "cached", m.Date, "embedded", emb.Date)
		}
	}
	return emb, "", nil
}

func embeddedMeta() (osvpack.Meta, error) {
	var m osvpack.Meta
	if err := json.Unmarshal(snapshotMeta, &m); err != nil {
		return m, fmt.Errorf("embedded snapshot metadata: %w", err)
	}
	return m, nil
}

func readPack(path string) (*loaded, error) {
	m, recs, err := osvpack.ReadPack(path)
	if err != nil {
		return nil, fmt.Errorf("reading vulnerability data: %w; run `redline db update` or `redline db import` again, or delete the file", err)
	}
	return &loaded{src: sourceOf(m, path, false), recs: recs}, nil
}

// openSources loads every pack of the cache's sources directory.
func openSources(dir string) ([]loaded, error) {
	paths, err := sourcePaths(dir)
	if err != nil {
		return nil, err
	}
	var out []loaded
	for _, p := range paths {
		l, err := readPack(p)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, nil
}

// OpenDir loads only the OSV data at path: a directory of OSV JSON files
// (recursively; a vuln.go.dev layout of index/ and ID/ is recognised), a
// zip of them, a single OSV JSON file, or a pack file of the cache.
// Malformed entries are skipped with a warning naming the file (see
// [DB.Warnings]); a path holding no entry at all is an error.
func OpenDir(path string) (*DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.IsDir() {
		head := make([]byte, 32)
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		if osvpack.IsPack(head) {
			f.Close()
			l, err := readPack(path)
			if err != nil {
				return nil, err
			}
			return build([]loaded{*l}), nil
		}
	}
	f.Close()
	if err != nil {
		return nil, err
	}
	set := &osvpack.Set{KeepEntries: true}
	r, err := readOSV(path, set)
	if err != nil {
		return nil, err
	}
	recs := set.Records()
	m := osvpack.NewMeta(r.kind+":"+path, "", r.date, recs)
	src := sourceOf(m, path, false)
	d := build([]loaded{{src: src, recs: recs}})
	d.warnings = set.Warnings
	return d, nil
}

// readResult says what readOSV found.
type readResult struct {
	kind string // "dir", "zip" or "file"
	date time.Time
}

// readOSV adds the OSV entries at path to set and returns the data's date:
// a vuln.go.dev layout's index/db.json "modified", else the newest
// modified/published date of the entries, else the path's modification
// time.
func readOSV(path string, set *osvpack.Set) (readResult, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return readResult{}, err
	}
	var res readResult
	var layoutDate time.Time
	switch {
	case fi.IsDir():
		res.kind = "dir"
		if ok, date, err := isLayout(path); err != nil {
			return res, err
		} else if ok {
			layoutDate = date
			err = set.AddDir(filepath.Join(path, layoutIDDir))
		} else {
			err = set.AddDir(path)
		}
		if err != nil {
			return res, err
		}
	default:
		head, err := readHead(path, 8)
		if err != nil {
			return res, err
		}
		if osvpack.IsZip(head) {
			res.kind = "zip"
			if err := set.AddZipFile(path, osvpack.AllJSON); err != nil {
				return res, err
			}
			break
		}
		res.kind = "file"
		if fi.Size() > osvpack.MaxEntrySize {
			return res, fmt.Errorf("%s: %d bytes: neither a zip nor an OSV JSON file of a sensible size", path, fi.Size())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return res, err
		}
		set.Add(path, data)
	}
	if set.Len() == 0 {
		msg := fmt.Sprintf("%s: no OSV entries", path)
		if n := len(set.Warnings); n > 0 {
			msg += fmt.Sprintf(" (%d files skipped; the first: %s)", n, set.Warnings[0])
		}
		return res, errors.New(msg)
	}
	res.date = cmp.Or(layoutDate, set.Newest, fi.ModTime().UTC().Truncate(time.Second))
	return res, nil
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b[:m], nil
}

// build indexes the records of every source.
func build(loads []loaded) *DB {
	d := &DB{entries: map[string]*entry{}, index: map[pkgKey][]*entry{}}
	for si, l := range loads {
		d.sources = append(d.sources, l.src)
		for i := range l.recs {
			r := &l.recs[i]
			e := &entry{id: r.ID, raw: r.JSON, withdrawn: r.Withdrawn, pkgs: r.Packages, src: si}
			if r.Entry != nil {
				e.e = r.Entry
				e.once.Do(func() {})
			}
			d.entries[r.ID] = e
		}
	}
	for _, e := range d.entries {
		if e.withdrawn {
			continue
		}
		for _, p := range e.pkgs {
			k := pkgKey{p.Ecosystem, p.Name}
			d.index[k] = append(d.index[k], e)
		}
	}
	for _, list := range d.index {
		slices.SortFunc(list, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	}
	return d
}

// decode returns e's entry, decoding it on first use. Stored data was
// validated when written, so a failure here means a damaged file: it is
// recorded as a warning and the entry is left out.
func (d *DB) decode(e *entry) *osv.Entry {
	e.once.Do(func() {
		var v osv.Entry
		if err := json.Unmarshal(e.raw, &v); err != nil {
			d.warnf("%s: entry %s: %v", d.where(e.src), e.id, err)
			return
		}
		e.e = &v
	})
	return e.e
}

func (d *DB) where(src int) string {
	s := d.sources[src]
	if s.Embedded {
		return "embedded snapshot"
	}
	return s.Path
}

func (d *DB) warnf(format string, args ...any) {
	d.mu.Lock()
	d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
	d.mu.Unlock()
}

// Sources returns the sources loaded, the Go data first.
func (d *DB) Sources() []Source { return slices.Clone(d.sources) }

// Date returns the oldest source's date: a report's data age is computed
// from it.
func (d *DB) Date() time.Time {
	var oldest time.Time
	for i, s := range d.sources {
		if i == 0 || s.Date.Before(oldest) {
			oldest = s.Date
		}
	}
	return oldest
}

// Lookup returns the entries that affect the package name of ecosystem,
// sorted by ID; withdrawn entries are left out. Ecosystem is written as in
// OSV: "Go" (for modules, and for the packages "stdlib" and "toolchain"),
// "Debian:12", "Alpine:v3.20". Both are matched exactly.
func (d *DB) Lookup(ecosystem, name string) []*osv.Entry {
	list := d.index[pkgKey{ecosystem, name}]
	out := make([]*osv.Entry, 0, len(list))
	for _, e := range list {
		if v := d.decode(e); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// Entry returns the entry with id, withdrawn or not, or nil.
func (d *DB) Entry(id string) *osv.Entry {
	e := d.entries[id]
	if e == nil {
		return nil
	}
	return d.decode(e)
}

// IDs returns every entry ID, sorted.
func (d *DB) IDs() []string {
	ids := make([]string, 0, len(d.entries))
	for id := range d.entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Warnings returns what was skipped: malformed entries (naming the file)
// when reading files with [OpenDir], and stored entries that failed to
// decode.
func (d *DB) Warnings() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.warnings)
}

// Len counts the distinct entries, withdrawn ones included.
func (d *DB) Len() int { return len(d.entries) }

// Fingerprint identifies the data loaded (sources, versions, dates,
// counts): derived artefacts such as the layout of [DB.WriteVulnDBLayout]
// can be cached under it.
func (d *DB) Fingerprint() string {
	h := sha256.New()
	for _, s := range d.sources {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s\x00%s\n", s.Name, s.Version, s.Date.Format(time.RFC3339Nano), s.Entries, s.Sum, s.Stored.Format(time.RFC3339Nano))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Matched reports whether redline matches packages of ecosystem: "Go",
// "Debian:RELEASE" and "Alpine:vX.Y". Entries of other ecosystems are
// kept and counted but never match anything.
func Matched(ecosystem string) bool {
	if ecosystem == osv.EcosystemGo {
		return true
	}
	for _, p := range []string{osv.EcosystemDebian + ":", osv.EcosystemAlpine + ":"} {
		if rest, ok := strings.CutPrefix(ecosystem, p); ok && rest != "" {
			return true
		}
	}
	return false
}
