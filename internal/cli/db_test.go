package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/cli"
	"github.com/redline-go/redline/internal/vuln/db/dbtest"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// redline runs the CLI in-process with REDLINE_CACHE_DIR=cache and env.
func redline(t *testing.T, cache string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, cli.Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "REDLINE_CACHE_DIR" {
				return cache
			}
			return env[k]
		},
	})
	return code, out.String(), errb.String()
}

func TestDBUpdate(t *testing.T) {
	const version = "v0.0.0-20261120120000-0123456789ab"
	entries := []osv.Entry{dbtest.Entry("GO-2026-7001", dbtest.Affected("Go", "stdlib", "SEMVER", "0", "1.26.11"))}
	proxy := dbtest.ModuleProxy(t, t.TempDir(), version, entries, nil)
	cache := t.TempDir()

	// $GOPROXY is honoured, file:// included.
	code, stdout, stderr := redline(t, cache, map[string]string{"GOPROXY": "file://" + proxy}, "db", "update")
	if code != 0 || !strings.Contains(stdout, "updated: golang.org/x/vulndb "+version+" of 2026-11-20, 1 entries (Go 1) in "+filepath.Join(cache, "go.osvpack")) {
		t.Fatalf("update: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = redline(t, cache, nil, "db", "status")
	if code != 0 || !strings.Contains(stdout, "golang.org/x/vulndb  "+version+"  2026-11-20") || strings.Contains(stdout, "embedded") {
		t.Errorf("status after update: exit %d\n%s", code, stdout)
	}
	// Again: nothing newer.
	code, stdout, _ = redline(t, cache, nil, "db", "update", "--proxy", "file://"+proxy)
	if code != 0 || !strings.Contains(stdout, "up to date") {
		t.Errorf("second update: exit %d\n%s", code, stdout)
	}
	// A failing update names what stays in use: the cached update.
	code, _, stderr = redline(t, cache, map[string]string{"GOPROXY": "off"}, "db", "update")
	if code != 2 || !strings.Contains(stderr, "The data in use is kept: golang.org/x/vulndb "+version+" of 2026-11-20") {
		t.Errorf("offline update: exit %d\n%s", code, stderr)
	}
}

func TestDBUpdateOSVDev(t *testing.T) {
	bucket := t.TempDir()
	deb := dbtest.Entry("DEBIAN-CVE-2026-0001", dbtest.Affected("Debian:12", "openssl", "ECOSYSTEM", "0", "3.0.17-1~deb12u3"))
	deb.Modified = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	dbtest.WriteZip(t, filepath.Join(bucket, "Debian:12", "all.zip"), dbtest.Files(t, deb))
	srv := httptest.NewServer(http.FileServer(http.Dir(bucket)))
	defer srv.Close()
	cache := t.TempDir()
	code, stdout, stderr := redline(t, cache, nil, "db", "update", "--source", "osv.dev", "--url", srv.URL, "--ecosystem", "Debian:12")
	if code != 0 || !strings.Contains(stdout, "updated: osv.dev of 2026-11-24, 1 entries (Debian:12 1)") {
		t.Fatalf("update: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = redline(t, cache, nil, "db", "status")
	if code != 0 || !strings.Contains(stdout, "osv.dev ") || !strings.Contains(stdout, "Debian:12  1") || !strings.Contains(stdout, "embedded") {
		t.Errorf("status: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = redline(t, cache, nil, "db", "import", "--list")
	if code != 0 || !strings.Contains(stdout, "osv.dev-Debian_12  osv.dev") {
		t.Errorf("list: exit %d\n%s", code, stdout)
	}
}
