package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
)

// The cache directory's layout:
//
//	go.osvpack          the Go vulnerability database of `db update`
//	sources/NAME.osvpack every other source: imports, osv.dev ecosystems
//
// Every file is written to a temporary name beside it and renamed, so a
// reader sees the old file or the new one, never a partial one; names
// starting with "." (the temporary files) are never read.
const (
	goPackName     = "go.osvpack"
	sourcesDirName = "sources"
	packExt        = ".osvpack"
)

// The vuln.go.dev layout's directories.
const (
	layoutIndexDir = "index"
	layoutIDDir    = "ID"
)

// CacheDirEnv overrides the default cache directory.
const CacheDirEnv = "REDLINE_CACHE_DIR"

// DefaultCacheDir returns $REDLINE_CACHE_DIR, or os.UserCacheDir()/redline/vulndb.
// getenv reads the environment (nil: os.Getenv).
func DefaultCacheDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv(CacheDirEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", CacheDirEnv, err)
	}
	return filepath.Join(d, "redline", "vulndb"), nil
}

// sourcePaths lists the packs of dir/sources, sorted.
func sourcePaths(dir string) ([]string, error) {
	des, err := os.ReadDir(filepath.Join(dir, sourcesDirName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading vulnerability data: %w", err)
	}
	var out []string
	for _, de := range des {
		n := de.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, packExt) || de.IsDir() {
			continue
		}
		out = append(out, filepath.Join(dir, sourcesDirName, n))
	}
	slices.Sort(out)
	return out, nil
}

// writePack stores recs as a pack file at path, atomically.
func writePack(path string, m osvpack.Meta, recs []osvpack.Record) error {
	data := osvpack.Compress(osvpack.EncodeBody(recs), osvpack.Fast)
	return writeAtomic(path, func(f *os.File) error { return osvpack.WritePack(f, m, data) })
}

// writeAtomic writes path through a temporary file in the same directory,
// synced before the rename so a crash leaves the old file or the new one.
func writeAtomic(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// stem makes a file name of s: letters, digits, '.', '_' and '-' stay,
// anything else becomes '_'.
func stem(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			b[i] = '_'
		}
	}
	return strings.TrimLeft(string(b), ".")
}

// CachedSource is a source stored in the cache.
type CachedSource struct {
	// ID is what `redline db import --remove` takes: the file name
	// without its extension.
	ID string `json:"id"`
	Source
}

// ListSources lists what the cache holds: the Go data of `db update`
// (ID "go") and every other source, without decoding their entries.
func ListSources(cacheDir string) ([]CachedSource, error) {
	var out []CachedSource
	paths, err := sourcePaths(cacheDir)
	if err != nil {
		return nil, err
	}
	goPath := filepath.Join(cacheDir, goPackName)
	if _, err := os.Stat(goPath); err == nil {
		paths = append([]string{goPath}, paths...)
	}
	for _, p := range paths {
		m, err := osvpack.ReadPackMeta(p)
		if err != nil {
			return nil, fmt.Errorf("reading vulnerability data: %w", err)
		}
		out = append(out, CachedSource{ID: strings.TrimSuffix(filepath.Base(p), packExt), Source: sourceOf(m, p, false)})
	}
	return out, nil
}

// RemoveSource deletes a cached source by its ID (see [ListSources]).
func RemoveSource(cacheDir, id string) error {
	if id == "" || stem(id) != id {
		return fmt.Errorf("no cached source %q: see `redline db import --list`", id)
	}
	p := filepath.Join(cacheDir, sourcesDirName, id+packExt)
	if id == strings.TrimSuffix(goPackName, packExt) {
		p = filepath.Join(cacheDir, goPackName)
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no cached source %q in %s: see `redline db import --list`", id, cacheDir)
		}
		return err
	}
	return nil
}

// isLayout reports whether dir holds the vuln.go.dev layout (index/ and
// ID/) and returns its index/db.json "modified".
func isLayout(dir string) (bool, time.Time, error) {
	if fi, err := os.Stat(filepath.Join(dir, layoutIDDir)); err != nil || !fi.IsDir() {
		return false, time.Time{}, nil
	}
	p := filepath.Join(dir, layoutIndexDir, "db.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	var meta struct {
		Modified time.Time `json:"modified"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return false, time.Time{}, fmt.Errorf("%s: %w", p, err)
	}
	return true, meta.Modified.UTC(), nil
}
