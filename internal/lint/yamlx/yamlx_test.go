package yamlx

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

const multi = `# Source: chart/templates/a.yaml
apiVersion: v1
kind: ConfigMap
---
apiVersion: v1
kind: Pod
spec:
  containers:
  # the app
  - name: app      # trailing
    image: x

    args: |
      --a
      --b
  - name: side
    image: "y"
---
bad: [unclosed
---
last: {a: 'it''s', b: "q\"x", c: [1, {d: 2}]}  # comment
`

func TestParsePositions(t *testing.T) {
	f := Parse("m.yaml", []byte(multi), 0)
	if len(f.Docs) != 3 {
		t.Fatalf("%d docs, want 3 (one is broken)", len(f.Docs))
	}
	if diff := cmp.Diff([]Error{{Line: 19, Msg: "did not find expected ',' or ']'"}}, f.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if f.Docs[0].HelmSource != "chart/templates/a.yaml" {
		t.Errorf("HelmSource = %q", f.Docs[0].HelmSource)
	}
	pod := f.Docs[1]
	if pod.StartLine != 4 || pod.EndLine != 17 {
		t.Errorf("pod doc lines %d-%d, want 4-17", pod.StartLine, pod.EndLine)
	}
	cs := Path(pod.Root, "spec", "containers")
	app, side := cs.Content[0], cs.Content[1]
	if app.Line != 10 || side.Line != 16 {
		t.Errorf("containers at lines %d and %d, want 10 and 16", app.Line, side.Line)
	}
	if got := f.EndLine(pod, app); got != 15 {
		t.Errorf("EndLine(app) = %d, want 15 (the block scalar's last line)", got)
	}
	if got := f.EndLine(pod, side); got != 17 {
		t.Errorf("EndLine(side) = %d, want 17", got)
	}
	last := f.Docs[2]
	if v := Value(last.Root, "last"); v.Line != 21 || v.Style&yaml.FlowStyle == 0 {
		t.Errorf("last: line %d style %v", v.Line, v.Style)
	}
	lastMap := Value(last.Root, "last")
	if got := string(f.Src[f.Offset(lastMap):f.FlowEnd(lastMap)]); got != `{a: 'it''s', b: "q\"x", c: [1, {d: 2}]}` {
		t.Errorf("flow text = %q", got)
	}
	for key, want := range map[string]string{"a": `'it''s'`, "b": `"q\"x"`} {
		v := Value(lastMap, key)
		if got := string(f.Src[f.Offset(v):f.ScalarEnd(v)]); got != want {
			t.Errorf("scalar %s = %q, want %q", key, got, want)
		}
	}
	name := Value(app, "name")
	if got := string(f.Src[f.Offset(name):f.ScalarEnd(name)]); got != "app" {
		t.Errorf("plain scalar before a comment = %q", got)
	}
	if f.Lines() != 21 || f.Line(10) != "  - name: app      # trailing" || f.Indent(11) != 4 {
		t.Errorf("Lines %d, Line(10) %q, Indent(11) %d", f.Lines(), f.Line(10), f.Indent(11))
	}
}

func TestScope(t *testing.T) {
	f := Parse("m.yaml", []byte(multi), 0)
	for _, tc := range []struct {
		line     int
		trailing bool
		from, to int
	}{
		{9, false, 10, 15},  // above a container: the whole container
		{10, true, 10, 15},  // trailing on its first line: the same
		{7, false, 8, 17},   // above a key: the key and its value
		{12, false, 13, 15}, // above args: the block scalar
	} {
		from, to := f.Scope(tc.line, tc.trailing)
		if from != tc.from || to != tc.to {
			t.Errorf("Scope(%d, %v) = %d-%d, want %d-%d", tc.line, tc.trailing, from, to, tc.from, tc.to)
		}
	}
}

func TestScopeWholeDocument(t *testing.T) {
	src := "kind: A\n---\n# redline:ignore RL-K8S-001 legacy\napiVersion: v1\nkind: Pod\nspec:\n  securityContext:\n    # redline:ignore RL-K8S-008 r\n    runAsNonRoot: true\n    readOnlyRootFilesystem: false\n"
	f := Parse("d.yaml", []byte(src), 0)
	if from, to := f.Scope(3, false); from != 4 || to != 10 {
		t.Errorf("directive before the first key covers %d-%d, want the document 4-10", from, to)
	}
	if from, to := f.Scope(8, false); from != 9 || to != 9 {
		t.Errorf("directive above a nested key covers %d-%d, want 9-9", from, to)
	}
}

func TestLimitsAndOddities(t *testing.T) {
	big := "a: " + strings.Repeat("x", 2000) + "\n---\nb: 1\n"
	f := Parse("big.yaml", []byte(big), 1000)
	if len(f.Errors) != 1 || f.Errors[0].Line != 1 || !strings.Contains(f.Errors[0].Msg, "above the limit of 1000") {
		t.Errorf("errors = %+v", f.Errors)
	}
	if len(f.Docs) != 1 || Value(f.Docs[0].Root, "b") == nil || Value(f.Docs[0].Root, "b").Line != 3 {
		t.Errorf("the small document after the big one was not read: %+v", f.Docs)
	}
	// Tabs, CRLF, an empty document and an alias.
	f = Parse("x.yaml", []byte("a: &x {b: 1}\r\nc: *x\r\n---\r\n---\r\n\tbad: 1\r\n"), 0)
	if f.Newline() != "\r\n" {
		t.Errorf("Newline() = %q", f.Newline())
	}
	if v := Value(f.Docs[0].Root, "c"); v == nil || Value(v, "b") == nil {
		t.Errorf("alias not resolved: %+v", v)
	}
	if len(f.Errors) != 1 || f.Errors[0].Line != 5 {
		t.Errorf("errors = %+v, want one at line 5", f.Errors)
	}
	if IsNull(Value(f.Docs[0].Root, "a")) || !IsNull(nil) {
		t.Error("IsNull")
	}
}
