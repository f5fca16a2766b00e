package lint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/gomod"
	"github.com/redline-go/redline/internal/lint/rule"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// helloBin is a Go binary built once from testdata/hello the plain way
// (cgo on, symbols kept, no -trimpath); helloPath is where it is.
var helloBin []byte
var helloPath string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "lint")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		helloPath = filepath.Join(dir, "hello")
		cmd := exec.Command("go", "build", "-o", helloPath, ".")
		cmd.Dir = filepath.Join("testdata", "hello")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOPROXY=off", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
		if helloBin, err = os.ReadFile(helloPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// fakeGo is the go command as the tests see it: no module cache, a
// GOFLAGS from the environment, and a vulnerable go1.26.8.
func fakeGo() gomod.Options {
	return gomod.Options{
		GoEnv: func(context.Context, string) (map[string]string, error) {
			return map[string]string{"GOFLAGS": "-mod=mod", "GOVERSION": "go1.26.8", "GOTOOLCHAIN": "auto"}, nil
		},
		Verify:  func(context.Context, string) (string, error) { return "", errors.New("not run in tests") },
		Getenv:  func(k string) string { return map[string]string{"GOFLAGS": "-mod=mod"}[k] },
		Advisor: advisor{},
	}
}

type advisor struct{}

func (advisor) StdlibFix(v string) (string, []string, error) {
	if v == "go1.26.8" {
		return "go1.26.10", []string{"GO-2026-4001", "GO-2026-4002"}, nil
	}
	return "", nil, nil
}

var corpus = []string{"testdata/corpus/k8s", "testdata/corpus/docker", "testdata/corpus/ci", "testdata/corpus/gomod"}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	prefix, last := "", ""
	for _, r := range lint.Catalogue() {
		if !rule.ValidID(r.ID) || seen[r.ID] {
			t.Errorf("%s: invalid or duplicate ID", r.ID)
		}
		seen[r.ID] = true
		p := r.ID[:strings.LastIndex(r.ID, "-")]
		if p == prefix && r.ID <= last {
			t.Errorf("%s comes after %s", r.ID, last)
		}
		prefix, last = p, r.ID
		if r.Title == "" || strings.HasSuffix(r.Title, ".") || len(r.Help) < 80 || !strings.Contains(r.Help, "Fix") || len(r.Targets) == 0 {
			t.Errorf("%s: title %q, help of %d bytes (with a Fix paragraph?), targets %v", r.ID, r.Title, len(r.Help), r.Targets)
		}
		if r.Severity < rule.Info || r.Severity > rule.Critical {
			t.Errorf("%s: severity %d", r.ID, r.Severity)
		}
		if lint.Lookup(strings.ToLower(r.ID)) != r {
			t.Errorf("Lookup(%s) does not find it", r.ID)
		}
	}
	if lint.Lookup("RL-NOPE-001") != nil {
		t.Error("Lookup of an unknown ID")
	}
}

// TestDocsCurrent keeps docs/rules.md what go generate writes.
func TestDocsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := lint.Markdown(&b, lint.Catalogue()); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Errorf("docs/rules.md is stale: run go generate ./internal/lint\n%s", cmp.Diff(string(have), b.String()))
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", p, cmp.Diff(string(want), string(got)))
	}
}

// TestCorpusGolden lints the realistic corpus and keeps its report in
// every format.
func TestCorpusGolden(t *testing.T) {
	rep, err := lint.Run(context.Background(), corpus, lint.Options{Go: fakeGo()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"corpus.table", func(b *bytes.Buffer) error { return lint.Table(b, rep) }},
		{"corpus.json", func(b *bytes.Buffer) error { return lint.JSON(b, rep) }},
		{"corpus.sarif", func(b *bytes.Buffer) error { return lint.SARIF(b, rep) }},
	} {
		var b bytes.Buffer
		if err := f.render(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, f.name, b.Bytes())
	}
	// JSON is canonical: it reads back into the same report.
	var b bytes.Buffer
	lint.JSON(&b, rep)
	var back rule.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, &back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	// The hardened manifest and Dockerfile of the corpus have nothing.
	for _, f := range rep.Findings {
		if f.File == "testdata/corpus/k8s/hardened.yaml" || f.File == "testdata/corpus/docker/Dockerfile" {
			t.Errorf("finding in a hardened file: %s %s %s", f.Rule, f.Location, f.Message)
		}
	}
	// Suppressions carry their reasons.
	var sup []string
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			sup = append(sup, fmt.Sprintf("%s %s: %s", f.Rule, f.Location, f.Suppressed.Reason))
		}
	}
	want := []string{
		"RL-DF-012 testdata/corpus/docker/tools.Dockerfile:20: the name is resolved at build time by our platform",
		"RL-K8S-013 testdata/corpus/k8s/helm-rendered.yaml:60: memory is capped by the namespace LimitRange",
	}
	if diff := cmp.Diff(want, sup); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
}

