package source

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// The fixture database (testdata/vulndb) holds hand-written entries, except
// GO-2022-1059, copied from golang.org/x/vulndb (data/osv) at
// v0.0.0-20261105234957-e22db6528018:
//
//	GO-9999-0001 stdlib < 1.99.0, net/http.ListenAndServe: called by httpserver
//	GO-9999-0002 stdlib < 1.99.0, net/http.NewFileTransportFS: imported only
//	GO-9999-0003 stdlib < 1.99.0, net/smtp.SendMail: required only
//	GO-9999-0004 stdlib < 1.26.99, 1.27.0-0 to 1.27.99: HandleFunc, Server.ListenAndServe
//	GO-9999-0005 stdlib < 1.0.1: never reported
//	GO-9999-0006 golang.org/x/text < 0.3.8, unicode/norm: required by oldtext
//	GO-2022-1059 golang.org/x/text < 0.3.8, language.MatchStrings, ParseAcceptLanguage
const fixtureDB = "testdata/vulndb"

// offline is the environment of every engine run: no network, no
// toolchain switch, dependencies from vendor/.
var offline = []string{"GOFLAGS=-mod=vendor", "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off"}

// TestFixtureIndex checks that the hand-written index agrees with the
// entries, as the engine relies on it (it skips IDs whose index "fixed" is
// not above the version in use).
func TestFixtureIndex(t *testing.T) {
	var modules []struct {
		Path  string `json:"path"`
		Vulns []struct {
			ID    string `json:"id"`
			Fixed string `json:"fixed"`
		} `json:"vulns"`
	}
	readJSON(t, filepath.Join(fixtureDB, "index", "modules.json"), &modules)
	var db struct {
		Modified string `json:"modified"`
	}
	readJSON(t, filepath.Join(fixtureDB, "index", "db.json"), &db)
	if db.Modified == "" {
		t.Error("index/db.json: no modified")
	}
	indexed := map[string]string{} // module id -> fixed
	for _, m := range modules {
		for _, v := range m.Vulns {
			indexed[m.Path+" "+v.ID] = v.Fixed
		}
	}
	files, _ := filepath.Glob(filepath.Join(fixtureDB, "ID", "*.json"))
	if len(files) == 0 {
		t.Fatal("no entries")
	}
	listed := 0
	for _, f := range files {
		var e osv.Entry
		readJSON(t, f, &e)
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if filepath.Base(f) != e.ID+".json" {
			t.Errorf("%s holds %s", f, e.ID)
		}
		for _, a := range e.Affected {
			fixed := ""
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					if ev.Fixed != "" {
						fixed = ev.Fixed // events are ordered: the last fix
					}
				}
			}
			got, ok := indexed[a.Package.Name+" "+e.ID]
			if !ok {
				t.Errorf("%s (%s) is not in index/modules.json", e.ID, a.Package.Name)
			} else if got != fixed {
				t.Errorf("index/modules.json: %s (%s) fixed %q, entry says %q", e.ID, a.Package.Name, got, fixed)
			}
			listed++
		}
	}
	if listed != len(indexed) {
		t.Errorf("index/modules.json lists %d (module, ID) pairs, the entries %d", len(indexed), listed)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func stdlibVersion(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "env", "GOVERSION")
	cmd.Env = append(os.Environ(), offline...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
	v, _, _ = strings.Cut(v, " ")
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return v
}

func byID(t *testing.T, fs []vuln.Finding) map[string]vuln.Finding {
	t.Helper()
	m := map[string]vuln.Finding{}
	for _, f := range fs {
		k := f.ID
		if _, dup := m[k]; dup {
			t.Errorf("two findings for %s", k)
		}
		m[k] = f
	}
	return m
}

func engineTest(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs govulncheck's engine (seconds and most of a GB)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
}

// countEngine counts engine runs; the hook is process-wide, so tests that
// use it do not run in parallel with engine tests.
func countEngine(t *testing.T) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	orig := runEngine
	runEngine = func(ctx context.Context, env, args []string, stdout, stderr io.Writer) error {
		n.Add(1)
		return orig(ctx, env, args, stdout, stderr)
	}
	t.Cleanup(func() { runEngine = orig })
	return &n
}

