package guard

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzProcFiles feeds arbitrary bytes to every parser of kernel files: none may panic,
// and what parses as a number must be that number.
//
//	go test -run '^$' -fuzz FuzzProcFiles -fuzztime 30s ./guard/
func FuzzProcFiles(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, name := range files {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			f.Add(file.Data)
		}
	}
	f.Add([]byte("99999999999999999999999\n"))
	f.Add([]byte("-1\n"))
	f.Add([]byte("max 100000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var groups []int
		st := parseStatus(b, &groups)
		if st.seen&fCapEff != 0 && st.bad&fCapEff == 0 && !bytes.Contains(b, []byte("CapEff:")) {
			t.Errorf("CapEff parsed from input without the field")
		}
		if m, err := parseMountinfo(b, []string{"/data", "/"}); err == nil {
			if m.memV1.found {
				cgroupDir("/a/b", m.memV1)
			}
		}
		if c, err := parseCgroups(b); err == nil && c.hasV2 && (c.v2 == "" || c.v2[0] != '/') {
			t.Errorf("v2 path %q", c.v2)
		}
		if v, max, err := parseLimit(b); err == nil && !max {
			trimmed := string(bytes.TrimSpace(b))
			if n, perr := strconv.ParseInt(trimmed, 10, 64); perr != nil || n != v {
				t.Errorf("parseLimit(%q) = %d, strconv says %d, %v", trimmed, v, n, perr)
			}
		}
		unescapeMount(b)
	})
}