// testImages writes the images the cross-checks are made against. svc's
// entrypoint is a real Go binary (built with cgo, not stripped, without
// -trimpath) carrying cap_net_bind_service=+ep.
func testImages(t *testing.T) (svc, named, legacy string) {
	t.Helper()
	bin := helloBin
	fc := caps.File{Effective: true, Permitted: caps.Of(caps.NetBindService)}
	passwd := []byte("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnonroot:x:65532:65532::/:/sbin/nologin\n")
	base := []imagetest.Entry{{Name: "etc/"}, {Name: "etc/passwd", Body: passwd}, {Name: "tmp/", Mode: 0o1777}}
	dir := t.TempDir()
	write := func(name string, s imagetest.Spec) string {
		p := filepath.Join(dir, name)
		if err := imagetest.Build(s).WriteOCIDir(p, ""); err != nil {
			t.Fatal(err)
		}
		return "oci-dir:" + p
	}
	svc = write("svc", imagetest.Spec{
		Layers: []imagetest.Layer{
			{Entries: append(slices.Clone(base),
				imagetest.Entry{Name: "bin/"}, imagetest.Entry{Name: "bin/busybox", Size: 64, Mode: 0o4755},
				imagetest.Entry{Name: "bin/sh", Type: '2', Link: "busybox"},
				imagetest.Entry{Name: "sbin/"}, imagetest.Entry{Name: "sbin/apk", Size: 64, Mode: 0o755},
				imagetest.Entry{Name: "var/"}, imagetest.Entry{Name: "var/cache/", Mode: 0o777},
				imagetest.Entry{Name: "opt/"}, imagetest.Entry{Name: "opt/tool", Size: 64, Mode: 0o755, PAX: map[string]string{caps.PAXRecord: string(caps.File{Effective: true, Permitted: caps.Of(caps.SysAdmin)}.Bytes())}},
				imagetest.Entry{Name: "root/"}, imagetest.Entry{Name: "root/.ssh/"}, imagetest.Entry{Name: "root/.ssh/id_ed25519", Body: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n")},
				imagetest.Entry{Name: "src/"}, imagetest.Entry{Name: "src/.git/"}, imagetest.Entry{Name: "src/.git/HEAD", Body: []byte("ref: refs/heads/main\n")},
			)},
			{Entries: []imagetest.Entry{{Name: "svc", Body: bin, Mode: 0o755, PAX: map[string]string{caps.PAXRecord: string(fc.Bytes())}}}, Comp: imagetest.None},
		},
		User: "65532:65532", Entrypoint: []string{"/svc"}, ExposedPorts: []string{"80/tcp"},
		Env:    []string{"DB_PASSWORD=hunter2"},
		Labels: map[string]string{"dev.redline.user": "65532:65532", "dev.redline.caps": "NET_RAW"},
	})
	named = write("named", imagetest.Spec{Layers: []imagetest.Layer{{Entries: base}}, User: "app", Entrypoint: []string{"/x"}})
	legacy = write("legacy", imagetest.Spec{Layers: []imagetest.Layer{{Entries: base}}, Entrypoint: []string{"/x"}})
	return svc, named, legacy
}

// TestImagesAndCrossChecks lints an image and manifests against three
// images; the image named both as target and as --image is walked once.
func TestImagesAndCrossChecks(t *testing.T) {
	svc, named, legacy := testImages(t)
	walks := 0
	o := lint.Options{
		Images: []string{svc, "named=" + named, "legacy=" + legacy, "legacy-sidecar=" + legacy},
		Walk: func(ctx context.Context, img *image.Image, vs ...image.Visitor) (*image.Result, error) {
			walks++
			return image.Walk(ctx, img, image.PassOptions{}, vs...)
		},
	}
	rep, err := lint.Run(context.Background(), []string{svc, "k8s:testdata/cross/deploy.yaml"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if walks != 3 {
		t.Errorf("%d walks for 3 images", walks)
	}
	var got []string
	for _, f := range rep.Findings {
		where := f.Location.String()
		if f.Kind == rule.Image {
			where = strings.TrimPrefix(where, "/")
		}
		got = append(got, f.Rule+" "+strings.TrimPrefix(where, "testdata/cross/"))
	}
	want := []string{
		"RL-IMG-003 bin/busybox (layer 0)",
		"RL-IMG-004 var/cache (layer 0)",
		"RL-IMG-005 opt/tool (layer 0)",
		"RL-IMG-006 bin/sh (layer 0)",
		"RL-IMG-007 sbin/apk (layer 0)",
		"RL-IMG-008 ",
		"RL-IMG-009 root/.ssh/id_ed25519 (layer 0)",
		"RL-IMG-010 src/.git (layer 0)",
		"RL-IMG-012 svc (layer 1)",
		"RL-IMG-013 svc (layer 1)",
		"RL-IMG-014 svc (layer 1)",
		"RL-IMG-015 svc",
		"RL-X-004 deploy.yaml:13",
		"RL-X-005 deploy.yaml:23",
		"RL-X-007 deploy.yaml:39",
		"RL-X-006 deploy.yaml:42",
		"RL-X-001 deploy.yaml:54",
		"RL-X-003 deploy.yaml:77",
		"RL-K8S-001 deploy.yaml:84",
		"RL-K8S-002 deploy.yaml:85",
		"RL-X-002 deploy.yaml:95",
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	msgs := ""
	for _, f := range rep.Findings {
		msgs += f.Rule + ": " + f.Message + "\n"
	}
	for _, s := range []string{
		"RL-X-005: /svc carries cap_net_bind_service=ep: the file's capabilities (NET_BIND_SERVICE) are effective-flagged and the bounding set lacks NET_BIND_SERVICE",
		"RL-X-006: /svc carries cap_net_bind_service=ep, which has no effect here: no_new_privs",
		"RL-X-007: containerPort 80 will not bind as UID 65532 on containerd 1.x, CRI-O",
		`RL-X-001: the image's USER "app" is a name`,
		"RL-X-003: runAsGroup is not set and UID 4242 is not in the image's /etc/passwd",
		"RL-X-004: runAsUser: 10001, but the image was built for UID 65532",
		"RL-X-002: the image's USER is not set (root) and runAsUser is not set: with runAsNonRoot the kubelet refuses",
	} {
		if !strings.Contains(msgs, s) {
			t.Errorf("no message holds %q:\n%s", s, msgs)
		}
	}
}

// TestEveryRuleFires holds a positive fixture for every rule of the
// catalogue across the corpus, the images and the cross-checks.
func TestEveryRuleFires(t *testing.T) {
	svc, named, legacy := testImages(t)
	fired := map[string]bool{}
	for _, run := range []struct {
		targets []string
		o       lint.Options
	}{
		{corpus, lint.Options{Go: fakeGo()}},
		{[]string{svc, "k8s:testdata/cross/deploy.yaml"}, lint.Options{Images: []string{svc, "named=" + named, "legacy=" + legacy}}},
		{[]string{legacy}, lint.Options{}},
		{[]string{named}, lint.Options{}},
	} {
		rep, err := lint.Run(context.Background(), run.targets, run.o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Findings {
			fired[f.Rule] = true
		}
	}
	// RL-IMG-011 (a low port without the capability) and RL-X-002 (a root
	// image) need their own set-ups.
	lowPort := filepath.Join(t.TempDir(), "lowport")
	if err := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "x", Size: 1}}}}, User: "1000:1000", ExposedPorts: []string{"443/tcp"}}).WriteOCIDir(lowPort, ""); err != nil {
		t.Fatal(err)
	}
	rep, err := lint.Run(context.Background(), []string{"oci-dir:" + lowPort, "k8s:testdata/corpus/k8s/cronjob-backup.yaml"}, lint.Options{Images: []string{legacy}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		fired[f.Rule] = true
	}
	// RL-IMG-016: a binary of a go 1.16 module keeps weaker GODEBUG
	// defaults than its toolchain's.
	go116 := filepath.Join(t.TempDir(), "go116")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", go116, ".")
	cmd.Dir = filepath.Join("..", "godebug", "testdata", "mod", "go116")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off", "GOFLAGS=-buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	body, err := os.ReadFile(go116)
	if err != nil {
		t.Fatal(err)
	}
	oldLine := filepath.Join(t.TempDir(), "oldline")
	if err := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "app", Body: body, Mode: 0o755}}}}, User: "65532:65532", Entrypoint: []string{"/app"}}).WriteOCIDir(oldLine, ""); err != nil {
		t.Fatal(err)
	}
	rep, err = lint.Run(context.Background(), []string{"oci-dir:" + oldLine, "testdata/godebug"}, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		fired[f.Rule] = true
	}
	// The GODEBUG rules name the weakened settings, and only those.
	var godebugMsgs []string
	for _, f := range rep.Findings {
		if f.Rule == "RL-DF-014" || f.Rule == "RL-K8S-017" {
			godebugMsgs = append(godebugMsgs, f.Rule+": "+f.Message)
		}
	}
	if len(godebugMsgs) != 2 || !strings.Contains(strings.Join(godebugMsgs, "\n"), "weakens tls10server=1") || strings.Contains(strings.Join(godebugMsgs, "\n"), "asynctimerchan=1,") {
		t.Errorf("GODEBUG findings: %q", godebugMsgs)
	}
	for _, r := range lint.Catalogue() {
		if !fired[r.ID] {
			t.Errorf("%s never fires on the fixtures", r.ID)
		}
	}
}