func TestScanHTTPServer(t *testing.T) {
	engineTest(t)
	runs := countEngine(t)
	cacheDir := t.TempDir()
	o := Options{DBDir: fixtureDB, Dir: "testdata/httpserver", Env: offline, Cache: true, CacheDir: cacheDir}
	got, err := Scan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Fatalf("engine ran %d times", runs.Load())
	}
	sv := stdlibVersion(t)
	m := byID(t, got)

	stdlib := vuln.ComponentRef{ID: "golang:stdlib@" + sv, Type: "go-stdlib", Name: "stdlib", Version: sv, PURL: "pkg:golang/stdlib@" + sv, Layer: -1}
	want1 := vuln.Finding{
		ID: "GO-9999-0001", Aliases: []string{"CVE-9999-0001"}, Summary: "Called: net/http.ListenAndServe (fake)",
		Severity: vuln.SevUnknown, Component: stdlib, Packages: []string{"net/http"}, Symbols: []string{"net/http.ListenAndServe"},
		Reach: vuln.Called, Fixed: "1.99.0", URL: "https://pkg.go.dev/vuln/GO-9999-0001",
	}
	f1 := m["GO-9999-0001"]
	if len(f1.Trace) < 2 {
		t.Fatalf("GO-9999-0001: trace %v", f1.Trace)
	}
	if f := f1.Trace[0]; f.Function != "example.com/httpserver.main" || !strings.HasPrefix(f.Position, "main.go:13:") {
		t.Errorf("GO-9999-0001: trace starts at %+v, want example.com/httpserver.main at main.go:13", f)
	}
	if f := f1.Trace[len(f1.Trace)-1]; f.Function != "net/http.ListenAndServe" || !strings.Contains(f.Position, "net/http/server.go:") {
		t.Errorf("GO-9999-0001: trace ends at %+v, want net/http.ListenAndServe in net/http/server.go", f)
	}
	want1.Trace = f1.Trace
	if d := cmp.Diff(want1, f1); d != "" {
		t.Errorf("GO-9999-0001 (-want +got):\n%s", d)
	}

	if f := m["GO-9999-0002"]; f.Reach != vuln.Imported || !slices.Equal(f.Packages, []string{"net/http"}) || f.Symbols != nil || f.Trace != nil ||
		!slices.Equal(f.Aliases, []string{"CVE-9999-0002", "GHSA-9999-0002-xxxx"}) || f.Fixed != "1.99.0" || f.Component != stdlib {
		t.Errorf("GO-9999-0002: %+v, want imported net/http, no symbols or trace", f)
	}
	if f := m["GO-9999-0003"]; f.Reach != vuln.Required || !slices.Equal(f.Packages, []string{"net/smtp"}) || f.Symbols != nil || f.Trace != nil || f.Component != stdlib {
		t.Errorf("GO-9999-0003: %+v, want required with the entry's package net/smtp", f)
	}

	// GO-9999-0004: two symbols called; the fix is the one of the Go line
	// in use (1.26.99 for 1.26.x, 1.27.99 for 1.27.x).
	var fixed4 string
	switch {
	case strings.HasPrefix(sv, "1.26.") || strings.HasPrefix(sv, "1.25.") || strings.HasPrefix(sv, "1.24."):
		fixed4 = "1.26.99"
	case strings.HasPrefix(sv, "1.27."):
		fixed4 = "1.27.99"
	}
	f4, ok := m["GO-9999-0004"]
	if fixed4 == "" {
		if ok {
			t.Errorf("GO-9999-0004 reported for Go %s", sv)
		}
	} else {
		if f4.Reach != vuln.Called || f4.Fixed != fixed4 {
			t.Errorf("GO-9999-0004: reach %s fixed %s, want called, %s", f4.Reach, f4.Fixed, fixed4)
		}
		if want := []string{"net/http.HandleFunc", "net/http.Server.ListenAndServe"}; !slices.Equal(f4.Symbols, want) {
			t.Errorf("GO-9999-0004: symbols %q, want %q", f4.Symbols, want)
		}
		// The shortest example: main -> net/http.HandleFunc.
		if len(f4.Trace) != 2 || f4.Trace[0].Function != "example.com/httpserver.main" || f4.Trace[1].Function != "net/http.HandleFunc" {
			t.Errorf("GO-9999-0004: trace %+v", f4.Trace)
		}
	}
	if _, ok := m["GO-9999-0005"]; ok {
		t.Error("GO-9999-0005 (fixed in 1.0.1) reported")
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range m {
			if !yield(id) {
				return
			}
		}
	})
	wantIDs := []string{"GO-9999-0001", "GO-9999-0002", "GO-9999-0003"}
	if fixed4 != "" {
		wantIDs = append(wantIDs, "GO-9999-0004")
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("IDs %q, want %q", ids, wantIDs)
	}
	// Called first.
	for i := 1; i < len(got); i++ {
		if got[i].Reach.Rank() > got[i-1].Reach.Rank() {
			t.Errorf("finding %d (%s, %s) after a weaker one", i, got[i].ID, got[i].Reach)
		}
	}

	// The cache: a file under CacheDir, and a second Scan that returns the
	// same findings without running the engine (a poisoned engine fails).
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %q, want one", files)
	}
	runEngine = func(context.Context, []string, []string, io.Writer, io.Writer) error {
		t.Error("engine ran on a cache hit")
		return io.ErrUnexpectedEOF
	}
	again, err := Scan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, again); d != "" {
		t.Errorf("cached findings differ (-first +cached):\n%s", d)
	}
	// Without Cache the engine runs (here: a failing one, whose error is
	// reported).
	runEngine = func(context.Context, []string, []string, io.Writer, io.Writer) error { return io.ErrUnexpectedEOF }
	o.Cache = false
	if _, err := Scan(context.Background(), o); err == nil || !strings.Contains(err.Error(), "source scan of testdata/httpserver") {
		t.Errorf("uncached Scan with a failing engine: %v", err)
	}
}

