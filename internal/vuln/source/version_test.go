package source

import "testing"

// The engine runs as a command built by the target toolchain only when
// that toolchain is of a newer minor line than redline's own.
func TestNewerMinor(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"go1.27.3", "go1.26.8", true},
		{"go1.27rc1", "go1.26.8", true},
		{"go1.26.9", "go1.26.8", false},
		{"go1.26.8", "go1.27.3", false},
		{"devel go1.28-abc", "go1.26.8", false},
		{"go1.27.3", "devel go1.27-abc", false},
	} {
		if got := newerMinor(c.a, c.b); got != c.want {
			t.Errorf("newerMinor(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
