package db_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/db/dbtest"
	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
	"github.com/redline-go/redline/internal/vuln/osv"
)

const newVersion = "v0.0.0-20261120120000-0123456789ab"

var (
	newDate    = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	updateTime = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
)

func goEntries() []osv.Entry {
	return []osv.Entry{
		dbtest.Entry("GO-2026-7001", dbtest.Affected("Go", "stdlib", "SEMVER", "0", "1.26.11")),
		dbtest.Entry("GO-2026-7002", dbtest.Affected("Go", "golang.org/x/net", "SEMVER", "0", "0.50.0")),
	}
}

// server serves dir over HTTP and records the paths requested.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func serve(t *testing.T, h http.Handler) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

func serveDir(t *testing.T, dir string) *server { return serve(t, http.FileServer(http.Dir(dir))) }

func updateOpts(cache string) db.UpdateOptions {
	return db.UpdateOptions{CacheDir: cache, Now: func() time.Time { return updateTime }}
}

// closedURL is an http URL nothing listens on: what "offline" looks like.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestUpdateProxy(t *testing.T) {
	dir := dbtest.ModuleProxy(t, t.TempDir(), newVersion, goEntries(), map[string][]byte{
		"data/reports/GO-2026-7001.yaml": []byte("not data"),
		"data/osv/README.md":             []byte("not data"),
	})
	srv := serveDir(t, dir)
	cache := t.TempDir()
	o := updateOpts(cache)
	o.GOPROXY = srv.URL
	res, err := db.Update(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fetched) != 1 || !res.Fetched[0].Written || len(res.Warnings) != 0 {
		t.Fatalf("result = %+v", res)
	}
	zip := filepath.Join(dir, "golang.org/x/vulndb/@v", newVersion+".zip")
	sum, err := osvpack.HashZip(zip)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Fetched[0].Source
	if s.Name != "golang.org/x/vulndb" || s.Version != newVersion || !s.Date.Equal(newDate) || s.Entries != 2 ||
		s.Sum != sum || s.Origin != srv.URL || !s.Stored.Equal(updateTime) || s.Path != filepath.Join(cache, "go.osvpack") {
		t.Errorf("stored source = %+v", s)
	}
	if want := []string{"/golang.org/x/vulndb/@v/list", "/golang.org/x/vulndb/@latest", "/golang.org/x/vulndb/@v/" + newVersion + ".zip"}; !slices.Equal(srv.requested(), want) {
		t.Errorf("requests = %q, want %q", srv.requested(), want)
	}
	d, err := db.Open(db.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sources()[0].Version != newVersion || len(d.Lookup("Go", "golang.org/x/net")) != 1 || !d.Date().Equal(newDate) {
		t.Errorf("after update: %+v", d.Sources())
	}

	// Again: the data in use is this version; the zip is not fetched.
	res, err = db.Update(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched[0].Written || !strings.Contains(res.Fetched[0].Note, "is as new") {
		t.Errorf("second update = %+v", res.Fetched[0])
	}
	if n := len(srv.requested()); n != 5 {
		t.Errorf("second update made %d requests in all, want 2 more (list, @latest)", n)
	}

	// A pinned version asks for its .info.
	o.Version = newVersion
	o.CacheDir = t.TempDir()
	if _, err := db.Update(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if got := srv.requested(); !slices.Contains(got, "/golang.org/x/vulndb/@v/"+newVersion+".info") {
		t.Errorf("requests = %q", got)
	}
}

// TestUpdateLatest: "latest" is the highest of @v/list and @latest, as
// the go command resolves it; mirrors that serve only one of them work.
func TestUpdateLatest(t *testing.T) {
	older := "v0.0.0-20261110000000-0123456789ab"
	for name, tc := range map[string]struct {
		list, latest string // "" : 404
		want         string
	}{
		"latest only":          {"", newVersion, newVersion},
		"list only (a mirror)": {older + "\n" + newVersion + "\n", "", newVersion},
		"list newer":           {newVersion + "\n", older, newVersion},
		"latest newer":         {older + "\n", newVersion, newVersion},
	} {
		dir := t.TempDir()
		dbtest.ModuleProxy(t, dir, older, goEntries(), nil)
		dbtest.ModuleProxy(t, dir, newVersion, goEntries(), nil)
		mod := filepath.Join(dir, "golang.org/x/vulndb")
		os.Remove(filepath.Join(mod, "@latest"))
		os.Remove(filepath.Join(mod, "@v", "list"))
		if tc.list != "" {
			os.WriteFile(filepath.Join(mod, "@v", "list"), []byte(tc.list), 0o644)
		}
		if tc.latest != "" {
			os.WriteFile(filepath.Join(mod, "@latest"), []byte(`{"Version":"`+tc.latest+`"}`), 0o644)
		}
		o := updateOpts(t.TempDir())
		o.GOPROXY = serveDir(t, dir).URL
		res, err := db.Update(t.Context(), o)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := res.Fetched[0].Source.Version; got != tc.want {
			t.Errorf("%s: fetched %s, want %s", name, got, tc.want)
		}
	}
	// Neither: not found, which a comma list falls through.
	o := updateOpts(t.TempDir())
	o.GOPROXY = serveDir(t, t.TempDir()).URL
	if _, err := db.Update(t.Context(), o); err == nil || !strings.Contains(err.Error(), "no versions") {
		t.Errorf("no versions: %v", err)
	}
}

// TestUpdateNotNewer: the proxy's latest is the embedded snapshot's
// version (or older): nothing is downloaded or written.
func TestUpdateNotNewer(t *testing.T) {
	dir := dbtest.ModuleProxy(t, t.TempDir(), snapshotVersion, goEntries(), nil)
	srv := serveDir(t, dir)
	cache := t.TempDir()
	o := updateOpts(cache)
	o.GOPROXY = srv.URL
	res, err := db.Update(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched[0].Written || !strings.Contains(res.Fetched[0].Note, "golang.org/x/vulndb "+snapshotVersion) {
		t.Errorf("result = %+v", res.Fetched[0])
	}
	if _, err := os.Stat(filepath.Join(cache, "go.osvpack")); !os.IsNotExist(err) {
		t.Errorf("an update that is not newer wrote the cache: %v", err)
	}
}

func TestUpdateProxyList(t *testing.T) {
	good := serveDir(t, dbtest.ModuleProxy(t, t.TempDir(), newVersion, goEntries(), nil))
	notFound := serve(t, http.NotFoundHandler())
	broken := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }))
	for _, tc := range []struct {
		name, goproxy string
		wantErr       []string // substrings; none: success
	}{
		{name: "404 falls through a comma", goproxy: notFound.URL + "," + good.URL},
		{name: "any error falls through a pipe", goproxy: broken.URL + "|" + good.URL},
		{name: "500 stops at a comma", goproxy: broken.URL + "," + good.URL, wantErr: []string{"500 Internal Server Error", broken.URL}},
		{name: "file URL", goproxy: "file://" + dbtest.ModuleProxy(t, t.TempDir(), newVersion, goEntries(), nil)},
		{name: "off", goproxy: "off", wantErr: []string{"GOPROXY=off"}},
		{name: "direct", goproxy: "direct", wantErr: []string{"only through a module proxy"}},
		{name: "default direct after 404", goproxy: notFound.URL + ",direct", wantErr: []string{"no versions", "only through a module proxy"}},
		{name: "offline", goproxy: closedURL(t), wantErr: []string{"connection refused", "GOPROXY=http://127.0.0.1:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := updateOpts(t.TempDir())
			o.GOPROXY = tc.goproxy
			res, err := db.Update(t.Context(), o)
			if tc.wantErr == nil {
				if err != nil || !res.Fetched[0].Written {
					t.Fatalf("Update: %v %+v", err, res)
				}
				return
			}
			if err == nil {
				t.Fatal("Update succeeded")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), "golang.org/x/vulndb@latest") {
				t.Errorf("error %q does not name the module", err)
			}
		})
	}
}

