package image

import (
	"errors"
	"math/rand/v2"
	"path"
	"strings"
	"testing"
)

// TestCleanEntryPath holds cleanEntryPath to its definition on random
// names built from the pieces that matter (separators, ".", "..", NUL):
// a name it takes cleans to path.Clean("/"+name); a name without ".."
// segments, NUL bytes or a leading "/" is always taken; and what it
// refuses is empty, absolute, holds a NUL or climbs above the root.
func TestCleanEntryPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "bc", "/", "/", ".", "..", "...", "\x00", "é"}
	climbs := func(name string) bool {
		depth := 0
		for _, seg := range strings.Split(name, "/") {
			switch seg {
			case "", ".":
			case "..":
				if depth--; depth < 0 {
					return true
				}
			default:
				depth++
			}
		}
		return false
	}
	for range 300000 {
		var sb strings.Builder
		for range rng.IntN(9) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		name := sb.String()
		got, err := cleanEntryPath(name)
		bad := name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") || climbs(name)
		switch {
		case err == nil && bad:
			t.Fatalf("%q: taken as %q, want refused", name, got)
		case err != nil && !bad:
			t.Fatalf("%q: refused (%v), want taken", name, err)
		case err == nil && got != path.Clean("/"+name):
			t.Fatalf("%q: cleaned to %q, want %q", name, got, path.Clean("/"+name))
		case err != nil && name != "" && !errors.Is(err, ErrInsecurePath):
			t.Fatalf("%q: %v, want ErrInsecurePath", name, err)
		}
	}
}
