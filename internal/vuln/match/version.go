package match

import (
	"fmt"
	"strings"

	apkversion "github.com/knqyf263/go-apk-version"
	debversion "github.com/knqyf263/go-deb-version"
	"golang.org/x/mod/semver"
)

// Ordering compares versions of one ecosystem. Parse errors mean the
// version cannot be placed, which the matcher reports instead of guessing.
type Ordering interface {
	// Compare returns -1, 0 or +1.
	Compare(a, b string) (int, error)
}

// OrderingFor returns the ordering of an OSV ecosystem ("Go", "Debian:12",
// "Alpine:v3.20"); nil for ecosystems redline cannot order.
func OrderingFor(ecosystem string) Ordering {
	base, _, _ := strings.Cut(ecosystem, ":")
	switch base {
	case "Go":
		return goOrdering{}
	case "Debian", "Ubuntu":
		return debOrdering{}
	case "Alpine":
		return apkOrdering{}
	}
	return nil
}

// goOrdering is semantic versioning as the Go module system uses it: OSV
// writes Go versions without the "v" ("0.3.8", "1.26.10"); modules carry
// it; pseudo-versions and +incompatible order as semver says.
type goOrdering struct{}

// GoSemver returns v with the "v" prefix semver wants, and whether it is
// valid.
func GoSemver(v string) (string, bool) {
	if v == "0" {
		v = "0.0.0"
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v, semver.IsValid(v)
}

func (goOrdering) Compare(a, b string) (int, error) {
	if a == "0" || b == "0" {
		// OSV's "0" is the start of time, below even v0.0.0's
		// pseudo-versions (which semver orders before v0.0.0).
		return zeroCompare(a, b), nil
	}
	sa, ok := GoSemver(a)
	if !ok {
		return 0, fmt.Errorf("invalid Go version %q", a)
	}
	sb, ok := GoSemver(b)
	if !ok {
		return 0, fmt.Errorf("invalid Go version %q", b)
	}
	return semver.Compare(sa, sb), nil
}

// key implements keyedOrdering: the semver form, "" for OSV's "0".
func (goOrdering) key(v string) (string, bool) {
	if v == "0" {
		return "", true
	}
	return GoSemver(v)
}

func (goOrdering) compareKeys(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	return semver.Compare(a, b)
}

// debOrdering is dpkg's version ordering (epoch, upstream, revision, with
// ~ sorting before everything).
type debOrdering struct{}

func (debOrdering) Compare(a, b string) (int, error) {
	if a == "0" || b == "0" {
		return zeroCompare(a, b), nil
	}
	va, err := debversion.NewVersion(a)
	if err != nil {
		return 0, fmt.Errorf("invalid Debian version %q: %w", a, err)
	}
	vb, err := debversion.NewVersion(b)
	if err != nil {
		return 0, fmt.Errorf("invalid Debian version %q: %w", b, err)
	}
	return va.Compare(vb), nil
}

// apkOrdering is apk-tools' version ordering.
type apkOrdering struct{}

func (apkOrdering) Compare(a, b string) (int, error) {
	if a == "0" || b == "0" {
		return zeroCompare(a, b), nil
	}
	va, err := apkversion.NewVersion(a)
	if err != nil {
		return 0, fmt.Errorf("invalid Alpine version %q: %w", a, err)
	}
	vb, err := apkversion.NewVersion(b)
	if err != nil {
		return 0, fmt.Errorf("invalid Alpine version %q: %w", b, err)
	}
	return va.Compare(vb), nil
}

// zeroCompare orders OSV's "0" (the start of time) below everything.
func zeroCompare(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "0":
		return -1
	}
	return 1
}
