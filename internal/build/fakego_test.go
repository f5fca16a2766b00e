package build

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// fakeELF describes a binary the fake go command writes: just enough ELF
// for debug/elf and debug/buildinfo, so the build logic is tested without
// a compiler.
type fakeELF struct {
	Machine elf.Machine
	Type    elf.Type // ET_EXEC (default) or ET_DYN (PIE)
	Interp  string   // a PT_INTERP makes it dynamically linked
	// Build info.
	GoVersion, ModPath, ModVersion string
	Settings                       map[string]string
	// Pad makes the binary this much larger (to tell builds apart).
	Pad int
}

// bytes lays out: ELF header, program headers, interp, build info (16-byte
// aligned), section name table, section headers.
func (f fakeELF) bytes() []byte {
	const vaddr = 0x400000
	typ := f.Type
	if typ == 0 {
		typ = elf.ET_EXEC
	}
	nProg := 1
	if f.Interp != "" {
		nProg = 2
	}
	var data bytes.Buffer
	dataOff := 64 + 56*nProg
	interpOff := dataOff
	data.WriteString(f.Interp)
	if f.Interp != "" {
		data.WriteByte(0)
	}
	for (dataOff+data.Len())%16 != 0 {
		data.WriteByte(0)
	}
	biOff := dataOff + data.Len()
	bi := buildInfoBlob(f)
	data.Write(bi)
	data.Write(make([]byte, f.Pad))
	shstrOff := dataOff + data.Len()
	shstr := "\x00.go.buildinfo\x00.shstrtab\x00"
	data.WriteString(shstr)
	for (dataOff+data.Len())%8 != 0 {
		data.WriteByte(0)
	}
	shOff := dataOff + data.Len()
	total := shOff + 3*64

	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) { binary.Write(&b, le, v) }
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	b.Write(make([]byte, 8))
	w(uint16(typ))
	w(uint16(f.Machine))
	w(uint32(1))
	w(uint64(vaddr)) // entry
	w(uint64(64))    // phoff
	w(uint64(shOff)) // shoff
	w(uint32(0))     // flags
	w(uint16(64))    // ehsize
	w(uint16(56))    // phentsize
	w(uint16(nProg)) // phnum
	w(uint16(64))    // shentsize
	w(uint16(3))     // shnum
	w(uint16(2))     // shstrndx
	prog := func(typ elf.ProgType, off, size int) {
		w(uint32(typ))
		w(uint32(elf.PF_R))
		w(uint64(off))
		w(uint64(vaddr + off))
		w(uint64(vaddr + off))
		w(uint64(size))
		w(uint64(size))
		w(uint64(0x1000))
	}
	prog(elf.PT_LOAD, 0, total)
	if f.Interp != "" {
		prog(elf.PT_INTERP, interpOff, len(f.Interp)+1)
	}
	b.Write(data.Bytes())
	sect := func(name uint32, typ elf.SectionType, addr, off, size int) {
		w(name)
		w(uint32(typ))
		w(uint64(elf.SHF_ALLOC))
		w(uint64(addr))
		w(uint64(off))
		w(uint64(size))
		w(uint32(0))
		w(uint32(0))
		w(uint64(1))
		w(uint64(0))
	}
	sect(0, elf.SHT_NULL, 0, 0, 0)
	sect(1, elf.SHT_PROGBITS, vaddr+biOff, biOff, len(bi))
	sect(15, elf.SHT_STRTAB, 0, shstrOff, len(shstr))
	return b.Bytes()
}

