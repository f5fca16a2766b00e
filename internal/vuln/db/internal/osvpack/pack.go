// Package osvpack is the storage format of redline's vulnerability data:
// validated OSV entries with a small index, compressed with zstd. The
// embedded snapshot and every source in the cache use it; the generator of
// the snapshot shares it with package db.
//
// # Body
//
// The uncompressed body is a magic line followed by uvarint-framed
// records. Each record carries what indexing needs (ID, withdrawn flag,
// the (ecosystem, name) pairs of its affected packages) before the entry's
// compact JSON, so loading builds the index without decoding any JSON;
// entries are decoded when looked up.
//
// # Pack files
//
// A pack file (the cache's unit, written atomically) is a header line, a
// one-line JSON [Meta], and a zstd frame holding the body, so the metadata
// can be read without decompressing anything.
package osvpack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/redline-go/redline/internal/vuln/osv"
)

// ErrCorrupt reports stored data that does not decode.
var ErrCorrupt = errors.New("osvpack: corrupt data")

const (
	bodyMagic = "redline-osv-body 1\n"
	packMagic = "redline-osvpack 1\n"
	// maxMetaLine bounds the metadata line of a pack file.
	maxMetaLine = 1 << 20
	// MaxBody bounds a decompressed body (hostile or corrupt cache files
	// must not exhaust memory). osv.dev's largest ecosystems stay far below.
	MaxBody = 4 << 30
)

// Meta describes one source of data.
type Meta struct {
	// Name is the source: "golang.org/x/vulndb", "vuln.go.dev", "osv.dev"
	// or "import:NAME".
	Name string `json:"name"`
	// Version is the module version for golang.org/x/vulndb, else empty.
	Version string `json:"version,omitempty"`
	// Date is the data's date (see package db).
	Date time.Time `json:"date"`
	// Entries counts the entries stored.
	Entries int `json:"entries"`
	// Ecosystems counts entries per ecosystem as written in the data; an
	// entry affecting two ecosystems counts in both.
	Ecosystems map[string]int `json:"ecosystems"`
	// Sum is the module zip's go.sum hash (h1:...) when the data came from
	// a module.
	Sum string `json:"sum,omitempty"`
	// Origin says where the data was read from (URL, GOPROXY or path).
	Origin string `json:"origin,omitempty"`
	// Stored is when the data was written to the cache; zero in the
	// embedded snapshot so that regenerating it is reproducible.
	Stored time.Time `json:"stored,omitzero"`
	// Skipped lists the warnings of reading the data (malformed entries
	// left out), at most MaxSkipped of them.
	Skipped []string `json:"skipped,omitempty"`
	// SkippedCount counts all of them.
	SkippedCount int `json:"skipped_count,omitempty"`
}

// MaxSkipped bounds Meta.Skipped.
const MaxSkipped = 100

// Pkg is an affected package.
type Pkg struct{ Ecosystem, Name string }

// Record is one entry: the index fields and the compact JSON.
type Record struct {
	ID        string
	Withdrawn bool
	// Packages are the distinct affected packages, in order of appearance.
	Packages []Pkg
	// JSON is the entry, compact.
	JSON []byte
	// Entry is the decoded entry when the record was just read and
	// validated; nil when the record comes from a body.
	Entry *osv.Entry
	// File names where the record was read from, for messages.
	File string
}

// Ecosystems returns the distinct ecosystems of r's packages.
func (r *Record) Ecosystems() []string {
	var out []string
	for _, p := range r.Packages {
		if !slices.Contains(out, p.Ecosystem) {
			out = append(out, p.Ecosystem)
		}
	}
	return out
}

// NewMeta fills the counts of a Meta from recs.
func NewMeta(name, version string, date time.Time, recs []Record) Meta {
	m := Meta{Name: name, Version: version, Date: date.UTC(), Entries: len(recs), Ecosystems: map[string]int{}}
	for i := range recs {
		for _, e := range recs[i].Ecosystems() {
			m.Ecosystems[e]++
		}
	}
	return m
}

// EncodeBody serialises recs, sorted by ID, into an uncompressed body.
func EncodeBody(recs []Record) []byte {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	var b []byte
	b = append(b, bodyMagic...)
	b = binary.AppendUvarint(b, uint64(len(recs)))
	str := func(s []byte) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, r := range recs {
		str([]byte(r.ID))
		var flags byte
		if r.Withdrawn {
			flags |= 1
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(len(r.Packages)))
		for _, p := range r.Packages {
			str([]byte(p.Ecosystem))
			str([]byte(p.Name))
		}
		str(r.JSON)
	}
	return b
}