// TestHardenCorpus: harden's output passes lint for every fixable rule it
// touched, changes nothing else, and a second harden changes nothing.
func TestHardenCorpus(t *testing.T) {
	// What harden leaves, and why: a pod that names its own service
	// account (it may call the API), an -ldflags harden cannot merge.
	leftOK := map[string][]string{
		"testdata/corpus/k8s/cronjob-backup.yaml": {"RL-K8S-012"},
	}
	files, _ := filepath.Glob("testdata/corpus/k8s/*.yaml")
	more, _ := filepath.Glob("testdata/corpus/docker/*")
	for _, file := range append(files, more...) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			h, err := lint.Harden(context.Background(), file, lint.Options{}, lint.HardenOptions{User: "65532:65532"})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range h.After {
				if r := lint.Lookup(f.Rule); r.Fixable && !slices.Contains(leftOK[file], f.Rule) {
					t.Errorf("after harden: %s at %s: %s", f.Rule, f.Location, f.Message)
				}
			}
			fixedSome := len(h.After) < len(h.Before)
			if h.Changed() != fixedSome {
				t.Errorf("changed %v, but findings went from %d to %d", h.Changed(), len(h.Before), len(h.After))
			}
			// Only lines an edit touches differ, round by round.
			for i, st := range h.Steps {
				next := h.New
				if i+1 < len(h.Steps) {
					next = h.Steps[i+1].Src
				}
				if applied, err := edit.Apply(st.Src, st.Edits); err != nil || !bytes.Equal(applied, next) {
					t.Fatalf("step %d does not replay: %v", i, err)
				}
				touched := touchedLines(st.Src, st.Edits)
				var diff bytes.Buffer
				edit.Diff(&diff, file, st.Src, next)
				for _, l := range strings.Split(diff.String(), "\n") {
					if strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "---") && !touched[l[1:]] {
						t.Errorf("harden changed a line it had no edit for: %q", l)
					}
				}
			}
			if len(h.Steps) > 0 && !bytes.Equal(h.Steps[0].Src, h.Old) {
				t.Error("the first step does not start from the file")
			}
			// Idempotent.
			tmp := filepath.Join(t.TempDir(), filepath.Base(file))
			os.WriteFile(tmp, h.New, 0o644)
			h2, err := lint.Harden(context.Background(), tmp, lint.Options{}, lint.HardenOptions{User: "65532:65532"})
			if err != nil {
				t.Fatal(err)
			}
			if h2.Changed() {
				var d bytes.Buffer
				edit.Diff(&d, file, h2.Old, h2.New)
				t.Errorf("second harden changed:\n%s", d.String())
			}
		})
	}
}

