package godebug

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// go116 is the DefaultGODEBUG that go1.26.8 writes for a main module whose
// go.mod says "go 1.16" (testdata/mod/go116; the build test checks it
// against a real binary).
const go116 = "asynctimerchan=1,containermaxprocs=0,cryptocustomrand=1,decoratemappings=0,gotestjsonbuildtext=1,gotypesalias=0,httpcookiemaxnum=0,httplaxcontentlength=1,httpmuxgo121=1,httpservecontentkeepheaders=1,multipathtcp=0,netedns0=0,panicnil=1,randseednop=0,rsa1024min=0,tls10server=1,tls3des=1,tlsmlkem=0,tlsrsakex=1,tlssecpmlkem=0,tlssha1=1,tlsunsafeekm=1,updatemaxprocs=0,urlmaxqueryparams=0,urlstrictcolons=0,winreadlinkvolume=0,winsymlink=0,x509keypairleaf=0,x509negativeserial=1,x509rsacrt=0,x509sha256skid=0,x509usepolicies=0"

func findingNames(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func valueOf(t *testing.T, r Report, name string) Value {
	t.Helper()
	for _, v := range r.Settings {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("%s not in report; settings: %v", name, r.Settings)
	return Value{}
}

func TestEffectiveGo116(t *testing.T) {
	r := Effective(Binary{Name: "/app/server", GoVersion: "go1.26.8", DefaultGODEBUG: go116}, "")
	if len(r.Warnings) != 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
	if r.GoLine != "1.18" || r.GoLineMin != "" {
		t.Errorf("go line %q..%q, want any up to 1.18 (netedns0=0 says before 1.19)", r.GoLineMin, r.GoLine)
	}
	if got := len(r.Settings); got != strings.Count(go116, ",")+1 {
		t.Errorf("%d settings, want every entry of DefaultGODEBUG", got)
	}
	want := []string{"cryptocustomrand", "httpcookiemaxnum", "httplaxcontentlength", "rsa1024min", "tls10server",
		"tls3des", "tlsmlkem", "tlsrsakex", "tlssecpmlkem", "tlssha1", "tlsunsafeekm", "urlmaxqueryparams",
		"urlstrictcolons", "x509negativeserial"}
	fs := r.Findings()
	if diff := cmp.Diff(want, findingNames(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		if f.Acknowledged || f.Origin != OriginGoLine {
			t.Errorf("%s: origin %s, acknowledged %v; want the go line, unacknowledged", f.Name, f.Origin, f.Acknowledged)
		}
	}
	tls := fs[4]
	if tls.Name != "tls10server" || tls.Value.Value != "1" || tls.Default != "0" || tls.Changed != "1.22" {
		t.Errorf("tls10server finding: %+v", tls)
	}
	for _, s := range []string{"go 1.18 or older", "go 1.22 or later", "godebug tls10server=1", "Go 1.27 removed"} {
		if !strings.Contains(tls.Fix, s) {
			t.Errorf("fix %q lacks %q", tls.Fix, s)
		}
	}
	if v := valueOf(t, r, "containermaxprocs"); v.Class != ClassPerformance || v.Default != "1" || !v.NonDefault() {
		t.Errorf("containermaxprocs: %+v", v)
	}
}

func TestEffectiveGoLineExactAndPins(t *testing.T) {
	// go 1.24 plus pins: rsa1024min=0 (changed in 1.24, so not the go line's
	// doing), execerrdot=0 (never changed), http2client=0.
	dg := "containermaxprocs=0,cryptocustomrand=1,decoratemappings=0,execerrdot=0,http2client=0,rsa1024min=0,tlssecpmlkem=0,tlssha1=1,updatemaxprocs=0,urlstrictcolons=0,x509negativeserial=1,x509sha256skid=0"
	r := Effective(Binary{Name: "pins", GoVersion: "go1.26.8", DefaultGODEBUG: dg}, "")
	if r.GoLine != "1.24" || r.GoLineMin != "1.24" {
		t.Errorf("go line %q..%q, want exactly 1.24", r.GoLineMin, r.GoLine)
	}
	wantPins := map[string]string{"execerrdot": "0", "http2client": "0", "rsa1024min": "0", "x509negativeserial": "1"}
	if diff := cmp.Diff(wantPins, r.Pins); diff != "" {
		t.Errorf("pins (-want +got):\n%s", diff)
	}
	ack := map[string]bool{}
	for _, f := range r.Findings() {
		ack[f.Name] = f.Acknowledged
	}
	wantAck := map[string]bool{"cryptocustomrand": false, "execerrdot": true, "rsa1024min": true, "tlssecpmlkem": false,
		"tlssha1": false, "urlstrictcolons": false, "x509negativeserial": true}
	if diff := cmp.Diff(wantAck, ack); diff != "" {
		t.Errorf("findings and acknowledgement (-want +got):\n%s", diff)
	}
}

// A go 1.16 binary whose go.mod pins tlsrsakex=0: the go line would say 1,
// so the 0 is a pin — and, being the secure value, no finding.
func TestEffectivePinOfNewValue(t *testing.T) {
	dg := strings.Replace(go116, "tlsrsakex=1", "tlsrsakex=0", 1)
	r := Effective(Binary{Name: "svc", GoVersion: "go1.26.8", DefaultGODEBUG: dg}, "")
	if v := valueOf(t, r, "tlsrsakex"); v.Origin != OriginPinned || r.Pins["tlsrsakex"] != "0" {
		t.Errorf("tlsrsakex: %+v, pins %v", v, r.Pins)
	}
	if hasFinding(r.Findings(), "tlsrsakex") {
		t.Error("tlsrsakex=0 is the secure value")
	}
	if v := valueOf(t, r, "tls3des"); v.Origin != OriginGoLine {
		t.Errorf("tls3des: %+v", v)
	}
}

func TestEffectiveEnv(t *testing.T) {
	// GODEBUG=tls10server=1 as a Kubernetes manifest or a Dockerfile ENV
	// sets it, on a binary built for a current go line.
	r := Effective(Binary{Name: "/srv/app", GoVersion: "go1.26.8"}, "tls10server=1")
	fs := r.Findings()
	if len(fs) != 1 || fs[0].Name != "tls10server" || fs[0].Origin != OriginEnv || fs[0].Acknowledged {
		t.Fatalf("findings %+v, want tls10server from the environment, unacknowledged", fs)
	}
	if !strings.Contains(fs[0].Fix, "GODEBUG environment") {
		t.Errorf("fix %q does not point at the environment", fs[0].Fix)
	}
	if r.GoLine != "1.26" {
		t.Errorf("go line %q: an empty DefaultGODEBUG of go1.26.8 means go 1.26", r.GoLine)
	}

	// Go 1.27 removed tls10server: the value is listed, ignored, no finding.
	r = Effective(Binary{Name: "/srv/app", GoVersion: "go1.27.3"}, "tls10server=1")
	if fs := r.Findings(); len(fs) != 0 {
		t.Errorf("findings on go1.27.3: %+v", fs)
	}
	if v := valueOf(t, r, "tls10server"); !strings.Contains(v.Ignored, "removed") {
		t.Errorf("tls10server on go1.27.3: ignored %q", v.Ignored)
	}

	// The environment overrides the build: a secure env value clears the
	// finding and says what it overrides; a later entry wins.
	r = Effective(Binary{Name: "x", GoVersion: "go1.26.8", DefaultGODEBUG: "tls10server=1,tls3des=1"}, "tls10server=1,tls10server=0,gctrace=1")
	if diff := cmp.Diff([]string{"tls3des"}, findingNames(r.Findings())); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	v := valueOf(t, r, "tls10server")
	if v.Value != "0" || v.Overrides != "1" || v.Origin != OriginEnv {
		t.Errorf("tls10server: %+v", v)
	}
	if v := valueOf(t, r, "gctrace"); v.Class != ClassUnknown || v.Origin != OriginEnv {
		t.Errorf("gctrace: %+v", v)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, "more than once") {
		t.Errorf("warnings %v, want one about tls10server set twice", r.Warnings)
	}
}

// A Dockerfile ENV or a manifest's env, judged before any binary is known.
func TestFromEnv(t *testing.T) {
	r := FromEnv("deploy.yaml:21", "tls10server=1,http2client=0,tlsmaxrsasize=4096,madvdontneed=1,bad")
	fs := r.Findings()
	if len(fs) != 1 || fs[0].Name != "tls10server" || fs[0].Origin != OriginEnv || fs[0].Default != "0" {
		t.Fatalf("findings %+v, want tls10server only (a lower tlsmaxrsasize is stricter)", fs)
	}
	if !strings.Contains(fs[0].Fix, "Go 1.27 and later ignore it") {
		t.Errorf("fix %q does not say Go 1.27 ignores it", fs[0].Fix)
	}
	if v := valueOf(t, r, "madvdontneed"); v.Class != ClassUnknown {
		t.Errorf("madvdontneed: %+v", v)
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Subject != "deploy.yaml:21" {
		t.Errorf("warnings %v, want one about %q naming the file", r.Warnings, "bad")
	}
}

func TestEffectiveUnknownNamesKept(t *testing.T) {
	r := Effective(Binary{Name: "new", GoVersion: "go1.29.1", DefaultGODEBUG: "quantumtls=0,tlssha1=1"}, "")
	v := valueOf(t, r, "quantumtls")
	if v.Class != ClassUnknown || v.Value != "0" || v.Origin != OriginBuild || !v.NonDefault() {
		t.Errorf("unknown setting: %+v", v)
	}
	if diff := cmp.Diff([]string{"tlssha1"}, findingNames(r.Findings())); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestEffectiveMalformed(t *testing.T) {
	r := Effective(Binary{Name: "/usr/bin/broken", GoVersion: "go1.26.8", DefaultGODEBUG: "tls10server,=1,x509negativeserial=1,"}, "")
	if len(r.Warnings) != 3 {
		t.Fatalf("warnings %v, want three (no '=', no name, empty entry)", r.Warnings)
	}
	for _, w := range r.Warnings {
		if w.Subject != "/usr/bin/broken" || !strings.HasPrefix(w.String(), "/usr/bin/broken: DefaultGODEBUG: malformed entry") {
			t.Errorf("warning %q does not name the binary and the entry", w)
		}
	}
	if v := valueOf(t, r, "x509negativeserial"); v.Value != "1" {
		t.Errorf("the good entry is lost: %+v", v)
	}

	r = Effective(Binary{Name: "odd", GoVersion: "devel +abcdef", DefaultGODEBUG: "tlssha1=1"}, "")
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, `"devel +abcdef"`) {
		t.Errorf("warnings %v", r.Warnings)
	}
	if len(r.Findings()) != 1 {
		t.Errorf("an unreadable version still judges with the newest defaults: %+v", r.Findings())
	}
}

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{
		{Key: "CGO_ENABLED", Value: "0"}, {Key: "DefaultGODEBUG", Value: "rsa1024min=0"},
	}}
	r := FromBuildInfo("bin", bi, "")
	if diff := cmp.Diff([]string{"rsa1024min"}, findingNames(r.Findings())); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	r = FromBuildInfo("bin", nil, "")
	if len(r.Warnings) != 1 || r.Warnings[0].Subject != "bin" {
		t.Errorf("no build info: warnings %v", r.Warnings)
	}
	// Before Go 1.21 there was no DefaultGODEBUG: nothing to infer.
	r = FromBuildInfo("old", &debug.BuildInfo{GoVersion: "go1.20.14"}, "")
	if r.GoLine != "" || len(r.Settings) != 0 || len(r.Warnings) != 0 {
		t.Errorf("go1.20 binary: %+v", r)
	}
}

func TestEnvGODEBUG(t *testing.T) {
	v, ok := EnvGODEBUG([]string{"PATH=/bin", "GODEBUG=tls10server=1", "GODEBUGX=1", "GODEBUG=http2client=0"})
	if !ok || v != "http2client=0" {
		t.Errorf("EnvGODEBUG = %q, %v", v, ok)
	}
	if _, ok := EnvGODEBUG([]string{"PATH=/bin"}); ok {
		t.Error("found GODEBUG where none is")
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]version{
		"go1.26.8":                {26, 8},
		"1.16":                    {16, 0},
		"1.22":                    {22, -1},
		"go1.21rc2":               {21, -1},
		"go1.26.8 X:boringcrypto": {26, 8},
		"go1.20":                  {20, 0},
	} {
		got, ok := parseVersion(in)
		if !ok || got != want {
			t.Errorf("parseVersion(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "devel +abc", "go2.0", "go1.x", "go1.21rc", "1.-1", "go1.21.+1", "go1.21gamma1"} {
		if v, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q) = %v, want failure", bad, v)
		}
	}
	a, _ := parseVersion("go1.26.8")
	b, _ := parseVersion("go1.26.10")
	if !a.less(b) || b.less(a) {
		t.Error("go1.26.8 < go1.26.10")
	}
}

func FuzzEffective(f *testing.F) {
	f.Add("go1.26.8", go116, "tls10server=1")
	f.Add("devel", "a=,=b,,c", "GODEBUG")
	f.Add("go1.21", "panicnil=1", "")
	f.Fuzz(func(t *testing.T, goVersion, dg, env string) {
		r := Effective(Binary{Name: "fuzz", GoVersion: goVersion, DefaultGODEBUG: dg}, env)
		names := map[string]bool{}
		for _, v := range r.Settings {
			if names[v.Name] {
				t.Fatalf("%s listed twice", v.Name)
			}
			names[v.Name] = true
		}
		for _, list := range []string{dg, env} {
			for _, e := range strings.Split(list, ",") {
				if k, _, ok := strings.Cut(e, "="); ok && k != "" && !strings.ContainsAny(k, " \t") && !names[k] {
					t.Fatalf("%s dropped from %q", k, list)
				}
			}
		}
		for _, f := range r.Findings() {
			if f.Class != ClassSecurity || f.Fix == "" {
				t.Fatalf("finding %+v", f)
			}
		}
		if _, err := Upgrade(r.State(), State{Toolchain: newest}, nil); err != nil {
			t.Fatalf("Upgrade from %+v: %v", r.State(), err)
		}
	})
}
