package db

import (
	"testing"

	"github.com/redline-go/redline/internal/vuln/osv"
)

func TestNonSupersededFix(t *testing.T) {
	semverRange := func(events ...osv.Event) osv.Range { return osv.Range{Type: osv.RangeSemver, Events: events} }
	in, fx := func(v string) osv.Event { return osv.Event{Introduced: v} }, func(v string) osv.Event { return osv.Event{Fixed: v} }
	for _, tc := range []struct {
		name   string
		ranges []osv.Range
		want   string
	}{
		{"none", nil, ""},
		{"one fix", []osv.Range{semverRange(in("0"), fx("1.2.3"))}, "1.2.3"},
		{"latest of several", []osv.Range{semverRange(in("0"), fx("1.20.5"), in("1.21.0"), fx("1.21.1"))}, "1.21.1"},
		{"numeric, not lexical", []osv.Range{semverRange(in("0"), fx("1.9.0"), in("1.10.0"), fx("1.10.2"))}, "1.10.2"},
		{"reintroduced", []osv.Range{semverRange(in("0"), fx("1.1.0"), in("1.3.0"))}, ""},
		{"open only", []osv.Range{semverRange(in("1.0.0"))}, ""},
		{"pseudo-version", []osv.Range{semverRange(in("0"), fx("0.0.0-20200124225646-8b5121be2f68"))}, "0.0.0-20200124225646-8b5121be2f68"},
		{"ECOSYSTEM ignored", []osv.Range{{Type: osv.RangeEcosystem, Events: []osv.Event{in("0"), fx("9.0.0")}}}, ""},
		{"across ranges", []osv.Range{semverRange(in("0"), fx("1.0.0")), semverRange(in("2.0.0"), fx("2.0.1"))}, "2.0.1"},
	} {
		if got := nonSupersededFix(tc.ranges); got != tc.want {
			t.Errorf("%s: nonSupersededFix = %q, want %q", tc.name, got, tc.want)
		}
	}
}
