package layers

import (
	"strconv"
	"strings"
)

// redacted stands in for a value redline does not print.
const redacted = "<redacted>"

// RedactHistory hides the values in a history step that may hold secrets:
// ENV and ARG instructions ("ENV TOKEN=abc", the old "ENV TOKEN abc") and
// the build arguments buildkit prefixes to RUN steps ("|2 A=1 B=2 /bin/sh
// -c ..."). Names stay, so a reader still sees what was set.
func RedactHistory(s string) string {
	if rest, ok := strings.CutPrefix(s, "|"); ok {
		nStr, after, _ := strings.Cut(rest, " ")
		if n, err := strconv.Atoi(nStr); err == nil && n > 0 {
			fields := strings.SplitN(after, " ", n+1)
			for i := 0; i < n && i < len(fields); i++ {
				fields[i] = redactAssign(fields[i])
			}
			return "|" + nStr + " " + strings.Join(fields, " ")
		}
	}
	for _, kw := range []string{"ENV", "ARG"} {
		i := keyword(s, kw)
		if i < 0 {
			continue
		}
		head, args := s[:i+len(kw)], strings.Fields(s[i+len(kw):])
		if len(args) == 0 {
			return s
		}
		if !strings.Contains(args[0], "=") {
			if len(args) == 1 {
				return s // ARG NAME: declares, sets nothing
			}
			// ENV NAME value with spaces
			return head + " " + args[0] + " " + redacted
		}
		for j, a := range args {
			args[j] = redactAssign(a)
		}
		return head + " " + strings.Join(args, " ")
	}
	return s
}

// keyword finds an instruction keyword as a whole word.
func keyword(s, kw string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], kw)
		if j < 0 {
			return -1
		}
		j += i
		before := j == 0 || s[j-1] == ' ' || s[j-1] == '\t'
		after := j+len(kw) < len(s) && (s[j+len(kw)] == ' ' || s[j+len(kw)] == '\t')
		if before && after {
			return j
		}
		i = j + len(kw)
	}
}

func redactAssign(a string) string {
	if name, v, ok := strings.Cut(a, "="); ok && v != "" {
		return name + "=" + redacted
	}
	return a
}
