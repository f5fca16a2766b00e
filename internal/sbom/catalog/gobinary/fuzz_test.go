package gobinary_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// fakeBinary is an ELF header followed, 16-byte aligned, by a build info
// blob (Go 1.18+ layout: magic, pointer size, flags with the inline-strings
// bit, varint-prefixed version and sentinel-framed module info), then the
// runtime marker. It is the shape the streaming reader looks for, in a few
// hundred bytes instead of megabytes.
func fakeBinary(version, modinfo string) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(hdr[16:], 2)  // ET_EXEC
	binary.LittleEndian.PutUint16(hdr[18:], 62) // EM_X86_64
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	b.Write(hdr)
	b.WriteString("\xff Go buildinf:")
	b.WriteByte(8)
	b.WriteByte(2)
	b.Write(make([]byte, 16))
	put := func(s string) {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	put(version)
	if modinfo != "" {
		modinfo = strings.Repeat("0", 16) + modinfo + "\n" + strings.Repeat("1", 16)
	}
	put(modinfo)
	b.WriteString("\x00runtime.goexit\x00")
	return b.Bytes()
}

// FuzzRead feeds arbitrary executables to the build info reader, which sees
// every binary of every scanned image. Beyond not panicking: only I/O
// fails (never with an in-memory reader); a result either has build info
// or says why not; the build info it returns survives the standard
// library's own round trip; the reader does not depend on how the stream
// is split into reads; and the SBOM components made from the result carry
// package URLs that parse.
func FuzzRead(f *testing.F) {
	mod := "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.14.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=\nbuild\tCGO_ENABLED=0\n"
	f.Add(fakeBinary("go1.26.8", mod))
	f.Add(fakeBinary("go1.26.8", ""))
	f.Add(fakeBinary("go1.22.0", "path\tx\nmod\tx\tv1.0.0\nbuild\t-ldflags=\"-s -w\"\n"))
	f.Add(fakeBinary("devel go1.27-abcdef", "dep\t../evil\tv0.0.0\n=>\t/abs\t\n"))
	lying := fakeBinary("go1.26.8", mod)
	lying[64+32] = 0xff // the version's varint length claims far more than there is
	lying[64+33] = 0xff
	f.Add(lying)
	f.Add(fakeBinary("go1.26.8", mod)[:100]) // cut inside the build info
	f.Add([]byte("MZ\x90\x00not really a PE file, no Go inside"))
	f.Add([]byte("\x7fELF\x01\x02\x01\x00 a 32-bit big-endian header, cut short"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := gobinary.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Read of an in-memory file failed: %v", err)
		}
		again, err := gobinary.Read(iotest.OneByteReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("Read one byte at a time failed: %v", err)
		}
		if (b == nil) != (again == nil) || b != nil && (b.GoVersion != again.GoVersion || b.BuildError != again.BuildError || (b.Info == nil) != (again.Info == nil)) {
			t.Fatalf("the result depends on read sizes: %+v vs %+v", b, again)
		}
		if b == nil {
			return
		}
		if b.Size != int64(len(data)) {
			t.Errorf("Size = %d, want %d", b.Size, len(data))
		}
		if (b.Info == nil) == (b.BuildError == "") {
			t.Fatalf("Info %v and BuildError %q: want exactly one", b.Info, b.BuildError)
		}
		if b.Info != nil {
			if b.Info.GoVersion != b.GoVersion {
				t.Errorf("Info.GoVersion %q, GoVersion %q", b.Info.GoVersion, b.GoVersion)
			}
			s := b.Info.String()
			bi, err := debug.ParseBuildInfo(s)
			if err != nil {
				t.Fatalf("build info as read does not parse back: %v\n%s", err, s)
			}
			bi.GoVersion = b.Info.GoVersion // the "go" line is the toolchain's, not the module info's
			if bi.String() != s {
				t.Errorf("build info does not round-trip:\n%s\nvs\n%s", s, bi.String())
			}
		}
		comps, _, warn := gobinary.Components("/app", 0, b)
		if len(comps) == 0 {
			t.Fatal("a Go binary gave no components")
		}
		if b.Info == nil && warn == "" {
			t.Error("no warning for a binary without build info")
		}
		for _, c := range comps {
			if c.PURL == "" {
				continue
			}
			if _, err := packageurl.FromString(c.PURL); err != nil {
				t.Errorf("component %q: package URL %q does not parse: %v", c.Name, c.PURL, err)
			}
		}
	})
}

// TestBuildInfoAtChunkEdges puts the build info blob at aligned offsets
// around the reader's 256 KiB chunk edges, behind an unaligned decoy
// magic: the blob must be found wherever it sits, and the decoy never.
func TestBuildInfoAtChunkEdges(t *testing.T) {
	const chunk = 256 << 10
	mod := "path\texample.com/app\nmod\texample.com/app\tv1.2.3\t\n"
	blob := fakeBinary("go1.26.8", mod)[64:] // the magic onwards
	decoy := fakeBinary("go1.0.0", "path\tdecoy\n")[64:]
	read := func(img []byte, split bool) *gobinary.Binary {
		t.Helper()
		var r io.Reader = bytes.NewReader(img)
		if split {
			r = iotest.HalfReader(r)
		}
		b, err := gobinary.Read(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, at := range []int{chunk - 48, chunk - 32, chunk - 16, chunk, chunk + 16, 2*chunk - 16, 3 * chunk} {
		for _, decoyAt := range []int{at - 8, at - 40, 100} {
			img := append([]byte(nil), fakeBinary("", "")[:64]...)
			img = append(img, bytes.Repeat([]byte{0xff}, at-len(img))...)
			copy(img[decoyAt:], decoy) // an unaligned magic and its blob, cut at the real one
			img = append(img[:at], blob...)
			for _, split := range []bool{false, true} {
				b := read(img, split)
				if b.Info == nil || b.GoVersion != "go1.26.8" || b.Info.Main.Version != "v1.2.3" {
					t.Errorf("blob at %d, decoy at %d (split reads %v): version %q, info %+v; want go1.26.8, example.com/app v1.2.3", at, decoyAt, split, b.GoVersion, b.Info)
				}
			}
		}
	}
	// Only an unaligned magic: no build info, however it is read.
	img := append([]byte(nil), fakeBinary("", "")[:64]...)
	img = append(img, make([]byte, chunk-8-64)...)
	img = append(img, blob...) // at chunk-8: not 16-aligned
	for _, split := range []bool{false, true} {
		if b := read(img, split); b.Info != nil {
			t.Errorf("an unaligned magic was taken for build info (split reads %v): %+v", split, b.Info)
		}
	}
}
