package guard

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Status is the outcome of one check.
type Status string

// The statuses. Fail and Unknown make a Report not OK; Warn, Info and Pass do not.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"    // a known gap, or a failure the policy waives
	Unknown Status = "unknown" // the state could not be read: never a pass
	Info    Status = "info"    // an observation the policy does not judge
)

// Result is one check: what guard observed, what the policy expects, and why it failed,
// could not tell, or what to do next.
type Result struct {
	ID       string `json:"id"`
	Status   Status `json:"status"`
	Observed string `json:"observed"`
	Expected string `json:"expected,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Waived is set when the policy (Policy.Warn) turned a failure into a warning.
	Waived bool `json:"waived,omitempty"`
}

// Report is what Check found. Encode it with encoding/json (the field names are stable),
// print it with WriteText, or log it: it implements slog.LogValuer.
type Report struct {
	// OK is true when no check failed and none is unknown.
	OK bool `json:"ok"`
	// Supported is false on systems guard cannot inspect (anything but Linux); every
	// check is then Unknown.
	Supported bool   `json:"supported"`
	GOOS      string `json:"goos"`
	GoVersion string `json:"go_version"`
	// Results lists every check in a fixed order.
	Results []Result `json:"checks"`
	// Actions lists what guard changed: GOMEMLIMIT, capabilities raised or dropped.
	Actions []string `json:"actions,omitempty"`
}

// Result returns the check with the given id.
func (r Report) Result(id string) (Result, bool) {
	for _, c := range r.Results {
		if c.ID == id {
			return c, true
		}
	}
	return Result{}, false
}

// Failed returns the checks that failed or could not be read.
func (r Report) Failed() []Result {
	var out []Result
	for _, c := range r.Results {
		if c.Status == Fail || c.Status == Unknown {
			out = append(out, c)
		}
	}
	return out
}

// Warnings returns the checks with status Warn.
func (r Report) Warnings() []Result {
	var out []Result
	for _, c := range r.Results {
		if c.Status == Warn {
			out = append(out, c)
		}
	}
	return out
}

// Summary is a one-line verdict, e.g. "ok (1 warning)" or "2 checks failed: user, caps.effective".
func (r Report) Summary() string {
	failed, warns := r.Failed(), len(r.Warnings())
	if len(failed) == 0 {
		switch warns {
		case 0:
			return "ok"
		case 1:
			return "ok (1 warning)"
		}
		return "ok (" + strconv.Itoa(warns) + " warnings)"
	}
	s := strconv.Itoa(len(failed)) + " checks failed: "
	if len(failed) == 1 {
		s = "1 check failed: "
	}
	for i, c := range failed {
		if i > 0 {
			s += ", "
		}
		s += c.ID
	}
	return s
}

// WriteText writes the report for people: a verdict, then one line per check, and the
// detail of every check that is not a pass on the line below it.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "guard: %s\n", r.Summary())
	idW, obsW := len("CHECK"), len("OBSERVED")
	for _, c := range r.Results {
		idW = max(idW, len(c.ID))
		obsW = max(obsW, min(len(c.Observed), 40))
	}
	fmt.Fprintf(&b, "  %-7s  %-*s  %-*s  %s\n", "STATUS", idW, "CHECK", obsW, "OBSERVED", "EXPECTED")
	for _, c := range r.Results {
		obs := c.Observed
		if len(obs) > maxTextObserved {
			// Long capability lists (a root process holds 40): the JSON and log renderings keep them whole.
			obs = obs[:maxTextObserved-len("…")] + "…"
		}
		line := fmt.Sprintf("  %-7s  %-*s  %-*s  %s", c.Status, idW, c.ID, obsW, obs, c.Expected)
		for len(line) > 0 && line[len(line)-1] == ' ' {
			line = line[:len(line)-1]
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if c.Detail != "" && c.Status != Pass {
			fmt.Fprintf(&b, "  %-7s  %s\n", "", c.Detail)
		}
	}
	for _, a := range r.Actions {
		fmt.Fprintf(&b, "  did: %s\n", a)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxTextObserved bounds an observed value in WriteText's table.
const maxTextObserved = 60

// String returns the WriteText rendering.
func (r Report) String() string {
	var b strings.Builder
	r.WriteText(&b)
	return b.String()
}

// LogValue renders the report as slog attributes: "ok", "summary", one group per check
// (keyed by its id, holding status, observed, expected and detail) and "actions".
func (r Report) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(r.Results)+3)
	attrs = append(attrs, slog.Bool("ok", r.OK), slog.String("summary", r.Summary()))
	for _, c := range r.Results {
		g := []slog.Attr{slog.String("status", string(c.Status)), slog.String("observed", c.Observed)}
		if c.Expected != "" {
			g = append(g, slog.String("expected", c.Expected))
		}
		if c.Detail != "" {
			g = append(g, slog.String("detail", c.Detail))
		}
		if c.Waived {
			g = append(g, slog.Bool("waived", true))
		}
		attrs = append(attrs, slog.Attr{Key: c.ID, Value: slog.GroupValue(g...)})
	}
	if len(r.Actions) > 0 {
		attrs = append(attrs, slog.Any("actions", r.Actions))
	}
	return slog.GroupValue(attrs...)
}

// finish applies the policy's waivers and sets OK.
func (r *Report) finish(ru *rules) {
	r.OK = true
	for i := range r.Results {
		c := &r.Results[i]
		if c.Status != Fail && c.Status != Unknown {
			continue
		}
		if ru != nil && ru.waived(c.ID) {
			c.Waived = true
			if c.Status == Unknown {
				c.Detail = "could not tell, waived by policy: " + c.Detail
			} else {
				c.Detail = "waived by policy: " + c.Detail
			}
			c.Status = Warn
			continue
		}
		r.OK = false
	}
}
