package edit

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	src := []byte("a: 1\nb: 2\n")
	got, err := Apply(src, []Edit{
		{Start: 10, End: 10, Text: "c: 3\n"},
		{Start: 3, End: 4, Text: "one"},
		{Start: 10, End: 10, Text: "d: 4\n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "a: one\nb: 2\nc: 3\nd: 4\n" {
		t.Errorf("Apply = %q", got)
	}
	if _, err := Apply(src, []Edit{{Start: 0, End: 4, Text: "x"}, {Start: 2, End: 3, Text: "y"}}); err == nil {
		t.Error("overlapping edits applied")
	}
	if _, err := Apply(src, []Edit{{Start: 5, End: 50}}); err == nil {
		t.Error("out-of-range edit applied")
	}
}

func TestDiff(t *testing.T) {
	var lines []string
	for i := 1; i <= 20; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	a := strings.Join(lines, "\n") + "\n"
	b := strings.Replace(a, lines[4]+"\n", lines[4]+"\ninserted\n", 1)
	b = strings.Replace(b, "\n"+lines[17]+"\n", "\nchanged\n", 1)
	var out bytes.Buffer
	if err := Diff(&out, "f.yaml", []byte(a), []byte(b)); err != nil {
		t.Fatal(err)
	}
	want := `--- f.yaml
+++ f.yaml
@@ -3,6 +3,7 @@
 line 3
 line 4
 line 5
+inserted
 line 6
 line 7
 line 8
@@ -15,6 +16,6 @@
 line 15
 line 16
 line 17
-line 18
+changed
 line 19
 line 20
`
	if out.String() != want {
		t.Errorf("Diff =\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	Diff(&out, "f", []byte(a), []byte(a))
	if out.Len() != 0 {
		t.Errorf("Diff of equal files = %q", out.String())
	}
	out.Reset()
	Diff(&out, "f", []byte("a\nb"), []byte("a\nc"))
	if want := "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"; out.String() != want {
		t.Errorf("Diff without final newline =\n%q\nwant\n%q", out.String(), want)
	}
}
