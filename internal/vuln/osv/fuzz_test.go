package osv_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/redline-go/redline/internal/vuln/match"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// FuzzEntry decodes OSV entries as a database import or update does and
// hands valid ones to the matcher. Beyond not panicking: an entry that
// decodes and validates encodes to JSON that decodes and validates again
// to the same encoding (a database rebuilt from redline's own cache reads
// what was written), and matching any version against it gives a result
// or an error, with a fixed version only for an affected one, and never a
// CVSS score outside 0-10.
func FuzzEntry(f *testing.F) {
	f.Add([]byte(`{"id":"GO-2022-1059","modified":"0001-01-01T00:00:00Z","aliases":["CVE-2022-32149"],"affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.8"}]}],"ecosystem_specific":{"imports":[{"path":"golang.org/x/text/language","symbols":["ParseAcceptLanguage"]}]}}]}`), "v0.3.7")
	f.Add([]byte(`{"id":"DSA-5000-1","affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.11-1~deb12u2"}]}]}],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}`), "3.0.11-1~deb12u1")
	f.Add([]byte(`{"id":"ALPINE-CVE-1","affected":[{"package":{"ecosystem":"Alpine:v3.20","name":"busybox"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"1.36.1-r28"}]}],"versions":["1.36.1-r1"]}]}`), "1.36.1-r1")
	f.Add([]byte(`{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"},{"introduced":"2.0.0"},{"limit":"1.5.0"}]}]}],"database_specific":{"severity":"HIGH"}}`), "1.2.3")
	f.Add([]byte(`{"id":"Y","modified":"2026-11-05T23:49:57+01:00","affected":[]}`), "")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		var e osv.Entry
		if json.Unmarshal(data, &e) != nil || e.Validate() != nil {
			return
		}
		b1, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("a decoded entry does not encode: %v", err)
		}
		var e2 osv.Entry
		if err := json.Unmarshal(b1, &e2); err != nil {
			t.Fatalf("the encoding does not decode: %v\n%s", err, b1)
		}
		if err := e2.Validate(); err != nil {
			t.Fatalf("valid entry, invalid after a round trip: %v\n%s", err, b1)
		}
		b2, err := json.Marshal(&e2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable (%v):\n%s\n%s", err, b1, b2)
		}
		for _, s := range e.Severity {
			if score, ok := match.CVSS3Score(s.Score); ok && (score < 0 || score > 10) {
				t.Errorf("CVSS score %v of %q is outside 0-10", score, s.Score)
			}
		}
		for _, a := range e.Affected {
			ord := match.OrderingFor(a.Package.Ecosystem)
			if ord == nil {
				continue
			}
			for _, v := range []string{version, "0", "1.0.0", "v1.0.0"} {
				affected, fixed, err := match.Affects(a, ord, v)
				if err != nil {
					continue
				}
				if fixed != "" && !affected {
					t.Errorf("%s not affected yet fixed in %q", v, fixed)
				}
			}
		}
	})
}
