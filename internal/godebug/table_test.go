package godebug

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEverySettingClassified(t *testing.T) {
	seen := map[string]bool{}
	for _, in := range goTable {
		seen[in.Name] = true
		c, ok := classes[in.Name]
		if !ok {
			t.Errorf("%s (from Go's table) has no classification in classify.go", in.Name)
			continue
		}
		switch c.class {
		case ClassSecurity, ClassBehaviour, ClassPerformance:
		default:
			t.Errorf("%s: class %q", in.Name, c.class)
		}
		if !strings.HasPrefix(c.meaning, in.Name) || c.reason == "" {
			t.Errorf("%s: meaning %q must start with the name, and a reason must be given", in.Name, c.meaning)
		}
		if strings.Contains(c.meaning, "\n") || strings.Contains(c.reason, "\n") {
			t.Errorf("%s: meaning and reason are one line each", in.Name)
		}
		if in.Changed != 0 && (c.def == "" || c.def == in.Old) {
			t.Errorf("%s: default changed in 1.%d from %q, but the classification's default is %q", in.Name, in.Changed, in.Old, c.def)
		}
		if c.weak != nil && c.class != ClassSecurity {
			t.Errorf("%s: only security settings weaken", in.Name)
		}
		if c.weak != nil && c.weak(c.def) {
			t.Errorf("%s: its own default %q counts as weak", in.Name, c.def)
		}
	}
	for name := range classes {
		if !seen[name] {
			t.Errorf("classify.go classifies %s, which no table lists", name)
		}
	}
}

// The old value of a security setting whose default Go changed is the
// weak one — except where Go's old value is itself a limit.
func TestSecurityOldValuesWeaken(t *testing.T) {
	notWeak := map[string]bool{"httpservecontentmaxranges": true} // Old "1": one range, stricter than 200
	for _, s := range Table() {
		if s.Class != ClassSecurity {
			continue
		}
		if s.Changed != "" && s.Weakens(s.Old) == notWeak[s.Name] {
			t.Errorf("%s: Weakens(old %q) = %v", s.Name, s.Old, s.Weakens(s.Old))
		}
		for _, v := range s.RemovedOld {
			if !s.Weakens(v) {
				t.Errorf("%s: removed old value %q does not weaken", s.Name, v)
			}
		}
	}
}

func TestTableFacts(t *testing.T) {
	tab := Table()
	if !sort.SliceIsSorted(tab, func(i, j int) bool { return tab[i].Name < tab[j].Name }) {
		t.Error("Table is not sorted by name")
	}
	if got, want := len(tab), 60; got != want {
		t.Errorf("len(Table()) = %d, want %d (regenerated? then review classify.go and this count)", got, want)
	}
	counts := map[Class]int{}
	for _, s := range tab {
		counts[s.Class]++
	}
	if diff := cmp.Diff(map[Class]int{ClassSecurity: 28, ClassBehaviour: 30, ClassPerformance: 2}, counts); diff != "" {
		t.Errorf("class counts (-want +got):\n%s", diff)
	}
	s, ok := Lookup("tls10server")
	want := Setting{
		Name: "tls10server", Package: "crypto/tls", Packages: []string{"crypto/tls"},
		Changed: "1.22", Old: "1", Default: "0", Removed: "1.27", RemovedOld: []string{"1"},
		Class: ClassSecurity, Meaning: classes["tls10server"].meaning, Reason: classes["tls10server"].reason,
	}
	if !ok {
		t.Fatal("tls10server unknown")
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("tls10server (-want +got):\n%s", diff)
	}
	for name, class := range map[string]Class{
		"containermaxprocs": ClassPerformance, "updatemaxprocs": ClassPerformance,
		"rsa1024min": ClassSecurity, "httplaxcontentlength": ClassSecurity, "x509negativeserial": ClassSecurity,
		"panicnil": ClassBehaviour, "http2client": ClassBehaviour, "gocachehash": ClassBehaviour,
	} {
		if s, _ := Lookup(name); s.Class != class {
			t.Errorf("%s: class %q, want %q", name, s.Class, class)
		}
	}
	if s, ok := Lookup("nosuchsetting"); ok || s.Class != ClassUnknown || s.Name != "nosuchsetting" {
		t.Errorf("Lookup(nosuchsetting) = %+v, %v", s, ok)
	}
	if s, _ := Lookup("gocacheverify"); !s.ToolchainOnly() {
		t.Error("gocacheverify is read by cmd/go only")
	}
	if s, _ := Lookup("tlssha1"); s.ToolchainOnly() {
		t.Error("tlssha1 changes programs")
	}
	if NewestToolchain() != "go1.27.3" {
		t.Errorf("NewestToolchain() = %s", NewestToolchain())
	}
}

// TestGeneratedTableIsCurrent regenerates table_gen.go with the
// go:generate line of godebug.go and wants the same bytes. It needs the
// Go module proxy (or a module cache holding the toolchain modules).
func TestGeneratedTableIsCurrent(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("REDLINE_E2E=1 regenerates the table from toolchain modules of the Go module proxy")
	}
	src, err := os.ReadFile("godebug.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^//go:generate go run \./gen (.*) -o table_gen\.go$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("godebug.go has no `//go:generate go run ./gen ... -o table_gen.go` line")
	}
	out := filepath.Join(t.TempDir(), "table_gen.go")
	args := append([]string{"run", "./gen"}, strings.Fields(string(m[1]))...)
	cmd := exec.Command("go", append(args, "-o", out)...)
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("table_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Errorf("table_gen.go is stale: run go generate ./internal/godebug\n%s", cmp.Diff(string(committed), string(got)))
	}
}
