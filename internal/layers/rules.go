package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Rules are CI gates compatible with dive's: the same three rules, the
// same .dive-ci file. A nil field is disabled.
type Rules struct {
	// LowestEfficiency fails when efficiency is below it (0..1).
	LowestEfficiency *float64
	// HighestWastedBytes fails when wasted bytes exceed it.
	HighestWastedBytes *int64
	// HighestUserWastedPercent fails when wasted bytes over the bytes added
	// after the first layer exceed it (a ratio: 0.1 = 10%).
	HighestUserWastedPercent *float64
	// Dive evaluates the rules on dive's metrics instead of redline's, to
	// reproduce a dive verdict exactly.
	Dive bool
}

// Any reports whether at least one rule is enabled.
func (r Rules) Any() bool {
	return r.LowestEfficiency != nil || r.HighestWastedBytes != nil || r.HighestUserWastedPercent != nil
}

// RuleResult is one evaluated rule.
type RuleResult struct {
	// Name is dive's rule name, e.g. "lowestEfficiency".
	Name string `json:"name"`
	// Measure is "redline" or "dive": which metrics were compared.
	Measure string  `json:"measure"`
	Limit   float64 `json:"limit"`
	Value   float64 `json:"value"`
	Pass    bool    `json:"pass"`
	Message string  `json:"message"`
}

// Evaluate checks the rules against a, records the results in a.Rules and
// reports whether all passed.
func (r Rules) Evaluate(a *Analysis) bool {
	measure := "redline"
	eff := a.Summary.Efficiency
	wasted := float64(a.Summary.ReclaimableBytes)
	userPct := 0.0
	if user := userWrittenBytes(a); user > 0 {
		userPct = wasted / float64(user)
	}
	if r.Dive {
		measure = "dive"
		eff, wasted, userPct = a.Dive.Efficiency, float64(a.Dive.WastedBytes), a.Dive.UserWastedPercent
	}
	a.Rules = nil
	ok := true
	add := func(name string, limit, value float64, pass bool, msg string) {
		a.Rules = append(a.Rules, RuleResult{Name: name, Measure: measure, Limit: limit, Value: value, Pass: pass, Message: msg})
		ok = ok && pass
	}
	if r.LowestEfficiency != nil {
		l := *r.LowestEfficiency
		add("lowestEfficiency", l, eff, eff >= l, fmt.Sprintf("efficiency %.4f, lowest allowed %.4f", eff, l))
	}
	if r.HighestWastedBytes != nil {
		l := float64(*r.HighestWastedBytes)
		add("highestWastedBytes", l, wasted, wasted <= l, fmt.Sprintf("wasted %s, highest allowed %s", HumanBytes(int64(wasted)), HumanBytes(int64(l))))
	}
	if r.HighestUserWastedPercent != nil {
		l := *r.HighestUserWastedPercent
		add("highestUserWastedPercent", l, userPct, userPct <= l, fmt.Sprintf("wasted %.2f%% of the bytes added after the base layer, highest allowed %.2f%%", userPct*100, l*100))
	}
	return ok
}

func userWrittenBytes(a *Analysis) int64 {
	var n int64
	for _, l := range a.Layers[min(1, len(a.Layers)):] {
		n += l.WrittenBytes
	}
	return n
}

// ParseDiveCI reads a .dive-ci file:
//
//	rules:
//	  lowestEfficiency: 0.95
//	  highestWastedBytes: 20MB
//	  highestUserWastedPercent: 0.20
//
// Any value may be "disabled". Unknown keys are errors, so a typo does not
// silently disable a gate.
func ParseDiveCI(data []byte) (Rules, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return Rules{}, err
	}
	var doc struct {
		Rules map[string]json.RawMessage `json:"rules"`
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Rules{}, fmt.Errorf("want a top-level \"rules\" map: %w", err)
	}
	var r Rules
	for k, raw := range doc.Rules {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return Rules{}, fmt.Errorf("rules.%s: %w", k, err)
		}
		if s, ok := v.(string); ok && strings.EqualFold(strings.TrimSpace(s), "disabled") {
			continue
		}
		switch k {
		case "lowestEfficiency":
			f, err := ratio(v)
			if err != nil {
				return Rules{}, fmt.Errorf("rules.%s: %w", k, err)
			}
			r.LowestEfficiency = &f
		case "highestUserWastedPercent":
			f, err := ratio(v)
			if err != nil {
				return Rules{}, fmt.Errorf("rules.%s: %w", k, err)
			}
			r.HighestUserWastedPercent = &f
		case "highestWastedBytes":
			var s string
			switch x := v.(type) {
			case float64:
				s = strconv.FormatFloat(x, 'f', -1, 64)
			case string:
				s = x
			default:
				return Rules{}, fmt.Errorf("rules.%s: want a size like 20MB", k)
			}
			n, err := ParseBytes(s)
			if err != nil {
				return Rules{}, fmt.Errorf("rules.%s: %w", k, err)
			}
			r.HighestWastedBytes = &n
		default:
			return Rules{}, fmt.Errorf("rules.%s: unknown rule (known: lowestEfficiency, highestWastedBytes, highestUserWastedPercent)", k)
		}
	}
	return r, nil
}

func ratio(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		var err error
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("want a ratio between 0 and 1, got %q", x)
		}
	default:
		return 0, errors.New("want a ratio between 0 and 1")
	}
	if f < 0 || f > 1 || math.IsNaN(f) {
		return 0, fmt.Errorf("want a ratio between 0 and 1, got %v", f)
	}
	return f, nil
}

// ParseBytes parses sizes the way dive's rules write them: "20MB" (SI,
// 1000-based, as dive), "20MiB" (1024-based), "1.5GB", "123" (bytes).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (B, kB, MB, GB, KiB, MiB, GiB)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (B, kB, MB, GB, KiB, MiB, GiB)", s, unit)
	}
	v := f * mult
	if v > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(v), nil
}

// HumanBytes formats a byte count with binary units: "1.5 MiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < 0 {
		return "-" + HumanBytes(-n)
	}
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
