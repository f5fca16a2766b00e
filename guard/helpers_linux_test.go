package guard

import (
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// edit changes a fixture file after extraction: new contents, or removal when del is set.
type edit struct {
	path string
	data string
	del  bool
}

// loadFixture extracts testdata/NAME.txtar into a new directory, the root guard reads
// below, and applies the edits.
func loadFixture(t testing.TB, name string, edits ...edit) string {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range ar.Files {
		writeFile(t, filepath.Join(root, f.Name), string(f.Data))
	}
	for _, e := range edits {
		p := filepath.Join(root, e.path)
		if e.del {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, p, e.data)
	}
	return root
}

func writeFile(t testing.TB, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeMem stands in for debug.SetMemoryLimit.
type fakeMem struct{ v atomic.Int64 }

func newFakeMem() *fakeMem {
	m := &fakeMem{}
	m.v.Store(math.MaxInt64)
	return m
}

func (m *fakeMem) set(v int64) int64 {
	if v < 0 {
		return m.v.Load()
	}
	return m.v.Swap(v)
}

// fixtureHost is a host reading below root, with the given environment, GOMAXPROCS and
// CPU count.
func fixtureHost(root string, env map[string]string, procs, ncpu int) (*host, *fakeMem) {
	mem := newFakeMem()
	return &host{
		root:           root,
		lookupEnv:      func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		setMemoryLimit: mem.set,
		gomaxprocs:     func() int { return procs },
		numCPU:         func() int { return ncpu },
		memSetByGuard:  new(atomic.Int64),
		sys:            &fakeSys{},
	}, mem
}

// fakeSys records the capability system calls instead of making them.
type fakeSys struct {
	calls []string
	err   error // returned by every call
}

func (f *fakeSys) capset(eff, prm, inh capSet) error {
	f.calls = append(f.calls, "capset eff="+eff.String()+" prm="+prm.String()+" inh="+inh.String())
	return f.err
}

func (f *fakeSys) prctl(option, arg2, arg3 uintptr) error {
	var s string
	switch option {
	case prCapbsetDrop:
		s = "bounding drop " + capName(int(arg2))
	case prCapAmbient:
		s = "ambient lower " + capName(int(arg3))
	case prSetNoNewPrivs:
		s = "no_new_privs"
	default:
		s = "prctl ?"
	}
	f.calls = append(f.calls, s)
	return f.err
}

// brief is the part of a result most tests compare.
type brief struct {
	Status   Status
	Observed string
}

func briefs(r Report) map[string]brief {
	m := make(map[string]brief, len(r.Results))
	for _, c := range r.Results {
		m[c.ID] = brief{c.Status, c.Observed}
	}
	return m
}
