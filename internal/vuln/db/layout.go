package db

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/semver"

	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// WriteVulnDBLayout writes the Go entries (those affecting an ecosystem
// "Go" package, withdrawn ones included, as vuln.go.dev serves them) in
// the layout of the Go vulnerability database's v1 API
// (https://go.dev/security/vuln/database#api), which golang.org/x/vuln's
// file:// client reads (govulncheck -db file:///DIR, and
// golang.org/x/vuln/scan):
//
//	index/db.json       {"modified": DATE}
//	index/modules.json  [{"path": MODULE, "vulns": [{"id", "modified", "fixed"}]}], by path
//	index/vulns.json    [{"id", "modified", "aliases"}], by id
//	ID/ID.json          the entry
//
// DATE is the oldest date of the sources holding Go entries: entries of
// golang.org/x/vulndb carry zero dates, and govulncheck shows this one as
// the database's. "fixed" is the fix no later introduction supersedes, as
// x/vulndb computes it. The layout is built in a temporary directory
// beside dir and renamed into place, replacing what dir held.
func (d *DB) WriteVulnDBLayout(dir string) error {
	type modVuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	type modMeta struct {
		Path  string    `json:"path"`
		Vulns []modVuln `json:"vulns"`
	}
	type vulnMeta struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
	var date time.Time
	srcHasGo := map[int]bool{}
	mods := map[string]*modMeta{}
	var vulns []vulnMeta
	var ids []string
	for _, id := range d.IDs() {
		e := d.entries[id]
		if !slices.ContainsFunc(e.pkgs, func(p osvpack.Pkg) bool { return p.Ecosystem == osv.EcosystemGo }) {
			continue
		}
		v := d.decode(e)
		if v == nil {
			return fmt.Errorf("writing %s: entry %s cannot be decoded (see warnings)", dir, id)
		}
		srcHasGo[e.src] = true
		ids = append(ids, id)
		vulns = append(vulns, vulnMeta{ID: id, Modified: v.Modified, Aliases: v.Aliases})
		for _, a := range v.Affected {
			if a.Package.Ecosystem != osv.EcosystemGo {
				continue
			}
			m := mods[a.Package.Name]
			if m == nil {
				m = &modMeta{Path: a.Package.Name, Vulns: []modVuln{}}
				mods[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, modVuln{ID: id, Modified: v.Modified, Fixed: nonSupersededFix(a.Ranges)})
		}
	}
	for si := range d.sources {
		if srcHasGo[si] && (date.IsZero() || d.sources[si].Date.Before(date)) {
			date = d.sources[si].Date
		}
	}
	modList := make([]*modMeta, 0, len(mods))
	for _, m := range mods {
		modList = append(modList, m)
	}
	slices.SortFunc(modList, func(a, b *modMeta) int { return strings.Compare(a.Path, b.Path) })

	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, sub := range []string{layoutIndexDir, layoutIDDir} {
		if err := os.Mkdir(filepath.Join(tmp, sub), 0o755); err != nil {
			return err
		}
	}
	write := func(rel string, b []byte) error { return os.WriteFile(filepath.Join(tmp, rel), b, 0o644) }
	for rel, v := range map[string]any{
		"index/db.json": struct {
			Modified time.Time `json:"modified"`
		}{date},
		"index/modules.json": modList,
		"index/vulns.json":   vulns,
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := write(filepath.FromSlash(rel), b); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
	}
	// Thousands of small files: creating them is latency-bound, so a few
	// writers run at once.
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		writeErr error
		next     atomic.Int64
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				if err := write(filepath.Join(layoutIDDir, ids[i]+".json"), d.entries[ids[i]].raw); err != nil {
					errOnce.Do(func() { writeErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if writeErr != nil {
		return fmt.Errorf("writing %s: %w", dir, writeErr)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// Swap: move what dir held aside, move the new layout in, drop the old.
	old := ""
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// nonSupersededFix returns the latest SEMVER fix of ranges, or "" when
// the vulnerability was introduced again after it: the "fixed" of
// index/modules.json, computed as golang.org/x/vulndb does.
func nonSupersededFix(ranges []osv.Range) string {
	// OSV SEMVER versions have no "v"; "" sorts first (invalid).
	less := func(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }
	latest := ""
	for _, r := range ranges {
		if r.Type != osv.RangeSemver {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}