// TestUpdateFailureKeepsData: a failing update leaves the stored data
// byte for byte.
func TestUpdateFailureKeepsData(t *testing.T) {
	cache := t.TempDir()
	o := updateOpts(cache)
	o.GOPROXY = "file://" + dbtest.ModuleProxy(t, t.TempDir(), newVersion, goEntries(), nil)
	if _, err := db.Update(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(cache, "go.osvpack"))

	later := "v0.0.0-20261125000000-0123456789ab"
	// A truncated zip, a zip of another module, a zip of nothing but
	// malformed entries, a zip with a traversal name: each fails.
	truncDir := dbtest.ModuleProxy(t, t.TempDir(), later, goEntries(), nil)
	zp := filepath.Join(truncDir, "golang.org/x/vulndb/@v", later+".zip")
	b, _ := os.ReadFile(zp)
	os.WriteFile(zp, b[:len(b)/2], 0o644)

	otherDir := dbtest.ModuleProxy(t, t.TempDir(), later, goEntries(), nil)
	dbtest.WriteZip(t, filepath.Join(otherDir, "golang.org/x/vulndb/@v", later+".zip"), map[string][]byte{
		"example.com/other@" + later + "/data/osv/GO-2026-7001.json": dbtest.JSON(t, goEntries()[0]),
	})
	badDir := dbtest.ModuleProxy(t, t.TempDir(), later, nil, map[string][]byte{"data/osv/GO-2026-7009.json": []byte("{")})
	evilDir := dbtest.ModuleProxy(t, t.TempDir(), later, goEntries(), map[string][]byte{"../../evil.json": []byte("{}")})

	for name, tc := range map[string]struct{ dir, want string }{
		"truncated": {truncDir, "zip: not a valid zip file"},
		"other":     {otherDir, "is not under golang.org/x/vulndb@" + later},
		"malformed": {badDir, "no OSV entries (1 skipped; the first: " + "file://"},
		"traversal": {evilDir, "insecure file name"},
		"no such":   {t.TempDir(), "not found"},
	} {
		srv := serveDir(t, tc.dir)
		o.GOPROXY = srv.URL
		_, err := db.Update(t.Context(), o)
		if err == nil || !strings.Contains(err.Error(), strings.Replace(tc.want, "file://", srv.URL, 1)) {
			t.Errorf("%s: Update = %v, want an error containing %q", name, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("%s: error %q does not name the URL", name, err)
		}
		after, _ := os.ReadFile(filepath.Join(cache, "go.osvpack"))
		if string(before) != string(after) {
			t.Fatalf("%s: a failed update changed the stored data", name)
		}
	}
	// Nor is a temporary download left in the cache.
	des, _ := os.ReadDir(cache)
	if len(des) != 1 {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Errorf("cache holds %q, want go.osvpack only", names)
	}
}

func TestUpdateMalformedEntryWarns(t *testing.T) {
	dir := dbtest.ModuleProxy(t, t.TempDir(), newVersion, goEntries(), map[string][]byte{"data/osv/GO-2026-7003.json": []byte(`{"id": "GO-2026-7003"`)})
	srv := serveDir(t, dir)
	o := updateOpts(t.TempDir())
	o.GOPROXY = srv.URL
	res, err := db.Update(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := srv.URL + "/golang.org/x/vulndb/@v/" + newVersion + ".zip: golang.org/x/vulndb@" + newVersion + "/data/osv/GO-2026-7003.json: skipped: malformed OSV entry"
	if len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], want) {
		t.Errorf("warnings = %q, want %q", res.Warnings, want)
	}
	if s := res.Fetched[0].Source; s.Entries != 2 || s.Skipped != 1 {
		t.Errorf("source = %+v", s)
	}
}