// buildInfoBlob is the .go.buildinfo section of Go ≥ 1.18: magic, pointer
// size, flags (inline strings), padding to 32 bytes, then the version and
// the module info as varint-prefixed strings.
func buildInfoBlob(f fakeELF) []byte {
	var b bytes.Buffer
	b.WriteString("\xff Go buildinf:")
	b.WriteByte(8)
	b.WriteByte(2)
	b.Write(make([]byte, 16))
	str := func(s string) {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	str(f.GoVersion)
	var mod strings.Builder
	fmt.Fprintf(&mod, "path\t%s\nmod\t%s\t%s\t\n", f.ModPath, f.ModPath, f.ModVersion)
	for _, k := range sortedKeys(f.Settings) {
		fmt.Fprintf(&mod, "build\t%s=%s\n", k, f.Settings[k])
	}
	const start = "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6"
	const end = "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	str(start + mod.String() + end)
	return b.Bytes()
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// fakeGo is a GoFunc that answers `go list` with Pkg and `go build -o OUT`
// by writing the ELF that Binary returns for the build's environment. It
// records every call.
type fakeGo struct {
	Pkg goPackage
	// Binary makes the output of a build; hardened tells the hardened
	// build from the default-flags one.
	Binary func(env map[string]string, hardened bool) fakeELF
	// BuildErr fails the hardened build.
	BuildErr error

	mu    sync.Mutex
	calls []fakeCall
}

type fakeCall struct {
	Dir  string
	Env  map[string]string
	Args []string
}

func (f *fakeGo) run(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	envm := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		envm[k] = v
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{Dir: dir, Env: envm, Args: args})
	f.mu.Unlock()
	switch args[0] {
	case "list":
		return json.Marshal(f.Pkg)
	case "build":
		hardened := contains(args, "-trimpath")
		if hardened && f.BuildErr != nil {
			return nil, f.BuildErr
		}
		var out string
		for i, a := range args {
			if a == "-o" {
				out = args[i+1]
			}
		}
		e := fakeELF{Machine: elfMachine[envm["GOARCH"]], GoVersion: "go1.26.8", ModPath: f.Pkg.ImportPath, ModVersion: "(devel)"}
		if f.Binary != nil {
			e = f.Binary(envm, hardened)
		}
		return nil, os.WriteFile(out, e.bytes(), 0o755)
	}
	return nil, fmt.Errorf("fake go: unexpected %v", args)
}

// builds returns the build calls, hardened ones when hardened is set.
func (f *fakeGo) builds(hardened bool) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Args[0] == "build" && contains(c.Args, "-trimpath") == hardened {
			out = append(out, c)
		}
	}
	return out
}

func TestFakeELFIsReadable(t *testing.T) {
	file := t.TempDir() + "/bin"
	e := fakeELF{Machine: elf.EM_X86_64, GoVersion: "go1.26.8", ModPath: "example.com/x", ModVersion: "v1.0.0",
		Settings: map[string]string{"vcs.revision": "abc", "vcs.time": "2026-01-02T03:04:05Z"}}
	if err := os.WriteFile(file, e.bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	facts, err := inspectELF(file)
	if err != nil {
		t.Fatal(err)
	}
	if !facts.Static || facts.Machine != elf.EM_X86_64 || facts.PIE {
		t.Errorf("facts = %+v, want static x86-64 non-PIE", facts)
	}
	e.Interp = "/lib64/ld-linux-x86-64.so.2"
	e.Type = elf.ET_DYN
	if err := os.WriteFile(file, e.bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	facts, err = inspectELF(file)
	if err != nil {
		t.Fatal(err)
	}
	if facts.Static || facts.Interp != "/lib64/ld-linux-x86-64.so.2" || !facts.PIE {
		t.Errorf("facts = %+v, want dynamic PIE with the loader", facts)
	}
}

func TestFakeELFBuildInfo(t *testing.T) {
	file := t.TempDir() + "/bin"
	e := fakeELF{Machine: elf.EM_X86_64, GoVersion: "go1.26.8", ModPath: "example.com/x", ModVersion: "v1.0.0",
		Settings: map[string]string{"vcs.revision": "abc", "vcs.time": "2026-01-02T03:04:05Z"}}
	if err := os.WriteFile(file, e.bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	info, err := readBuildInfo(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.GoVersion != "go1.26.8" || info.Main.Version != "v1.0.0" || len(info.Settings) != 2 {
		t.Errorf("build info = %+v", info)
	}
}
