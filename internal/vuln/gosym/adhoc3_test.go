package gosym

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func nameTabSet(t *testing.T, data []byte) []string {
	l, err := parseHeaders(data, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	src := fullSource{r: bytesReaderAt(data), size: int64(len(data))}
	m := &memory{}
	for _, r := range l.regions {
		if r.kind == kindReadOnly {
			m.regions = append(m.regions, r)
			m.data = append(m.data, data[r.off:r.off+r.filesz])
		}
	}
	h, _ := findPCHeader(m)
	md := findModuledata(src, l, h)
	tb, _ := newTable(h, md)
	return uniqueNames(string(tb.funcnametab), tb.allNames())
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) { return copy(p, b[off:]), nil }

func TestAdhocNames(t *testing.T) {
	files, _ := filepath.Glob("/tmp/xb/*")
	files = append(files, "/tmp/gs/out/srv", "/tmp/gs/out/srv127s", "/tmp/esc/x19")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		tab, err := Read(bytesReaderAt(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		nt := nameTabSet(t, data)
		t.Logf("%s: equal=%v %d %d", filepath.Base(p), slices.Equal(nt, tab.funcs), len(nt), len(tab.funcs))
	}
}
