package kube

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseQuantity reads a Kubernetes resource quantity ("256Mi", "1G",
// "500m", "1.5", "2e9") as a float in base units (bytes, cores).
func ParseQuantity(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty quantity")
	}
	suffixes := []struct {
		s string
		m float64
	}{
		{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
		{"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
	}
	mult := 1.0
	num := s
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf.s) {
			num, mult = strings.TrimSuffix(s, suf.s), suf.m
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a resource quantity", s)
	}
	return v * mult, nil
}

// ParseGoMemLimit reads GOMEMLIMIT as the Go runtime does: a number of
// bytes with an optional B, KiB, MiB, GiB or TiB suffix; "off" is
// unlimited (ok false).
func ParseGoMemLimit(s string) (bytes float64, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return 0, false, nil
	}
	units := []struct {
		s string
		m float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}}
	mult := 1.0
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.s) {
			num, mult = strings.TrimSuffix(s, u.s), u.m
			break
		}
	}
	n, perr := strconv.ParseUint(num, 10, 64)
	if perr != nil {
		return 0, false, fmt.Errorf("GOMEMLIMIT=%q is not a byte count the Go runtime accepts (e.g. 200MiB)", s)
	}
	return float64(n) * mult, true, nil
}

// HumanBytes renders bytes in binary units.
func HumanBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return strconv.FormatFloat(b/(1<<30), 'f', -1, 64) + "Gi"
	case b >= 1<<20:
		return strconv.FormatFloat(math.Round(b/(1<<20)*100)/100, 'f', -1, 64) + "Mi"
	case b >= 1<<10:
		return strconv.FormatFloat(math.Round(b/(1<<10)*100)/100, 'f', -1, 64) + "Ki"
	}
	return strconv.FormatFloat(b, 'f', -1, 64)
}
