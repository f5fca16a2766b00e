package imagecheck_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/sbom"
)

// Go binaries built once from testdata/hello (standard library only, no
// network): plain is `go build` with cgo on, hardened is CGO_ENABLED=0
// -trimpath -ldflags="-s -w".
var plain, hardened []byte

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imagecheck")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		for _, b := range []struct {
			out  *[]byte
			env  []string
			args []string
		}{
			{&plain, []string{"CGO_ENABLED=1"}, nil},
			{&hardened, []string{"CGO_ENABLED=0"}, []string{"-trimpath", "-ldflags=-s -w"}},
		} {
			exe := filepath.Join(dir, fmt.Sprint(len(b.args)))
			cmd := exec.Command("go", append(append([]string{"build", "-o", exe}, b.args...), ".")...)
			cmd.Dir = filepath.Join("testdata", "hello")
			cmd.Env = append(os.Environ(), append(b.env, "GOPROXY=off", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")...)
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
				return 1
			}
			if *b.out, err = os.ReadFile(exe); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

const passwd = "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1001:app:/home/app:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"
const group = "root:x:0:\napp:x:1001:\nnonroot:x:65532:\n"

var pem = []byte("-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n")

func capPAX(cs ...caps.Cap) map[string]string {
	f := caps.File{Effective: true, Permitted: caps.Of(cs...)}
	return map[string]string{caps.PAXRecord: string(f.Bytes())}
}

func lintImage(t *testing.T, s imagetest.Spec, o imagecheck.Options) *imagecheck.Result {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := imagetest.Build(s).WriteOCIDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	img, err := image.Open(ctx, image.Target{Scheme: image.OCIDir, Value: dir}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if o.AllowCaps == 0 {
		o.AllowCaps = caps.Of(caps.NetBindService)
	}
	p := imagecheck.NewPass(o)
	res, err := image.Walk(ctx, img, image.PassOptions{}, p.Visitors()...)
	if err != nil {
		t.Fatal(err)
	}
	return p.Finish(img, res)
}

// at renders a finding's rule and where it is.
func at(f rule.Finding) string {
	where := f.Location.String()
	if where == "" {
		where = "config"
	}
	return f.Rule + " " + where
}

func list(fs []rule.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, at(f))
	}
	slices.Sort(out)
	return out
}

// risky is an image that trips every file and config rule once.
func risky() imagetest.Spec {
	long := append([]byte(strings.Repeat("# padding\n", 80)), pem...)
	return imagetest.Spec{
		Layers: []imagetest.Layer{
			{Entries: []imagetest.Entry{
				{Name: "bin/"}, {Name: "etc/"}, {Name: "usr/"}, {Name: "usr/bin/"}, {Name: "tmp/", Mode: 0o1777}, {Name: "var/"}, {Name: "var/tmp/", Mode: 0o777},
				{Name: "srv/", Mode: 0o2775},
				{Name: "etc/passwd", Body: []byte(passwd)}, {Name: "etc/group", Body: []byte(group)},
				{Name: "bin/sh", Size: 100, Mode: 0o755},
				{Name: "bin/bash", Type: '1', Link: "bin/sh"},
				{Name: "usr/bin/apt-get", Size: 100, Mode: 0o755},
				{Name: "usr/bin/passwd", Size: 100, Mode: 0o4755},
				{Name: "usr/bin/wall", Size: 100, Mode: 0o2755},
				{Name: "etc/motd", Body: []byte("hi\n"), Mode: 0o666},
				{Name: "etc/ssl/", Mode: 0o755}, {Name: "etc/ssl/private/", Mode: 0o700},
				{Name: "etc/ssl/private/server.pem", Body: pem, Mode: 0o600},
				{Name: "src/"}, {Name: "src/.git/"}, {Name: "src/.git/config", Body: []byte("[core]\n")},
				{Name: "src/.github/"}, {Name: "src/.gitignore", Body: []byte("x\n")},
			}},
			{Entries: []imagetest.Entry{
				{Name: "app", Body: plain, Mode: 0o755, PAX: capPAX(caps.NetBindService)},
				{Name: "usr/bin/ping", Size: 100, Mode: 0o755, PAX: capPAX(caps.NetRaw, caps.NetBindService)},
				{Name: "root/", Mode: 0o700}, {Name: "root/deploy.key", Body: long, Mode: 0o600},
				{Name: "usr/bin/broken", Size: 10, Mode: 0o755, PAX: map[string]string{caps.PAXRecord: "\x01\x02"}},
			}},
			{Entries: []imagetest.Entry{
				{Name: "etc/ssl/private/.wh.server.pem"},
				{Name: "usr/bin/wall", Size: 100, Mode: 0o755},
			}},
		},
		Entrypoint:   []string{"/app"},
		Env:          []string{"PATH=/usr/bin:/bin", "API_TOKEN=do-not-print", "GITHUB=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "HOME=/root"},
		ExposedPorts: []string{"80/tcp"},
		Labels:       map[string]string{imagecheck.LabelUser: "65532:65532", imagecheck.LabelCaps: ""},
	}
}

func TestRiskyImage(t *testing.T) {
	r := lintImage(t, risky(), imagecheck.Options{})
	want := []string{
		"RL-IMG-001 config",
		"RL-IMG-003 /usr/bin/passwd (layer 0)",
		"RL-IMG-004 /etc/motd (layer 0)",
		"RL-IMG-004 /var/tmp (layer 0)",
		"RL-IMG-005 /usr/bin/ping (layer 1)",
		"RL-IMG-006 /bin/sh (layer 0)",
		"RL-IMG-007 /usr/bin/apt-get (layer 0)",
		"RL-IMG-008 config",
		"RL-IMG-008 config",
		"RL-IMG-009 /etc/ssl/private/server.pem (layer 0)",
		"RL-IMG-009 /root/deploy.key (layer 1)",
		"RL-IMG-010 /src/.git (layer 0)",
		"RL-IMG-012 /app (layer 1)",
		"RL-IMG-013 /app (layer 1)",
		"RL-IMG-014 /app (layer 1)",
		"RL-IMG-015 /app",
		"RL-IMG-015 config",
	}
	if diff := cmp.Diff(want, list(r.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	msgs := map[string]string{}
	for _, f := range r.Findings {
		msgs[at(f)] += f.Message + "|"
	}
	for where, sub := range map[string]string{
		"RL-IMG-009 /etc/ssl/private/server.pem (layer 0)": "a later layer deletes or replaces it",
		"RL-IMG-005 /usr/bin/ping (layer 1)":               "NET_RAW is not on the allow-list",
		"RL-IMG-006 /bin/sh (layer 0)":                     "/bin/sh, /bin/bash",
		"RL-IMG-008 config":                                "GITHUB: its value looks like a GitHub token",
		"RL-IMG-015 config":                                `dev.redline.user="65532:65532", but the image runs as 0:0`,
		"RL-IMG-015 /app":                                  "carries cap_net_bind_service=ep",
		"RL-IMG-012 /app (layer 1)":                        "CGO_ENABLED=1",
	} {
		if !strings.Contains(msgs[where], sub) {
			t.Errorf("%s: messages %q lack %q", where, msgs[where], sub)
		}
	}
	for _, f := range r.Findings {
		if strings.Contains(f.Message, "do-not-print") || strings.Contains(f.Message, "ghp_") {
			t.Errorf("a secret leaked into a message: %s", f.Message)
		}
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Path != "/usr/bin/broken" || !strings.Contains(r.Warnings[0].Message, "malformed security.capability") {
		t.Errorf("warnings = %+v", r.Warnings)
	}
	fa := r.Facts
	if fa.UID != 0 || fa.GID != 0 || fa.Entrypoint != "/app" || fa.FileCaps == nil || fa.FileCaps.Permitted != caps.Of(caps.NetBindService) || !strings.HasPrefix(fa.GoVersion, "go1.") {
		t.Errorf("facts = %+v", fa)
	}
	if diff := cmp.Diff([]int{80}, fa.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}

// slim is redline build's output: nothing to report.
func slim(user string) imagetest.Spec {
	return imagetest.Spec{
		Layers: []imagetest.Layer{
			{Entries: []imagetest.Entry{
				{Name: "etc/"}, {Name: "tmp/", Mode: 0o1777},
				{Name: "etc/passwd", Body: []byte(passwd)}, {Name: "etc/group", Body: []byte(group)},
			}},
			{Entries: []imagetest.Entry{{Name: "app", Body: hardened, Mode: 0o755}}},
		},
		User:         user,
		Entrypoint:   []string{"/app"},
		ExposedPorts: []string{"8080/tcp"},
		Labels:       map[string]string{imagecheck.LabelUser: "65532:65532", imagecheck.LabelCaps: ""},
	}
}

func TestSlimImageIsClean(t *testing.T) {
	r := lintImage(t, slim("65532:65532"), imagecheck.Options{})
	if len(r.Findings) > 0 || len(r.Warnings) > 0 {
		t.Fatalf("findings %v, warnings %v", list(r.Findings), r.Warnings)
	}
	if r.Facts.UID != 65532 || r.Facts.GID != 65532 || r.Facts.UserName || r.Facts.FileCaps != nil || r.Facts.PrimaryGID[1000] != 1001 {
		t.Errorf("facts = %+v", r.Facts)
	}
}

func TestUsersAndPorts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(s *imagetest.Spec)
		want  []string
		msg   string
		uid   int
		gid   int
		allow caps.Set
	}{
		{"named user", func(s *imagetest.Spec) { s.User = "app"; s.Labels = nil }, []string{"RL-IMG-002 config"}, "USER 1000:1001", 1000, 1001, 0},
		{"named group", func(s *imagetest.Spec) { s.User = "1000:app"; s.Labels = nil }, []string{"RL-IMG-002 config"}, "not numeric", 1000, 1001, 0},
		{"unknown user", func(s *imagetest.Spec) { s.User = "ghost"; s.Labels = nil }, []string{"RL-IMG-002 config"}, "fails to start", -1, -1, 0},
		{"uid alone takes its passwd group", func(s *imagetest.Spec) { s.User = "1000"; s.Labels = nil }, nil, "", 1000, 1001, 0},
		{"uid not in passwd gets group 0", func(s *imagetest.Spec) { s.User = "4242"; s.Labels = nil }, nil, "", 4242, 0, 0},
		{"root by name", func(s *imagetest.Spec) { s.User = "root"; s.Labels = nil }, []string{"RL-IMG-001 config"}, `USER is "root"`, 0, 0, 0},
		{"low port without a capability", func(s *imagetest.Spec) { s.ExposedPorts = []string{"80/tcp", "8080/tcp"} }, []string{"RL-IMG-011 config"}, "EXPOSE 80", 65532, 65532, 0},
		{"low port with the file capability", func(s *imagetest.Spec) {
			s.ExposedPorts = []string{"443/tcp"}
			s.Layers[1].Entries[0].PAX = capPAX(caps.NetBindService)
			s.Labels[imagecheck.LabelCaps] = "NET_BIND_SERVICE"
		}, nil, "", 65532, 65532, 0},
		{"capability beyond a wider allow-list", func(s *imagetest.Spec) {
			s.Layers[1].Entries[0].PAX = capPAX(caps.NetBindService, caps.NetRaw)
			s.Labels[imagecheck.LabelCaps] = "NET_BIND_SERVICE,NET_RAW"
		}, nil, "", 65532, 65532, caps.Of(caps.NetBindService, caps.NetRaw)},
		{"label promises a capability the binary lacks", func(s *imagetest.Spec) { s.Labels[imagecheck.LabelCaps] = "CAP_NET_BIND_SERVICE" }, []string{"RL-IMG-015 /app"}, "no file capabilities", 65532, 65532, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := slim("65532:65532")
			tc.mod(&s)
			r := lintImage(t, s, imagecheck.Options{AllowCaps: tc.allow})
			if diff := cmp.Diff(tc.want, list(r.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range r.Findings {
				if !strings.Contains(f.Message+" | "+f.Fix, tc.msg) {
					t.Errorf("message %q (fix %q) lacks %q", f.Message, f.Fix, tc.msg)
				}
			}
			if r.Facts.UID != tc.uid || r.Facts.GID != tc.gid {
				t.Errorf("UID:GID = %d:%d, want %d:%d", r.Facts.UID, r.Facts.GID, tc.uid, tc.gid)
			}
		})
	}
}

// TestEntrypoint resolves the entrypoint through PATH and symlinks and
// reads the capabilities of the file it lands on.
func TestEntrypoint(t *testing.T) {
	s := slim("65532:65532")
	s.Labels = nil
	s.Layers = append(s.Layers, imagetest.Layer{Entries: []imagetest.Entry{
		{Name: "opt/svc/bin/svc", Body: hardened, Mode: 0o755, PAX: capPAX(caps.NetBindService)},
		{Name: "usr/local/bin/svc", Type: '2', Link: "../../../opt/svc/bin/svc"},
	}})
	s.Entrypoint = []string{"svc", "--port=80"}
	s.Env = []string{"PATH=/usr/local/bin:/usr/bin"}
	r := lintImage(t, s, imagecheck.Options{})
	f := r.Facts
	if f.Entrypoint != "/opt/svc/bin/svc" || f.FileCaps == nil || !f.FileCaps.Effective || f.GoVersion == "" {
		t.Errorf("facts = %+v", f)
	}
	// Go binary findings come from an SBOM when another pass shares them.
	calls := 0
	r = lintImage(t, slim("65532:65532"), imagecheck.Options{GoBinaries: func() []sbomComponent { calls++; return nil }})
	if calls != 1 || len(r.Findings) != 0 {
		t.Errorf("GoBinaries called %d times; findings %v", calls, list(r.Findings))
	}
}

func TestManyWorldWritable(t *testing.T) {
	var es []imagetest.Entry
	es = append(es, imagetest.Entry{Name: "w/"})
	for i := range 60 {
		es = append(es, imagetest.Entry{Name: fmt.Sprintf("w/f%02d", i), Size: 1, Mode: 0o666})
	}
	r := lintImage(t, imagetest.Spec{Layers: []imagetest.Layer{{Entries: es}}, User: "1000:1000"}, imagecheck.Options{MaxPerRule: 5})
	var n int
	last := ""
	for _, f := range r.Findings {
		if f.Rule == imagecheck.WorldWritable.ID {
			n++
			last = f.Message
		}
	}
	if n != 6 || !strings.Contains(last, "and 55 more paths") {
		t.Errorf("%d findings, last %q", n, last)
	}
}

// TestInsecureGODEBUG: a binary whose DefaultGODEBUG keeps a security
// setting weaker than its toolchain's default is a finding; one that a
// godebug line pins on purpose is not.
func TestInsecureGODEBUG(t *testing.T) {
	c := sbom.Component{Path: "/app", Type: sbom.TypeBinary, ELF: &sbom.ELFInfo{Stripped: true}, Go: &sbom.GoBinary{
		GoVersion: "go1.26.8", GoLine: "1.16",
		Settings: []sbom.Setting{{Key: "-trimpath", Value: "true"}},
		GODEBUG: []sbom.GODEBUGValue{
			{Name: "tls10server", Value: "1", Class: "security", Insecure: true},
			{Name: "tlsrsakex", Value: "1", Class: "security", Acknowledged: true},
			{Name: "asynctimerchan", Value: "1", Class: "behaviour"},
		},
	}}
	var got []string
	for _, f := range imagecheck.BinaryFindings(c) {
		got = append(got, f.Rule+": "+f.Message)
	}
	if len(got) != 1 || !strings.Contains(got[0], "RL-IMG-016") || !strings.Contains(got[0], "tls10server=1") || strings.Contains(got[0], "tlsrsakex") {
		t.Errorf("findings = %q, want one RL-IMG-016 naming tls10server=1 only", got)
	}
	c.Go.GODEBUG = c.Go.GODEBUG[1:]
	if fs := imagecheck.BinaryFindings(c); len(fs) != 0 {
		t.Errorf("acknowledged setting flagged: %+v", fs)
	}
}