// vulnGoDevDir writes the vuln.go.dev layout of entries, modified at
// date, with or without vulndb.zip.
func vulnGoDevDir(t *testing.T, date time.Time, withZip bool, entries ...osv.Entry) string {
	t.Helper()
	d := dbtest.Open(t, entries...)
	dir := filepath.Join(t.TempDir(), "vuln.go.dev")
	if err := d.WriteVulnDBLayout(dir); err != nil {
		t.Fatal(err)
	}
	dbtest.WriteFiles(t, dir, map[string][]byte{"index/db.json": []byte(`{"modified":"` + date.Format(time.RFC3339) + `"}`)})
	if withZip {
		files := map[string][]byte{}
		for _, rel := range []string{"index/db.json", "index/modules.json", "index/vulns.json"} {
			files[rel] = mustRead(t, filepath.Join(dir, rel))
		}
		for _, e := range entries {
			files["ID/"+e.ID+".json"] = mustRead(t, filepath.Join(dir, "ID", e.ID+".json"))
		}
		dbtest.WriteZip(t, filepath.Join(dir, "vulndb.zip"), files)
	}
	return dir
}

func TestUpdateVulnGoDev(t *testing.T) {
	for _, withZip := range []bool{true, false} {
		srv := serveDir(t, vulnGoDevDir(t, newDate, withZip, goEntries()...))
		cache := t.TempDir()
		o := updateOpts(cache)
		o.Source = db.SourceVulnGoDev
		o.URL = srv.URL
		res, err := db.Update(t.Context(), o)
		if err != nil {
			t.Fatalf("zip %v: %v", withZip, err)
		}
		s := res.Fetched[0].Source
		if !res.Fetched[0].Written || s.Name != "vuln.go.dev" || !s.Date.Equal(newDate) || s.Entries != 2 || s.Origin != srv.URL {
			t.Errorf("zip %v: source = %+v", withZip, s)
		}
		want := []string{"/index/db.json", "/vulndb.zip"}
		if !withZip {
			want = append(want, "/index/modules.json", "/ID/GO-2026-7001.json", "/ID/GO-2026-7002.json")
		}
		got := srv.requested()
		slices.Sort(got[2:])
		slices.Sort(want[2:])
		if !slices.Equal(got, want) {
			t.Errorf("zip %v: requests %q, want %q", withZip, got, want)
		}
		d, err := db.Open(db.Options{CacheDir: cache})
		if err != nil || d.Sources()[0].Name != "vuln.go.dev" || len(d.Lookup("Go", "stdlib")) != 1 {
			t.Errorf("zip %v: after update: %v", withZip, err)
		}
	}

	// An ID listed but not served: a warning naming the URL.
	dir := vulnGoDevDir(t, newDate, false, goEntries()...)
	os.Remove(filepath.Join(dir, "ID", "GO-2026-7002.json"))
	srv := serveDir(t, dir)
	o := updateOpts(t.TempDir())
	o.Source, o.URL = db.SourceVulnGoDev, srv.URL
	res, err := db.Update(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], srv.URL+"/ID/GO-2026-7002.json: skipped") {
		t.Errorf("warnings = %q", res.Warnings)
	}

	// No index/db.json: not a vulnerability database.
	o.URL = serveDir(t, t.TempDir()).URL
	if _, err := db.Update(t.Context(), o); err == nil || !strings.Contains(err.Error(), o.URL+"/index/db.json") {
		t.Errorf("no db.json: %v", err)
	}
	o.URL = closedURL(t)
	if _, err := db.Update(t.Context(), o); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("offline: %v", err)
	}
}

