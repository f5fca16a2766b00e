package db

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
)

// ImportOptions configure [Import].
type ImportOptions struct {
	// CacheDir is where the source is stored; default [DefaultCacheDir].
	CacheDir string
	// Name names the source ("import:NAME") and its file; default: the
	// file or directory name without extension. Importing a name again
	// replaces it.
	Name string
	// Date is the data's date; default: the newest modified or published
	// date of the entries, else the path's modification time.
	Date time.Time
	// Now stamps the stored data; default time.Now.
	Now func() time.Time
	// Strict stores nothing when any entry was skipped.
	Strict bool
}

// Import reads OSV data of any ecosystem at path (a directory of OSV JSON
// files, a zip of them such as osv.dev's ECOSYSTEM/all.zip, or one JSON
// file), validates every entry and stores the valid ones in the cache as
// one source, atomically. Malformed entries are skipped and returned as
// warnings naming the file; a path with no valid entry is an error and
// stores nothing.
func Import(path string, o ImportOptions) (CachedSource, []string, error) {
	dir := o.CacheDir
	if dir == "" {
		var err error
		if dir, err = DefaultCacheDir(nil); err != nil {
			return CachedSource{}, nil, err
		}
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(path))
		for _, ext := range []string{".zip", ".json", ".osv"} {
			name = strings.TrimSuffix(name, ext)
		}
	}
	id := stem(name)
	if id == "" || id == strings.TrimSuffix(goPackName, packExt) {
		return CachedSource{}, nil, fmt.Errorf("import %s: unusable name %q: choose one with --name", path, name)
	}
	set := &osvpack.Set{}
	r, err := readOSV(path, set)
	if err != nil {
		return CachedSource{}, set.Warnings, fmt.Errorf("import: %w", err)
	}
	if o.Strict && len(set.Warnings) > 0 {
		return CachedSource{}, set.Warnings, fmt.Errorf("import %s: %d entries skipped and strict: nothing stored", path, len(set.Warnings))
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	date := r.date
	if !o.Date.IsZero() {
		date = o.Date.UTC()
	}
	recs := set.Records()
	m := osvpack.NewMeta(importPrefix+id, "", date, recs)
	if abs, err := filepath.Abs(path); err == nil {
		m.Origin = abs
	}
	m.Stored = now().UTC().Truncate(time.Second)
	m.SetSkipped(set.Warnings)
	p := filepath.Join(dir, sourcesDirName, id+packExt)
	if err := writePack(p, m, recs); err != nil {
		return CachedSource{}, set.Warnings, fmt.Errorf("import %s: %w", path, err)
	}
	return CachedSource{ID: id, Source: sourceOf(m, p, false)}, set.Warnings, nil
}
