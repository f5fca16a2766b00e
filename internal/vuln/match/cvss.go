package match

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// severityOf returns the severity level of an entry and the vector it came
// from: a CVSS v3 base score when the entry has a vector, else the words of
// database_specific.severity (GitHub's LOW/MODERATE/HIGH/CRITICAL), else
// unknown — all Go database entries are unknown.
func severityOf(e *osv.Entry, a *osv.Affected) (string, string) {
	sevs := append(append([]osv.Severity(nil), a.Severity...), e.Severity...)
	for _, s := range sevs {
		if s.Type != "CVSS_V3" {
			continue
		}
		if score, ok := CVSS3Score(s.Score); ok {
			return levelOf(score), s.Score
		}
	}
	var ds struct {
		Severity string `json:"severity"`
	}
	if mayHoldSeverity(e.DatabaseSpecific) && json.Unmarshal(e.DatabaseSpecific, &ds) == nil {
		switch strings.ToUpper(ds.Severity) {
		case "CRITICAL":
			return vuln.SevCritical, ""
		case "HIGH":
			return vuln.SevHigh, ""
		case "MODERATE", "MEDIUM":
			return vuln.SevMedium, ""
		case "LOW":
			return vuln.SevLow, ""
		}
	}
	return vuln.SevUnknown, ""
}

// mayHoldSeverity reports whether decoding database_specific could find a
// severity key: it is skipped (the Go database's entries have none) when
// the bytes are ASCII without escapes and hold no "severity" in any case,
// which is when encoding/json's case-insensitive key match cannot see one.
func mayHoldSeverity(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	const key = "severity"
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c >= 0x80 || (c == '\\' && i+1 < len(raw) && raw[i+1] == 'u') {
			return true
		}
		if i+len(key) <= len(raw) && asciiLower(c) == 's' {
			j := 1
			for j < len(key) && asciiLower(raw[i+j]) == key[j] {
				j++
			}
			if j == len(key) {
				return true
			}
		}
	}
	return false
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func levelOf(score float64) string {
	switch {
	case score >= 9:
		return vuln.SevCritical
	case score >= 7:
		return vuln.SevHigh
	case score >= 4:
		return vuln.SevMedium
	case score > 0:
		return vuln.SevLow
	}
	return vuln.SevUnknown
}

// CVSS3Score computes the CVSS v3.0/v3.1 base score of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" with the specification's
// formula. ok is false for vectors missing a base metric.
func CVSS3Score(vector string) (score float64, ok bool) {
	m := map[string]string{}
	for i, part := range strings.Split(vector, "/") {
		k, v, found := strings.Cut(part, ":")
		if !found {
			return 0, false
		}
		if i == 0 {
			if k != "CVSS" || (v != "3.0" && v != "3.1") {
				return 0, false
			}
			continue
		}
		m[k] = v
	}
	weight := func(metric string, w map[string]float64) (float64, bool) {
		x, ok := w[m[metric]]
		return x, ok
	}
	changed := m["S"] == "C"
	if m["S"] != "U" && !changed {
		return 0, false
	}
	av, ok1 := weight("AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2})
	ac, ok2 := weight("AC", map[string]float64{"L": 0.77, "H": 0.44})
	prW := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		prW = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	pr, ok3 := weight("PR", prW)
	ui, ok4 := weight("UI", map[string]float64{"N": 0.85, "R": 0.62})
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	c, ok5 := weight("C", cia)
	i, ok6 := weight("I", cia)
	a, ok7 := weight("A", cia)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, false
	}
	iss := 1 - (1-c)*(1-i)*(1-a)
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	exploit := 8.22 * av * ac * pr * ui
	if impact <= 0 {
		return 0, true
	}
	if changed {
		return roundUp(math.Min(1.08*(impact+exploit), 10)), true
	}
	return roundUp(math.Min(impact+exploit, 10)), true
}

// roundUp is the specification's Roundup: the smallest number with one
// decimal that is at least x, computed on integers to dodge float error.
func roundUp(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}