func TestUpdateOSVDev(t *testing.T) {
	bucket := t.TempDir()
	deb := dbtest.Entry("DEBIAN-CVE-2026-0001", dbtest.Affected("Debian:12", "openssl", "ECOSYSTEM", "0", "3.0.17-1~deb12u3"))
	deb.Modified = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	goe := goEntries()
	goe[0].Modified = newDate
	dbtest.WriteZip(t, filepath.Join(bucket, "Go", "all.zip"), dbtest.Files(t, goe...))
	dbtest.WriteZip(t, filepath.Join(bucket, "Debian:12", "all.zip"), dbtest.Files(t, deb))
	srv := serveDir(t, bucket)

	cache := t.TempDir()
	o := updateOpts(cache)
	o.Source, o.URL, o.Ecosystems = db.SourceOSVDev, srv.URL, []string{"Go", "Debian:12"}
	res, err := db.Update(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/Go/all.zip", "/Debian:12/all.zip"}; !slices.Equal(srv.requested(), want) {
		t.Errorf("requests %q, want %q", srv.requested(), want)
	}
	if len(res.Fetched) != 2 || !res.Fetched[0].Written || !res.Fetched[1].Written {
		t.Fatalf("result %+v", res)
	}
	if s := res.Fetched[0].Source; s.Name != "osv.dev" || !s.Date.Equal(newDate) || s.Path != filepath.Join(cache, "go.osvpack") {
		t.Errorf("Go source %+v", s)
	}
	if s := res.Fetched[1].Source; s.Name != "osv.dev" || !s.Date.Equal(deb.Modified) || s.Path != filepath.Join(cache, "sources", "osv.dev-Debian_12.osvpack") || s.Ecosystems["Debian:12"] != 1 {
		t.Errorf("Debian source %+v", s)
	}
	d, err := db.Open(db.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources()) != 2 || len(d.Lookup("Debian:12", "openssl")) != 1 || len(d.Lookup("Go", "stdlib")) != 1 || d.Len() != 3 {
		t.Errorf("after update: %+v", d.Sources())
	}

	// One ecosystem missing: nothing is stored, not even the others.
	cache2 := t.TempDir()
	o.CacheDir, o.Ecosystems = cache2, []string{"Go", "Alpine:v3.20"}
	if _, err := db.Update(t.Context(), o); err == nil || !strings.Contains(err.Error(), srv.URL+"/Alpine:v3.20/all.zip: 404") {
		t.Errorf("missing ecosystem: %v", err)
	}
	if des, _ := os.ReadDir(cache2); len(des) != 0 {
		t.Errorf("a failed update stored %d files", len(des))
	}
	o.Ecosystems = []string{"../etc"}
	if _, err := db.Update(t.Context(), o); err == nil {
		t.Error("ecosystem ../etc accepted")
	}
}

func TestParseGOPROXYDefault(t *testing.T) {
	if got := db.ResolveGOPROXY(t.Context(), func(k string) string {
		if k == "GOPROXY" {
			return "https://example.com/proxy"
		}
		return ""
	}); got != "https://example.com/proxy" {
		t.Errorf("ResolveGOPROXY = %q", got)
	}
}
