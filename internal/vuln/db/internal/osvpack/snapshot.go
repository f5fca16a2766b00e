package osvpack

import (
	"encoding/json"
	"fmt"
)

// Names of the embedded snapshot's files in package db.
const (
	SnapshotData = "vulndb.zst"
	SnapshotMeta = "vulndb.json"
)

// BuildSnapshot turns a downloaded golang.org/x/vulndb module zip into the
// embedded snapshot's two files: the metadata (indented JSON) and the
// compressed body. The result depends only on the zip's content.
func BuildSnapshot(z ModuleZip) (meta, data []byte, warnings []string, err error) {
	s := &Set{}
	if err := s.AddModuleZip(z.Zip, z.Path, z.Version); err != nil {
		return nil, nil, nil, err
	}
	if s.Len() == 0 {
		return nil, nil, s.Warnings, fmt.Errorf("%s: no OSV entries under data/osv", z.Zip)
	}
	// The entries carry zero dates: the data's date is the commit time
	// that the pseudo-version (and the proxy's .info) record.
	date := VersionTime(z.Version)
	if date.IsZero() {
		date = z.Time
	}
	recs := s.Records()
	m := NewMeta(z.Path, z.Version, date, recs)
	m.Sum = z.Sum
	m.SetSkipped(s.Warnings)
	meta, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, nil, err
	}
	meta = append(meta, '\n')
	return meta, Compress(EncodeBody(recs), Best), s.Warnings, nil
}

// SetSkipped records warnings in m, bounded by MaxSkipped.
func (m *Meta) SetSkipped(warnings []string) {
	m.SkippedCount = len(warnings)
	m.Skipped = warnings[:min(len(warnings), MaxSkipped)]
	if len(m.Skipped) == 0 {
		m.Skipped = nil
	}
}
