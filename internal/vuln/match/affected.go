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
	return affects(&a, ord, prepare(ord, v), nil)
}

// keyedOrdering is an ordering whose versions turn once into keys that
// compare without being parsed again: a scan compares each component's
// version with many range events.
type keyedOrdering interface {
	// key returns v's comparable form, false when v is not a version.
	key(v string) (string, bool)
	compareKeys(a, b string) int
}

// version is a component's version with its key, when its ordering has
// keys and it parses.
type version struct {
	raw, key string
	keyed    bool
}

func prepare(ord Ordering, v string) version {
	out := version{raw: v}
	if k, ok := ord.(keyedOrdering); ok {
		out.key, out.keyed = k.key(v)
	}
	return out
}

// rangeCache keeps each range's events sorted once: a scan asks the same
// advisory about many components.
type rangeCache map[*osv.Range]sorted

// sorted is a range's events in order; keyed when every event has a key.
type sorted struct {
	evs   []event
	keyed bool
}

func affects(a *osv.Affected, ord Ordering, v version, cache rangeCache) (affected bool, fixed string, err error) {
	if slices.Contains(a.Versions, v.raw) {
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
		var in bool
		var fx string
		if evs.keyed && v.keyed {
			in, fx = inRangeKeyed(evs.evs, ord.(keyedOrdering), v.key)
		} else if in, fx, err = inRange(evs.evs, ord, v.raw); err != nil {
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
	key           string // the version's key (keyed orderings)
}

// sortedEvents orders a range's events the way the OSV schema says.
func sortedEvents(r *osv.Range, ord Ordering) (sorted, error) {
	evs := make([]event, 0, len(r.Events))
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			evs = append(evs, event{kind: "introduced", version: e.Introduced})
		case e.Fixed != "":
			evs = append(evs, event{kind: "fixed", version: e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, event{kind: "last_affected", version: e.LastAffected})
		}
	}
	if k, ok := ord.(keyedOrdering); ok {
		keyed := true
		for i := range evs {
			if evs[i].key, ok = k.key(evs[i].version); !ok {
				keyed = false
				break
			}
		}
		if keyed {
			// The same order as below, without parsing in every
			// comparison; a version that does not parse takes the slow
			// path, whose error names the one the sort met first.
			slices.SortStableFunc(evs, func(a, b event) int {
				if c := k.compareKeys(a.key, b.key); c != 0 {
					return c
				}
				return kindRank(a.kind) - kindRank(b.kind)
			})
			return sorted{evs: evs, keyed: true}, nil
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
	return sorted{evs: evs}, sortErr
}

// kindRank orders events at one version: a fix or last_affected closes
// what came before and an introduction opens what comes after.
func kindRank(kind string) int {
	if kind == "introduced" {
		return 1
	}
	return 0
}

// inRangeKeyed is inRange on keys.
func inRangeKeyed(evs []event, k keyedOrdering, v string) (bool, string) {
	affected := false
	for _, e := range evs {
		c := k.compareKeys(e.key, v)
		switch e.kind {
		case "introduced":
			if c <= 0 {
				affected = true
			} else {
				return affected, ""
			}
		case "fixed":
			if c <= 0 {
				affected = false
			} else {
				if affected {
					return true, e.version
				}
				return false, ""
			}
		case "last_affected":
			if c < 0 {
				affected = false
			} else {
				return affected, ""
			}
		}
	}
	return affected, ""
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
