package osvpack

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/vuln/osv"
)

// ErrInsecurePath reports a zip member whose name is absolute, has a ".."
// element or a backslash. Such an archive is refused
// as a whole: it was not made by an OSV exporter.
var ErrInsecurePath = errors.New("osvpack: insecure file name in zip")

// MaxEntrySize bounds one OSV file. The largest real entries (long
// "versions" lists) are a few MB.
const MaxEntrySize = 64 << 20

// Set collects validated records read from files, with the warnings of
// what was skipped. The zero value is ready to use.
type Set struct {
	recs     []Record
	byID     map[string]int
	Warnings []string
	// Newest is the newest modified or published date among the entries.
	Newest time.Time
	// KeepEntries keeps the decoded entry in each record (for data used
	// right away); otherwise only the JSON is kept.
	KeepEntries bool
}

// Records returns the records, sorted by ID.
func (s *Set) Records() []Record {
	out := slices.Clone(s.recs)
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Len counts the records.
func (s *Set) Len() int { return len(s.recs) }

func (s *Set) warnf(file, format string, args ...any) {
	s.Warnings = append(s.Warnings, file+": "+fmt.Sprintf(format, args...))
}

// Add parses data read from file: one OSV entry, or a JSON array of them.
// What is malformed is skipped with a warning naming file.
func (s *Set) Add(file string, data []byte) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		s.warnf(file, "skipped: empty file (still being written?)")
		return
	}
	if trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil {
			s.warnf(file, "skipped: malformed OSV JSON: %v", jsonErr(err))
			return
		}
		if len(list) == 0 {
			s.warnf(file, "skipped: an empty list of OSV entries")
			return
		}
		for i, raw := range list {
			s.addOne(fmt.Sprintf("%s[%d]", file, i), raw)
		}
		return
	}
	s.addOne(file, trimmed)
}

func (s *Set) addOne(file string, data []byte) {
	var e osv.Entry
	if err := json.Unmarshal(data, &e); err != nil {
		s.warnf(file, "skipped: malformed OSV entry: %v", jsonErr(err))
		return
	}
	if err := e.Validate(); err != nil {
		s.warnf(file, "skipped: invalid OSV entry: %v", err)
		return
	}
	if err := CheckID(e.ID); err != nil {
		s.warnf(file, "skipped: %v", err)
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		s.warnf(file, "skipped: malformed OSV entry: %v", jsonErr(err))
		return
	}
	r := Record{ID: e.ID, Withdrawn: !e.Withdrawn.IsZero(), JSON: compact.Bytes(), File: file}
	for _, a := range e.Affected {
		p := Pkg{Ecosystem: a.Package.Ecosystem, Name: a.Package.Name}
		if !slices.Contains(r.Packages, p) {
			r.Packages = append(r.Packages, p)
		}
	}
	if s.KeepEntries {
		r.Entry = &e
	}
	for _, t := range []time.Time{e.Modified, e.Published} {
		if t.After(s.Newest) {
			s.Newest = t.UTC()
		}
	}
	if s.byID == nil {
		s.byID = map[string]int{}
	}
	if i, ok := s.byID[e.ID]; ok {
		s.warnf(file, "duplicate id %s (also in %s): this one is used", e.ID, s.recs[i].File)
		s.recs[i] = r
		return
	}
	s.byID[e.ID] = len(s.recs)
	s.recs = append(s.recs, r)
}

// jsonErr shortens a JSON error to what a user can act on.
func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v (at byte %d)", se, se.Offset)
	}
	return err
}

// CheckID accepts the IDs OSV databases issue (GO-2024-1234,
// DEBIAN-CVE-2024-1, GHSA-xxxx-xxxx-xxxx, openSUSE-SU-2024:0001-1) and
// refuses what could not be a file name.
func CheckID(id string) error {
	if len(id) > 200 || strings.HasPrefix(id, ".") {
		return fmt.Errorf("unusable id %q", id)
	}
	for _, c := range id {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("-_.:+", c):
		default:
			return fmt.Errorf("unusable id %q", id)
		}
	}
	return nil
}

// partial reports names of JSON files that look like they are still being
// written by common tools (editors, downloaders, atomic writers).
func partial(name string) bool {
	base := path.Base(name)
	if !strings.Contains(base, ".json") {
		return false
	}
	for _, suf := range []string{".tmp", ".part", ".partial", ".crdownload", ".download", "~"} {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	return strings.HasPrefix(base, ".")
}

// AddDir reads every *.json file under dir (recursively, in lexical
// order). Files that look like they are still being written are skipped
// with a warning; other files are not OSV and are ignored. I/O errors are
// errors.
func (s *Set) AddDir(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if partial(p) {
			s.warnf(p, "skipped: looks like a file still being written")
			return nil
		}
		if !strings.HasSuffix(p, ".json") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() > MaxEntrySize {
			s.warnf(p, "skipped: %d bytes, more than an OSV entry may have (%d)", fi.Size(), MaxEntrySize)
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.Add(p, data)
		return nil
	})
}

// ZipFilter reports whether a member holds OSV data.
type ZipFilter func(name string) bool

// AllJSON takes every *.json member.
func AllJSON(name string) bool { return strings.HasSuffix(name, ".json") }

// AddZip reads the OSV members of a zip archive (label names it in
// messages). A member with an insecure name fails the whole archive.
func (s *Set) AddZip(label string, r io.ReaderAt, size int64, filter ZipFilter) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("%s: %w", label, err)
	}
	for _, f := range zr.File {
		if !secureName(f.Name) {
			return fmt.Errorf("%s: member %q: %w", label, f.Name, ErrInsecurePath)
		}
	}
	files := slices.Clone(zr.File)
	slices.SortStableFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range files {
		if f.FileInfo().IsDir() {
			continue
		}
		where := label + ": " + f.Name
		if partial(f.Name) {
			s.warnf(where, "skipped: looks like a file still being written")
			continue
		}
		if !filter(f.Name) {
			continue
		}
		if f.UncompressedSize64 > MaxEntrySize {
			s.warnf(where, "skipped: %d bytes, more than an OSV entry may have (%d)", f.UncompressedSize64, MaxEntrySize)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, MaxEntrySize+1))
		rc.Close()
		if err != nil {
			// A checksum or inflate error inside a readable archive is
			// content that cannot be parsed: skip it, say so.
			s.warnf(where, "skipped: %v", err)
			continue
		}
		if len(data) > MaxEntrySize {
			s.warnf(where, "skipped: more than %d bytes", MaxEntrySize)
			continue
		}
		s.Add(where, data)
	}
	return nil
}

// AddZipFile is AddZip on a file.
func (s *Set) AddZipFile(path string, filter ZipFilter) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return s.AddZip(path, f, fi.Size(), filter)
}

// secureName reports whether a zip member name stays inside the archive.
func secureName(name string) bool {
	if name == "" || strings.Contains(name, `\`) || strings.HasPrefix(name, "/") {
		return false
	}
	// ".." is refused even where it stays inside (a/../b): no exporter
	// writes it, and it makes two names for one file.
	if slices.Contains(strings.Split(name, "/"), "..") {
		return false
	}
	return filepath.IsLocal(strings.TrimSuffix(name, "/"))
}

// IsZip reports whether a file starts like a zip archive.
func IsZip(prefix []byte) bool {
	return bytes.HasPrefix(prefix, []byte("PK\x03\x04")) || bytes.HasPrefix(prefix, []byte("PK\x05\x06"))
}