// TestScanVendoredText scans a module that requires golang.org/x/text
// v0.3.7, vendored in testdata (no network: GOFLAGS=-mod=vendor,
// GOPROXY=off). cmd/accept calls language.ParseAcceptLanguage, one of
// GO-2022-1059's symbols; cmd/parse calls only language.Parse, which the
// entry does not list.
func TestScanVendoredText(t *testing.T) {
	engineTest(t)
	xtext := vuln.ComponentRef{ID: "golang:golang.org/x/text@v0.3.7", Type: "go-module", Name: "golang.org/x/text", Version: "v0.3.7",
		PURL: "pkg:golang/golang.org/x/text@v0.3.7", Layer: -1}
	t.Run("all", func(t *testing.T) {
		t.Parallel()
		got, err := Scan(context.Background(), Options{DBDir: fixtureDB, Dir: "testdata/oldtext", Env: offline})
		if err != nil {
			t.Fatal(err)
		}
		m := byID(t, got)
		f := m["GO-2022-1059"]
		want := vuln.Finding{
			ID: "GO-2022-1059", Aliases: []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"},
			Summary:  "Denial of service via crafted Accept-Language header in golang.org/x/text/language",
			Severity: vuln.SevUnknown, Component: xtext,
			Packages: []string{"golang.org/x/text/language"}, Symbols: []string{"golang.org/x/text/language.ParseAcceptLanguage"},
			Reach: vuln.Called, Fixed: "v0.3.8", URL: "https://pkg.go.dev/vuln/GO-2022-1059",
			Trace: []vuln.Frame{
				{Function: "example.com/oldtext/cmd/accept.main", Position: "cmd/accept/main.go:13:46"},
				{Function: "golang.org/x/text/language.ParseAcceptLanguage", Position: "language/parse.go:158:6"},
			},
		}
		if d := cmp.Diff(want, f); d != "" {
			t.Errorf("GO-2022-1059 (-want +got):\n%s", d)
		}
		if f := m["GO-9999-0006"]; f.Reach != vuln.Required || f.Component != xtext || f.Fixed != "v0.3.8" ||
			!slices.Equal(f.Packages, []string{"golang.org/x/text/unicode/norm"}) {
			t.Errorf("GO-9999-0006: %+v, want required golang.org/x/text v0.3.7, fixed v0.3.8", f)
		}
	})
	t.Run("parse", func(t *testing.T) {
		t.Parallel()
		got, err := Scan(context.Background(), Options{DBDir: fixtureDB, Dir: "testdata/oldtext", Patterns: []string{"./cmd/parse"}, Env: offline})
		if err != nil {
			t.Fatal(err)
		}
		f := byID(t, got)["GO-2022-1059"]
		if f.Reach != vuln.Imported || f.Trace != nil || f.Symbols != nil || f.Fixed != "v0.3.8" || f.Component != xtext ||
			!slices.Equal(f.Packages, []string{"golang.org/x/text/language"}) {
			t.Errorf("GO-2022-1059 from cmd/parse: %+v, want imported golang.org/x/text/language", f)
		}
	})
}

func TestScanErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no db", Options{Dir: "testdata/httpserver"}, "no vulnerability database directory"},
		{"not a db", Options{DBDir: "testdata/httpserver", Dir: "testdata/httpserver"}, "testdata/httpserver is not a vulnerability database in the vuln.go.dev layout (no index/modules.json)"},
		{"not a module", Options{DBDir: fixtureDB, Dir: fixtureDB}, "testdata/vulndb is not a Go module (no go.mod)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Scan(ctx, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// TestParseStream folds a hand-written stream: the strongest level wins
// whatever the order, frames are reversed and named, the shortest trace is
// the example, and a stream without config is refused.
func TestParseStream(t *testing.T) {
	stream := `
{"config":{"protocol_version":"v1.0.0","scan_level":"symbol"}}
{"osv":{"id":"GO-1","modified":"0001-01-01T00:00:00Z","aliases":["CVE-1"],"summary":"s","affected":[{"package":{"name":"example.com/m","ecosystem":"Go"},"ecosystem_specific":{"imports":[{"path":"example.com/m/p"}]}}]}}
{"osv":{"id":"GO-2","modified":"0001-01-01T00:00:00Z","affected":[{"package":{"name":"example.com/m","ecosystem":"Go"},"ecosystem_specific":{"imports":[{"path":"example.com/m/q"},{"path":"example.com/m/r"}]}}]}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.3","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p","function":"F","receiver":"*T","position":{"filename":"p/p.go","line":10,"column":2}},{"module":"example.com/a","package":"example.com/a","function":"g","position":{"filename":"a.go","line":5,"column":3}},{"module":"example.com/a","package":"example.com/a","function":"main","position":{"filename":"a.go","line":2,"column":1}}]}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.3","trace":[{"module":"example.com/m","version":"v1.0.0"}]}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.3","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p","function":"H","receiver":"V"},{"module":"example.com/a","package":"example.com/a","function":"main","position":{"filename":"a.go","line":3,"column":1}}]}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.3","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p"}]}}
{"finding":{"osv":"GO-2","trace":[{"module":"example.com/m","version":"v1.0.0"}]}}
`
	got, err := parseStream(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	comp := vuln.ComponentRef{ID: "golang:example.com/m@v1.0.0", Type: "go-module", Name: "example.com/m", Version: "v1.0.0", PURL: "pkg:golang/example.com/m@v1.0.0", Layer: -1}
	want := []vuln.Finding{
		{ID: "GO-1", Aliases: []string{"CVE-1"}, Summary: "s", Severity: vuln.SevUnknown, Component: comp,
			Packages: []string{"example.com/m/p"}, Symbols: []string{"example.com/m/p.T.F", "example.com/m/p.V.H"},
			Reach: vuln.Called, Fixed: "v1.2.3", URL: "https://pkg.go.dev/vuln/GO-1",
			Trace: []vuln.Frame{{Function: "example.com/a.main", Position: "a.go:3:1"}, {Function: "example.com/m/p.V.H"}}},
		{ID: "GO-2", Severity: vuln.SevUnknown, Component: comp, Packages: []string{"example.com/m/q", "example.com/m/r"},
			Reach: vuln.Required, URL: "https://pkg.go.dev/vuln/GO-2"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if tr := traceOf([]*engineFrame{{Package: "p", Function: "F", Receiver: "*T"}}); tr[0].Function != "p.(*T).F" {
		t.Errorf("pointer receiver: %q", tr[0].Function)
	}
	if _, err := parseStream(strings.NewReader(`{"finding":{"osv":"GO-1","trace":[{"module":"m"}]}}`)); err == nil {
		t.Error("a stream without config was accepted")
	}
	if _, err := parseStream(strings.NewReader(`{"config":{}}{"finding":{"osv":"GO-1"}}`)); err == nil || !strings.Contains(err.Error(), "GO-1 has no trace") {
		t.Errorf("finding without trace: %v", err)
	}
}

// TestCacheKey checks what the key depends on, on a copy of the server.
func TestCacheKey(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join("testdata/httpserver", f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, f), string(b))
	}
	genv := map[string]string{"GOVERSION": "go1.26.8", "GOOS": "linux", "GOARCH": "amd64"}
	key := func(o Options, genv map[string]string) string {
		t.Helper()
		k, err := cacheKey(o, dir, fixtureDB, []string{"./..."}, genv)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(Options{}, genv)
	if base != key(Options{}, genv) {
		t.Fatal("key is not stable")
	}
	same := func(what string) {
		t.Helper()
		if k := key(Options{}, genv); k != base {
			t.Errorf("%s changed the key", what)
		}
	}
	differs := func(what string, k string) {
		t.Helper()
		if k == base {
			t.Errorf("%s did not change the key", what)
		}
	}
	write(t, filepath.Join(dir, "README.md"), "docs")
	write(t, filepath.Join(dir, "testdata", "x.go"), "package x")
	write(t, filepath.Join(dir, ".git", "x.go"), "package x")
	write(t, filepath.Join(dir, "nested", "go.mod"), "module nested")
	write(t, filepath.Join(dir, "nested", "x.go"), "package x")
	same("a README, testdata, .git or a nested module")

	differs("another Go version", key(Options{}, map[string]string{"GOVERSION": "go1.26.10", "GOOS": "linux", "GOARCH": "amd64"}))
	differs("a data version", key(Options{DataVersion: "v2"}, genv))
	differs("extra env", key(Options{Env: []string{"GOFLAGS=-tags=x"}}, genv))

	write(t, filepath.Join(dir, "util.go"), "package main\n")
	differs("a new .go file", key(Options{}, genv))
	os.Remove(filepath.Join(dir, "util.go"))
	same("removing it again")

	// A local replacement's sources count.
	rep := t.TempDir()
	write(t, filepath.Join(rep, "go.mod"), "module example.com/rep\n")
	write(t, filepath.Join(rep, "rep.go"), "package rep\n")
	write(t, filepath.Join(dir, "go.mod"), "module example.com/httpserver\n\ngo 1.22\n\nreplace (\n\texample.com/rep => "+rep+" // local\n\texample.com/other v1.0.0 => example.com/fork v1.0.1\n)\n")
	withRep := key(Options{}, genv)
	differs("go.mod", withRep)
	write(t, filepath.Join(rep, "rep.go"), "package rep\n\nfunc F() {}\n")
	if key(Options{}, genv) == withRep {
		t.Error("a change in a replacement directory did not change the key")
	}
	if got := localDirs(filepath.Join(dir, "go.mod"), "replace"); !slices.Equal(got, []string{rep}) {
		t.Errorf("localDirs = %q, want %q", got, rep)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
