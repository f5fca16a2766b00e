package db

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Status describes the data in use, for `redline db status` and for
// reports that state their data's age.
type Status struct {
	// Date is the oldest source's date.
	Date time.Time `json:"date"`
	// AgeDays is whole days between Date and the time of the status.
	AgeDays int `json:"age_days"`
	// Stale is set when the data is older than [StaleAfter].
	Stale bool `json:"stale"`
	// Entries counts distinct entries, withdrawn ones included.
	Entries int `json:"entries"`
	// CacheDir is where updates and imports are stored.
	CacheDir string         `json:"cache_dir,omitempty"`
	Sources  []SourceStatus `json:"sources"`
	// Ecosystems counts distinct entries per ecosystem over all sources.
	Ecosystems map[string]int `json:"ecosystems"`
	// Unmatched lists the ecosystems held that redline does not match
	// (see [Matched]): their entries are kept and counted only.
	Unmatched []string `json:"unmatched_ecosystems,omitempty"`
	// Warnings are [DB.Warnings].
	Warnings []string `json:"warnings,omitempty"`
}

// SourceStatus is a source with its age.
type SourceStatus struct {
	Source
	AgeDays int `json:"age_days"`
}

// AgeDays returns the whole days from date to now (0 for a future date).
func AgeDays(date, now time.Time) int {
	if now.Before(date) {
		return 0
	}
	return int(now.Sub(date) / (24 * time.Hour))
}

// Status describes d as of now.
func (d *DB) Status(now time.Time) Status {
	st := Status{Date: d.Date(), Entries: d.Len(), Ecosystems: map[string]int{}, Warnings: d.Warnings()}
	st.AgeDays = AgeDays(st.Date, now)
	st.Stale = now.Sub(st.Date) > StaleAfter
	for _, s := range d.sources {
		st.Sources = append(st.Sources, SourceStatus{Source: s, AgeDays: AgeDays(s.Date, now)})
	}
	for _, e := range d.entries {
		var seen []string
		for _, p := range e.pkgs {
			if !slices.Contains(seen, p.Ecosystem) {
				seen = append(seen, p.Ecosystem)
				st.Ecosystems[p.Ecosystem]++
			}
		}
	}
	for _, eco := range slices.Sorted(maps.Keys(st.Ecosystems)) {
		if !Matched(eco) {
			st.Unmatched = append(st.Unmatched, eco)
		}
	}
	return st
}

// WriteStatusJSON writes st as indented JSON.
func WriteStatusJSON(w io.Writer, st Status) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

// WriteStatusTable writes st for people.
func WriteStatusTable(w io.Writer, st Status) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Vulnerability data: %d entries of %s, %s old", st.Entries, st.Date.Format(time.DateOnly), days(st.AgeDays))
	if st.Stale {
		fmt.Fprintf(&b, " (older than %d days: run `redline db update`)", int(StaleAfter/(24*time.Hour)))
	}
	b.WriteString("\n")
	if st.CacheDir != "" {
		fmt.Fprintf(&b, "Cache: %s\n", st.CacheDir)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tVERSION\tDATE\tAGE\tENTRIES\tFROM")
	for _, s := range st.Sources {
		from := s.Path
		if s.Embedded {
			from = "embedded"
		}
		if s.Skipped > 0 {
			from += fmt.Sprintf(" (%d malformed entries skipped)", s.Skipped)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Name, orDash(s.Version), s.Date.Format(time.DateOnly), days(s.AgeDays), s.Entries, from)
	}
	tw.Flush()
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tENTRIES")
	for _, eco := range slices.Sorted(maps.Keys(st.Ecosystems)) {
		fmt.Fprintf(tw, "%s\t%d", eco, st.Ecosystems[eco])
		if !Matched(eco) {
			fmt.Fprint(tw, "\tnot matched by redline")
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, w := range st.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
