package match

import (
	"fmt"
	"slices"
	"sort"

	"github.com/redline-go/redline/internal/vuln/osv"
)

// Affects reports whether version v of a package is in an OSV affected
// record, and the smallest fixed version above v when one is known.
// ranges of type GIT are ignored (they name commits, not releases).
func Affects(a osv.Affected, ord Ordering, v string) (affected bool, fixed string, err error) {
	return affects(&a, ord, v, nil)
}

// rangeCache keeps each range's events sorted once: a scan asks the same
// advisory about many components.
type rangeCache map[*osv.Range][]event

func affects(a *osv.Affected, ord Ordering, v string, cache rangeCache) (affected bool, fixed string, err error) {
	if slices.Contains(a.Versions, v) {
		affected = true
	}
	for i := range a.Ranges {
		r := &a.Ranges[i]
		if r.Type == osv.RangeGit {
			continue
		}
		evs, ok := cache[r]
		if !ok {
			evs, err = sortedEvents(r, ord)
			if err != nil {
				return false, "", err
			}
			if cache != nil {
				cache[r] = evs
			}
		}
		in, fx, err := inRange(evs, ord, v)
		if err != nil {
			return false, "", err
		}
		if in {
			affected = true
			if fx != "" && (fixed == "" || compareV(ord, fx, fixed) < 0) {
				fixed = fx
			}
		}
	}
	return affected, fixed, nil
}

func compareV(ord Ordering, a, b string) int {
	c, _ := ord.Compare(a, b)
	return c
}

type event struct {
	kind, version string
}

// sortedEvents orders a range's events the way the OSV schema says.
func sortedEvents(r *osv.Range, ord Ordering) ([]event, error) {
	evs := make([]event, 0, len(r.Events))
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			evs = append(evs, event{"introduced", e.Introduced})
		case e.Fixed != "":
			evs = append(evs, event{"fixed", e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, event{"last_affected", e.LastAffected})
		}
	}
	var sortErr error
	sort.SliceStable(evs, func(i, j int) bool {
		c, err := ord.Compare(evs[i].version, evs[j].version)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		if c != 0 {
			return c < 0
		}
		// At one version, a fix or last_affected closes what came before
		// and an introduction opens what comes after.
		return evs[i].kind != "introduced" && evs[j].kind == "introduced"
	})
	return evs, sortErr
}

// inRange evaluates sorted events: v is affected when the last event at
// or below it is an introduction (or it is at most a last_affected after
// one).
func inRange(evs []event, ord Ordering, v string) (bool, string, error) {
	affected := false
	for _, e := range evs {
		c, err := ord.Compare(e.version, v)
		if err != nil {
			return false, "", fmt.Errorf("range event %s %q: %w", e.kind, e.version, err)
		}
		switch e.kind {
		case "introduced":
			if c <= 0 {
				affected = true
			} else {
				return affected, "", nil
			}
		case "fixed":
			if c <= 0 {
				affected = false
			} else {
				if affected {
					return true, e.version, nil
				}
				return false, "", nil
			}
		case "last_affected":
			if c < 0 {
				affected = false
			} else {
				return affected, "", nil
			}
		}
	}
	return affected, "", nil
}
