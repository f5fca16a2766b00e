package godebug

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type flip struct {
	Name, From, To string
	Link           Link
}

func flips(cs []Change) []flip {
	var out []flip
	for _, c := range cs {
		out = append(out, flip{c.Name, c.From, c.To, c.Link})
	}
	return out
}

func only(pkgs ...string) func(string) bool {
	return func(p string) bool {
		for _, q := range pkgs {
			if p == q {
				return true
			}
		}
		return false
	}
}

// Moving a go 1.16 program from go1.26.8 to go1.27.3 without touching the
// go line: what Go 1.27 removed flips; what it added keeps its old value.
func TestUpgradeToolchainOnly(t *testing.T) {
	cs, err := Upgrade(State{Toolchain: "go1.26.8", GoLine: "1.16"}, State{Toolchain: "go1.27.3", GoLine: "1.16"}, only("crypto/tls", "fmt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []flip{
		{"tls10server", "1", "0", Linked}, {"tls3des", "1", "0", Linked}, {"tlsrsakex", "1", "0", Linked}, {"tlsunsafeekm", "1", "0", Linked},
		{"asynctimerchan", "1", "0", NotLinked}, {"gotypesalias", "0", "1", NotLinked}, {"x509keypairleaf", "0", "1", Linked},
	}
	if diff := cmp.Diff(want, flips(cs)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, c := range cs {
		if !strings.Contains(c.Why, "Go 1.27 removed") || c.BreaksBuild {
			t.Errorf("%s: why %q, breaks %v", c.Name, c.Why, c.BreaksBuild)
		}
	}
}

// Moving the go line from 1.16 to the toolchain's own 1.26 flips exactly
// the entries the go command wrote into the go 1.16 binary's
// DefaultGODEBUG (go116, checked against a real build in TestBinaries).
func TestUpgradeGoLineMatchesDefaultGODEBUG(t *testing.T) {
	cs, err := Upgrade(State{Toolchain: "go1.26.8", GoLine: "1.16"}, State{Toolchain: "go1.26.8", GoLine: "1.26"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cs {
		got[c.Name] = c.From
		if def := classes[c.Name].def; c.To != def {
			t.Errorf("%s: to %q, want the default %q", c.Name, c.To, def)
		}
		if !strings.Contains(c.Why, "the go line moves from 1.16 to 1.26") {
			t.Errorf("%s: why %q", c.Name, c.Why)
		}
	}
	want := map[string]string{}
	for _, e := range strings.Split(go116, ",") {
		k, v, _ := strings.Cut(e, "=")
		want[k] = v
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flips vs the go 1.16 DefaultGODEBUG (-want +got):\n%s", diff)
	}
	if cs[0].Class != ClassSecurity || cs[len(cs)-1].Class != ClassBehaviour {
		t.Errorf("order: security first, behaviour last: %s ... %s", cs[0].Class, cs[len(cs)-1].Class)
	}
}

func TestUpgradeLinks(t *testing.T) {
	from, to := State{Toolchain: "go1.27.3", GoLine: "1.21"}, State{Toolchain: "go1.27.3", GoLine: "1.27"}
	link := func(links func(string) bool) map[string]Link {
		cs, err := Upgrade(from, to, links)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]Link{}
		for _, c := range cs {
			m[c.Name] = c.Link
		}
		return m
	}
	unknown := link(nil)
	for name, want := range map[string]Link{
		"tlssha1": LinkUnknown, "containermaxprocs": Linked, "gotestjsonbuildtext": LinkToolchain, "cryptocustomrand": LinkUnknown,
	} {
		if unknown[name] != want {
			t.Errorf("no links: %s is %q, want %q", name, unknown[name], want)
		}
	}
	// cryptocustomrand is read in package crypto but acts in crypto/rsa.
	rsa := link(only("crypto/rsa"))
	for name, want := range map[string]Link{"cryptocustomrand": Linked, "tlssha1": NotLinked, "panicnil": ""} {
		if rsa[name] != want {
			t.Errorf("links crypto/rsa: %s is %q, want %q", name, rsa[name], want)
		}
	}
}

func TestUpgradePinsAndEnv(t *testing.T) {
	// A pin of an old value of a removed setting breaks the build.
	st := State{Toolchain: "go1.26.8", GoLine: "1.26", Pins: map[string]string{"tls10server": "1", "http2client": "0"}}
	to := st
	to.Toolchain = "go1.27.3"
	cs, err := Upgrade(st, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	// go1.27.3 also brings httpservecontentmaxranges, which go1.26.8 lacks
	// and a go 1.26 line takes at its new default.
	if diff := cmp.Diff([]flip{{"httpservecontentmaxranges", "", "200", LinkUnknown}, {"tls10server", "1", "0", LinkUnknown}}, flips(cs)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, c := range cs {
		if c.BreaksBuild != (c.Name == "tls10server") || c.BreaksBuild && !strings.Contains(c.Why, "delete it") {
			t.Errorf("%s: breaks %v, why %q", c.Name, c.BreaksBuild, c.Why)
		}
	}

	// An environment value of a removed setting stops counting.
	st = State{Toolchain: "go1.26.8", GoLine: "1.26", Env: map[string]string{"tlsrsakex": "1"}}
	to = st
	to.Toolchain = "go1.27.3"
	cs, err = Upgrade(st, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]flip{{"httpservecontentmaxranges", "", "200", LinkUnknown}, {"tlsrsakex", "1", "0", LinkUnknown}}, flips(cs)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if cs[1].BreaksBuild {
		t.Error("an environment value does not break a build")
	}

	// Going back: a go line before the change restores the old value.
	cs, err = Upgrade(State{Toolchain: "go1.26.8"}, State{Toolchain: "go1.26.8", GoLine: "1.24"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if !strings.Contains(c.Why, "before Go 1.2") {
			t.Errorf("%s: why %q", c.Name, c.Why)
		}
	}
	if len(cs) == 0 {
		t.Error("no changes going back to go 1.24")
	}
}

func TestReportUpgrade(t *testing.T) {
	r := Effective(Binary{Name: "svc", GoVersion: "go1.26.8", DefaultGODEBUG: go116}, "")
	cs, err := r.Upgrade("go1.27.3", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 7 {
		t.Errorf("toolchain-only upgrade of a go 1.16 binary: %d changes, want the 7 removals: %v", len(cs), flips(cs))
	}
	cs, err = r.Upgrade("go1.27.3", "go1.27", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasChange(cs, "tlssha1") || !hasChange(cs, "tracebacklabels") {
		t.Errorf("go line to 1.27: %v", flips(cs))
	}
	if _, err := Upgrade(State{Toolchain: "devel"}, State{Toolchain: "go1.27.3"}, nil); err == nil {
		t.Error("a toolchain that is no version is an error")
	}
	if _, err := Upgrade(State{Toolchain: "go1.26.8", GoLine: "x"}, State{Toolchain: "go1.27.3"}, nil); err == nil {
		t.Error("a go line that is no version is an error")
	}
}

func hasChange(cs []Change, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}
