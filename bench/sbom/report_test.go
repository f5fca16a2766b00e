package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateDoc(t *testing.T) {
	f := filepath.Join(t.TempDir(), "b.md")
	os.WriteFile(f, []byte("# B\n\n## other\n\ntext\n"), 0o644)
	if err := updateDoc(f, "R1\n"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(f)
	want := "# B\n\n## other\n\ntext\n\n## sbom\n\n" + beginMark + "\n\nR1\n\n" + endMark + "\n"
	if string(raw) != want {
		t.Fatalf("created:\n%s", raw)
	}
	// Hand-written text around the markers and later sections survive.
	doc := strings.Replace(string(raw), "## sbom\n\n", "## sbom\n\nmine\n\n", 1) + "\nafter\n\n## next\n\nkeep\n"
	os.WriteFile(f, []byte(doc), 0o644)
	if err := updateDoc(f, "R2\n"); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(f)
	want = strings.Replace(doc, "R1", "R2", 1)
	if string(raw) != want {
		t.Fatalf("replaced:\n%s\nwant:\n%s", raw, want)
	}
	// A section without markers gets them at its end, before the next one.
	os.WriteFile(f, []byte("## sbom\n\nmine\n\n## next\n"), 0o644)
	if err := updateDoc(f, "R3"); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(f)
	want = "## sbom\n\nmine\n\n" + beginMark + "\n\nR3\n\n" + endMark + "\n\n## next\n"
	if string(raw) != want {
		t.Fatalf("markers added:\n%q\nwant:\n%q", raw, want)
	}
}

func TestGoKey(t *testing.T) {
	for _, c := range []struct{ name, version, want string }{
		{"stdlib", "go1.26.8", "stdlib@1.26.8"},
		{"stdlib", "v1.26.8", "stdlib@1.26.8"},
		{"stdlib", "1.26.8", "stdlib@1.26.8"},
		{"example.com/m", "", "example.com/m@(devel)"},
		{"example.com/m", "v1.0.0", "example.com/m@v1.0.0"},
	} {
		if got := goKey(c.name, c.version); got != c.want {
			t.Errorf("goKey(%q, %q) = %q, want %q", c.name, c.version, got, c.want)
		}
	}
}