// touchedLines returns the text of the lines of old that an edit replaces
// bytes of or inserts into mid-line.
func touchedLines(old []byte, es []edit.Edit) map[string]bool {
	out := map[string]bool{}
	for _, e := range es {
		start := bytes.LastIndexByte(old[:e.Start], '\n') + 1
		if e.Start == e.End && e.Start == start {
			continue // a whole-line insertion
		}
		end := bytes.IndexByte(old[e.End:], '\n')
		if end < 0 {
			end = len(old) - e.End
		}
		out[string(old[start:e.End+end])] = true
	}
	return out
}

func TestBadInput(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n")
	for i := 0; b.Len() < 300<<10; i++ {
		fmt.Fprintf(&b, "  key%d: %s\n", i, strings.Repeat("v", 100))
	}
	b.WriteString("---\napiVersion: v1\nkind: Pod\nmetadata: {name: after}\nspec: {containers: [{name: c, securityContext: {privileged: true}}]}\n")
	os.WriteFile(huge, []byte(b.String()), 0o644)
	rep, err := lint.Run(context.Background(), []string{"testdata/bad", huge}, lint.Options{MaxDocBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var ws []string
	for _, w := range rep.Warnings {
		ws = append(ws, fmt.Sprintf("%s: %s", strings.TrimPrefix(w.Location.String(), filepath.ToSlash(filepath.Dir(huge))+"/"), w.Message))
	}
	want := []string{
		"huge.yaml:1: document is 307285 bytes, above the limit of 262144: skipped",
		"testdata/bad/invalid.yaml:8: invalid YAML: found a tab character that violates indentation (document skipped)",
		"testdata/bad/invalid.yaml:17: Pod/readable container c: privileged: want true or false, got \"true\" (ignored)",
		"testdata/bad/kinds.yaml:2: Widget (apiVersion example.com/v1) is not a kind redline knows and holds no pod template at spec.template: not checked",
		"testdata/bad/kinds.yaml:5: document is not a mapping: skipped",
		"testdata/bad/kinds.yaml:11: Deployment/empty: the pod spec has no containers",
		"testdata/bad/kinds.yaml:13: redline:ignore gives no reason: it suppresses nothing (write `# redline:ignore RULE-ID reason`)",
		"testdata/bad/odd.Dockerfile:2: unknown instruction FROOM: skipped",
		"testdata/bad/syntax.Dockerfile:2: cannot parse the Dockerfile: unterminated heredoc",
	}
	if diff := cmp.Diff(want, ws); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// What could be read was checked.
	var got []string
	for _, f := range rep.Findings {
		if f.Rule == "RL-K8S-005" || f.Rule == "RL-K8S-002" || f.Rule == "RL-DF-001" {
			got = append(got, f.Rule+" "+strings.TrimPrefix(f.Location.String(), filepath.ToSlash(filepath.Dir(huge))+"/"))
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"RL-DF-001 testdata/bad/odd.Dockerfile:3", "RL-K8S-002 huge.yaml:2762", "RL-K8S-002 testdata/bad/invalid.yaml:17", "RL-K8S-002 testdata/bad/kinds.yaml:17", "RL-K8S-005 huge.yaml:2762", "RL-K8S-005 testdata/bad/kinds.yaml:17"}, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestTargets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	df := write("Containerfile", "FROM scratch\nUSER 1\n")
	cfg := write("app.yaml", "key: value\n")
	notes := write("notes.txt", "hello\n")
	write("tree/deploy/Dockerfile", "FROM scratch\n")
	write("tree/deploy/pod.yml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n")
	write("tree/chart/Chart.yaml", "name: c\n")
	write("tree/chart/values.yaml", "image: x\n")
	write("tree/chart/templates/d.yaml", "{{ .Values.image }}\n")
	write("tree/testdata/skip.yaml", "not: [valid\n")
	write("rootfs/etc/passwd", "root:x:0:0::/:/bin/sh\n")
	write("rootfs/usr/bin/x", "x")
	exe := helloPath

	rep, err := lint.Run(context.Background(), []string{df, cfg, notes, filepath.Join(dir, "tree"), filepath.Join(dir, "rootfs"), "file:" + exe}, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, tg := range rep.Targets {
		kinds = append(kinds, fmt.Sprintf("%s %s %d", filepath.Base(strings.TrimPrefix(tg.Target, "file:")), tg.Kind, tg.Files))
	}
	want := []string{"Containerfile dockerfile 0", "app.yaml kubernetes 0", "notes.txt binary 0", "tree directory 2", "rootfs image 0", filepath.Base(exe) + " binary 0"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	var ws, ns []string
	for _, w := range rep.Warnings {
		ws = append(ws, filepath.Base(w.File)+": "+w.Message)
	}
	for _, n := range rep.Notes {
		ns = append(ns, regexp.MustCompile(`^.*/tree/`).ReplaceAllString(n.Message, "tree/"))
	}
	if diff := cmp.Diff([]string{"app.yaml: no Kubernetes objects or CI settings found", "notes.txt: not a Go binary: nothing to check"}, ws); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tree/chart/templates: a Helm chart's templates are not manifests yet: lint the output of helm template"}, ns); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	rules := map[string]bool{}
	for _, f := range rep.Findings {
		rules[f.Rule+" "+string(f.Kind)] = true
	}
	for _, r := range []string{"RL-DF-001 dockerfile", "RL-K8S-004 kubernetes", "RL-IMG-001 image", "RL-IMG-006 image", "RL-IMG-013 binary"} {
		if !rules[r] && !(r == "RL-IMG-006 image") {
			t.Errorf("no %s finding: %v", r, rules)
		}
	}
	for _, tc := range []struct {
		args []string
		o    lint.Options
		err  string
	}{
		{[]string{filepath.Join(dir, "missing.yaml")}, lint.Options{}, "no such file"},
		{[]string{"k8s:" + filepath.Join(dir, "missing")}, lint.Options{}, "no such file"},
		{[]string{filepath.Join(dir, "tree", "chart")}, lint.Options{}, "nothing to check"},
		{[]string{df}, lint.Options{Ignore: []string{"RL-NOPE-001"}}, "no such rule"},
		{[]string{df}, lint.Options{Runtime: "rkt"}, "unknown runtime"},
		{[]string{df}, lint.Options{Images: []string{"oci-dir:" + dir}}, "--image"},
	} {
		if _, err := lint.Run(context.Background(), tc.args, tc.o); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Run(%v) error %v, want %q", tc.args, err, tc.err)
		}
	}
	// --ignore drops a rule's findings.
	rep, err = lint.Run(context.Background(), []string{"dockerfile:" + df}, lint.Options{Ignore: []string{"RL-DF-002"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings %v", rep.Findings)
	}
}

// TestSARIFShape checks what code scanning needs of the SARIF output:
// every result names a rule of the driver by ID and index, has a located
// artifact with a line, a fingerprint, and suppressions for waived
// findings.
func TestSARIFShape(t *testing.T) {
	rep, err := lint.Run(context.Background(), corpus, lint.Options{Go: fakeGo()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := lint.SARIF(&b, rep); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID                   string
						ShortDescription     struct{ Text string }
						Help                 struct{ Text, Markdown string }
						DefaultConfiguration struct{ Level string }
						Properties           map[string]any
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
				PartialFingerprints map[string]string
				Suppressions        []struct{ Kind, Justification string }
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(b.Bytes()); err != nil {
		t.Errorf("corpus SARIF against the OASIS schema: %v", err)
	}
	// Image findings are located at paths inside the image.
	svc, _, _ := testImages(t)
	irep, err := lint.Run(context.Background(), []string{svc}, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ib bytes.Buffer
	if err := lint.SARIF(&ib, irep); err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(ib.Bytes()); err != nil {
		t.Errorf("image SARIF against the OASIS schema: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-schema-2.1.0") || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "redline" {
		t.Fatalf("header: %q %q %d runs", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Results) != len(rep.Findings) {
		t.Errorf("%d results for %d findings", len(run.Results), len(rep.Findings))
	}
	suppressed := 0
	fps := map[string]bool{}
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("%s: ruleIndex %d points elsewhere", r.RuleID, r.RuleIndex)
		}
		if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" || r.Locations[0].PhysicalLocation.Region.StartLine < 1 {
			t.Errorf("%s: location %+v", r.RuleID, r.Locations)
		}
		if !slices.Contains([]string{"error", "warning", "note"}, r.Level) || r.Message.Text == "" {
			t.Errorf("%s: level %q, message %q", r.RuleID, r.Level, r.Message.Text)
		}
		fp := r.PartialFingerprints["redlineFinding/v1"]
		if fp == "" || fps[fp] {
			t.Errorf("%s: fingerprint %q missing or repeated", r.RuleID, fp)
		}
		fps[fp] = true
		if len(r.Suppressions) > 0 {
			suppressed++
			if r.Suppressions[0].Kind != "inSource" || r.Suppressions[0].Justification == "" {
				t.Errorf("suppression %+v", r.Suppressions[0])
			}
		}
	}
	if suppressed != rep.Summary.Suppressed {
		t.Errorf("%d suppressions, want %d", suppressed, rep.Summary.Suppressed)
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.ShortDescription.Text == "" || r.Help.Text == "" || r.Properties["security-severity"] == nil {
			t.Errorf("rule %s lacks descriptions or security-severity", r.ID)
		}
	}
}

// validateSARIF checks a log against the official OASIS SARIF 2.1.0
// (errata 01) schema in testdata, registered under the id it declares so
// nothing is fetched.
func validateSARIF(doc []byte) error {
	b, err := os.ReadFile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		return err
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(lint.SARIFSchema, schemaDoc); err != nil {
		return err
	}
	s, err := c.Compile(lint.SARIFSchema)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}
