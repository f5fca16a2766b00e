package rule

// SchemaVersion identifies the JSON form of a [Report].
const SchemaVersion = "redline.dev/lint/v1"

// Report is the result of one `redline lint` run over its targets.
type Report struct {
	SchemaVersion string `json:"schemaVersion"`
	Tool          Tool   `json:"tool"`
	// Targets are the targets as given, with what they were taken for.
	Targets []Target `json:"targets"`
	// Findings are sorted (see [Sort]); suppressed ones are kept, marked.
	Findings []Finding `json:"findings"`
	// Warnings name content that could not be parsed; Notes checks that
	// could not be made.
	Warnings []Warning `json:"warnings,omitempty"`
	Notes    []Note    `json:"notes,omitempty"`
	Summary  Summary   `json:"summary"`
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target is one target of a run.
type Target struct {
	Target string `json:"target"`
	Kind   Kind   `json:"kind"`
	// Files counts the files checked under a directory target.
	Files int `json:"files,omitempty"`
}

// Summary counts the findings that are not suppressed, by severity.
type Summary struct {
	Critical   int `json:"critical"`
	High       int `json:"high"`
	Medium     int `json:"medium"`
	Low        int `json:"low"`
	Info       int `json:"info"`
	Suppressed int `json:"suppressed"`
	Warnings   int `json:"warnings"`
}

// Summarize recounts the summary from the findings and warnings.
func (r *Report) Summarize() {
	s := Summary{Warnings: len(r.Warnings)}
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			s.Suppressed++
			continue
		}
		switch f.Severity {
		case Critical:
			s.Critical++
		case High:
			s.High++
		case Medium:
			s.Medium++
		case Low:
			s.Low++
		default:
			s.Info++
		}
	}
	r.Summary = s
}

// Crossed returns the findings, not suppressed, at or above min.
func (r *Report) Crossed(min Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Suppressed == nil && f.Severity >= min {
			out = append(out, f)
		}
	}
	return out
}