// DecodeBody parses an uncompressed body. Records' JSON alias body.
func DecodeBody(body []byte) ([]Record, error) {
	if !bytes.HasPrefix(body, []byte(bodyMagic)) {
		return nil, fmt.Errorf("%w: not a redline OSV body", ErrCorrupt)
	}
	d := decoder{b: body[len(bodyMagic):]}
	n := d.uvarint()
	// Every record takes at least 4 bytes: never trust n for allocation
	// beyond what the body can hold.
	if d.err != nil || n > uint64(len(d.b)/4) {
		return nil, fmt.Errorf("%w: bad record count", ErrCorrupt)
	}
	recs := make([]Record, n)
	// Ecosystem names repeat thousands of times: share one string each.
	intern := map[string]string{}
	for i := range recs {
		r := &recs[i]
		r.ID = string(d.bytes())
		r.Withdrawn = d.byte()&1 != 0
		np := d.uvarint()
		if np > uint64(len(d.b)/2) {
			return nil, fmt.Errorf("%w: record %d: bad package count", ErrCorrupt, i)
		}
		r.Packages = make([]Pkg, np)
		for j := range r.Packages {
			eco := d.bytes()
			s, ok := intern[string(eco)]
			if !ok {
				s = string(eco)
				intern[s] = s
			}
			r.Packages[j] = Pkg{Ecosystem: s, Name: string(d.bytes())}
		}
		r.JSON = d.bytes()
		if d.err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrCorrupt, i, d.err)
		}
		if r.ID == "" || len(r.JSON) == 0 {
			return nil, fmt.Errorf("%w: record %d: empty", ErrCorrupt, i)
		}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return recs, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = io.ErrUnexpectedEOF
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = io.ErrUnexpectedEOF
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// Level is a compression level.
type Level int

// Compression levels: Best for the embedded snapshot (small binary, slow
// to write), Fast for the cache (imports of large ecosystems).
const (
	Fast Level = iota
	Best
)

// Compress compresses body. The output is a deterministic function of
// body and level for a given klauspost/compress version: the embedded
// snapshot's guard test relies on it.
func Compress(body []byte, level Level) []byte {
	lvl := zstd.SpeedDefault
	if level == Best {
		lvl = zstd.SpeedBestCompression
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(8<<20))
	if err != nil {
		panic(err) // only invalid options fail
	}
	defer enc.Close()
	return enc.EncodeAll(body, make([]byte, 0, len(body)/8))
}

// Decompress reverses Compress, bounded by MaxBody.
func Decompress(data []byte) ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxBody))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	body, err := dec.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return body, nil
}

// WritePack writes a pack file's content: header, meta, compressed body.
func WritePack(w io.Writer, m Meta, compressed []byte) error {
	mb, err := json.Marshal(m)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(packMagic)
	bw.Write(mb)
	bw.WriteByte('\n')
	bw.Write(compressed)
	return bw.Flush()
}

// ReadPackMeta reads only the metadata of a pack file.
func ReadPackMeta(path string) (Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, err
	}
	defer f.Close()
	m, _, err := readHeader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return Meta{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// IsPack reports whether data starts like a pack file.
func IsPack(prefix []byte) bool { return bytes.HasPrefix(prefix, []byte(packMagic)) }

// ReadPack reads a whole pack file and decodes its records.
func ReadPack(path string) (Meta, []Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, nil, err
	}
	r := bufio.NewReader(bytes.NewReader(data))
	m, n, err := readHeader(r)
	if err != nil {
		return Meta{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	body, err := Decompress(data[n:])
	if err != nil {
		return Meta{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	recs, err := DecodeBody(body)
	if err != nil {
		return Meta{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) != m.Entries {
		return Meta{}, nil, fmt.Errorf("%s: %w: %d entries, metadata says %d", path, ErrCorrupt, len(recs), m.Entries)
	}
	return m, recs, nil
}

// readHeader parses the header and meta lines and returns how many bytes
// they took.
func readHeader(r *bufio.Reader) (Meta, int, error) {
	magic, err := r.ReadString('\n')
	if err != nil || magic != packMagic {
		return Meta{}, 0, fmt.Errorf("%w: not a redline OSV pack", ErrCorrupt)
	}
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return Meta{}, 0, fmt.Errorf("%w: truncated metadata", ErrCorrupt)
		}
		line = append(line, chunk...)
		if len(line) > maxMetaLine {
			return Meta{}, 0, fmt.Errorf("%w: metadata too long", ErrCorrupt)
		}
		if !isPrefix {
			break
		}
	}
	var m Meta
	if err := json.Unmarshal(line, &m); err != nil {
		return Meta{}, 0, fmt.Errorf("%w: metadata: %v", ErrCorrupt, err)
	}
	if m.Name == "" {
		return Meta{}, 0, fmt.Errorf("%w: metadata without a source name", ErrCorrupt)
	}
	return m, len(magic) + len(line) + 1, nil
}
