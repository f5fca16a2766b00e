package source

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/redline-go/redline/internal/vuln"
)

// cacheFormat changes when the cached JSON or the folding of the engine's
// stream changes.
const cacheFormat = "redline-source-scan/1"

type cacheEntry struct {
	Format    string         `json:"format"`
	Key       string         `json:"key"`
	GoVersion string         `json:"goVersion"`
	Findings  []vuln.Finding `json:"findings"`
}

// cacheKey hashes everything the engine's answer depends on; see
// Options.Cache.
func cacheKey(o Options, dir, dbDir string, patterns []string, genv map[string]string) (string, error) {
	h := sha256.New()
	field := func(name, value string) { fmt.Fprintf(h, "%s=%q\n", name, value) }
	field("format", cacheFormat)
	field("engine", engineVersion())
	for _, k := range goEnvVars {
		field(k, genv[k])
	}
	for _, p := range patterns {
		field("pattern", p)
	}
	for _, e := range o.Env {
		field("env", e)
	}
	if o.DataVersion != "" {
		field("data", o.DataVersion)
	} else {
		for _, f := range []string{"db.json", "modules.json"} {
			if err := hashFile(h, "data/"+f, filepath.Join(dbDir, "index", f)); err != nil {
				return "", fmt.Errorf("source scan: cache key: %w", err)
			}
		}
	}
	// The module, then the directories go.mod's replace lines and go.work's
	// use lines point at (their sources are compiled in too).
	dirs := []string{dir}
	dirs = append(dirs, localDirs(filepath.Join(dir, "go.mod"), "replace")...)
	if w := genv["GOWORK"]; w != "" && w != "off" {
		if err := hashFile(h, "go.work", w); err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("source scan: cache key: %w", err)
		}
		dirs = append(dirs, localDirs(w, "use")...)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			continue
		}
		seen[d] = true
		field("dir", d)
		if err := hashTree(h, d); err != nil {
			return "", fmt.Errorf("source scan: cache key: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func engineVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "golang.org/x/vuln" {
				if d.Replace != nil {
					d = d.Replace
				}
				return d.Path + "@" + d.Version + " " + d.Sum
			}
		}
	}
	return "golang.org/x/vuln@unknown"
}

func hashFile(h hash.Hash, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file %q %d\n", name, fi.Size())
	_, err = io.Copy(h, f)
	return err
}

// hashTree hashes the files of a module tree that the analysis reads: .go
// files, go.mod, go.sum, go.work, go.work.sum and vendor/modules.txt. It
// skips what the go command skips (testdata, directories starting with "."
// or "_") and nested modules.
func hashTree(h hash.Hash, root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // unreadable: the engine will say so
		}
		name := d.Name()
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && !strings.HasPrefix(rel, "vendor/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		switch {
		case strings.HasSuffix(name, ".go"),
			name == "go.mod", name == "go.sum", name == "go.work", name == "go.work.sum",
			rel == "vendor/modules.txt":
			return hashFile(h, rel, path)
		}
		return nil
	})
}

// localDirs returns the local directories named by a go.mod's replace
// directives or a go.work's use directives, resolved against the file's
// directory. It reads the file line by line: directive NAME ... or a
// parenthesised block.
func localDirs(file, directive string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	base := filepath.Dir(file)
	var out []string
	add := func(args string) {
		if i := strings.Index(args, "//"); i >= 0 {
			args = args[:i]
		}
		if directive == "replace" {
			_, target, ok := strings.Cut(args, "=>")
			if !ok {
				return
			}
			args = target
		}
		fields := strings.Fields(args)
		if len(fields) == 0 {
			return
		}
		p := strings.Trim(fields[0], `"`)
		// A replacement with a version is a module, not a directory.
		if directive == "replace" && len(fields) > 1 {
			return
		}
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") && p != "." && p != ".." {
			return
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		out = append(out, filepath.Clean(p))
	}
	sc := bufio.NewScanner(f)
	inBlock := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case inBlock && line == ")":
			inBlock = false
		case inBlock:
			add(line)
		case line == directive+" (":
			inBlock = true
		case strings.HasPrefix(line, directive+" "):
			add(strings.TrimPrefix(line, directive+" "))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func readCache(file, key string) ([]vuln.Finding, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Format != cacheFormat || e.Key != key || e.Findings == nil {
		return nil, false
	}
	return e.Findings, true
}

// writeCache writes atomically: a temporary file renamed into place.
func writeCache(file, key, goVersion string, findings []vuln.Finding) error {
	if findings == nil {
		findings = []vuln.Finding{}
	}
	b, err := json.Marshal(cacheEntry{Format: cacheFormat, Key: key, GoVersion: goVersion, Findings: findings})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
