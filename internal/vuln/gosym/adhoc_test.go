package gosym

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAdhoc(t *testing.T) {
	files, _ := filepath.Glob("/tmp/gs/out/*")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		tab, err := Read(bytesReaderAt(data), int64(len(data)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		c := NewCollector(64 << 20)
		for i := 0; i < len(data); i += 32 << 10 {
			c.Write(data[i:min(len(data), i+32<<10)])
		}
		tab2, err := c.Table()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		t.Logf("%s: %s %s gofunc=%#x md=%#x ftab=%d inl=%d total=%d kept=%d/%d same=%v", filepath.Base(p), tab.goVersion, tab.method, tab.gofunc, tab.mdAddr, tab.numFTab, tab.numInline, len(tab.funcs), c.kept, len(data), slices.Equal(tab.funcs, tab2.funcs))
	}
}
