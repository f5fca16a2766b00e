package dockerfile

import "strings"

// simpleCmd is one command of a shell line: its leading VAR=value
// assignments and its words, quotes removed.
type simpleCmd struct {
	env   map[string]string
	words []string
}

// splitCommands splits a shell command line into simple commands at
// &&, ||, ;, |, & and newlines outside quotes. It is not a shell: it
// reads what Dockerfile RUN lines commonly hold, and leaves $VAR as
// written.
func splitCommands(s string) []simpleCmd {
	var cmds []simpleCmd
	var words []string
	var cur strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) == 0 {
			return
		}
		c := simpleCmd{env: map[string]string{}}
		i := 0
		for ; i < len(words); i++ {
			k, v, ok := strings.Cut(words[i], "=")
			if !ok || !isName(k) {
				break
			}
			c.env[k] = v
		}
		c.words = words[i:]
		// `env A=B cmd` sets the environment of cmd too.
		if len(c.words) > 0 && c.words[0] == "env" {
			j := 1
			for ; j < len(c.words); j++ {
				k, v, ok := strings.Cut(c.words[j], "=")
				if !ok || !isName(k) {
					break
				}
				c.env[k] = v
			}
			c.words = c.words[j:]
		}
		cmds = append(cmds, c)
		words = nil
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' {
				cur.WriteRune(rs[i])
				inWord = true
			}
		case r == '\'':
			inWord = true
			for i++; i < len(rs) && rs[i] != '\''; i++ {
				cur.WriteRune(rs[i])
			}
		case r == '"':
			inWord = true
			for i++; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`+"`", rs[i+1]) {
					i++
				}
				cur.WriteRune(rs[i])
			}
		case r == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			flushCmd()
		case r == '&' || r == '|' || r == ';' || r == '\n' || r == '(' || r == ')':
			flushCmd()
		case r == ' ' || r == '\t' || r == '\r':
			flushWord()
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// goBuild is what one `go build` or `go install` sets.
type goBuild struct {
	cgoOff, trimpath, ldflags, strip bool
}

// isGoBuild reports whether c runs go build or go install.
func (c simpleCmd) isGoBuild() bool {
	if len(c.words) < 2 {
		return false
	}
	exe := c.words[0]
	if exe != "go" && !strings.HasSuffix(exe, "/go") {
		return false
	}
	return c.words[1] == "build" || c.words[1] == "install"
}

// analyzeGoBuild reads the flags of a go build command given the
// environment in effect (stage ENV and ARG, earlier exports).
func analyzeGoBuild(c simpleCmd, env map[string]string) goBuild {
	get := func(k string) string {
		if v, ok := c.env[k]; ok {
			return v
		}
		return env[k]
	}
	g := goBuild{cgoOff: get("CGO_ENABLED") == "0"}
	flags := append(strings.Fields(get("GOFLAGS")), c.words[2:]...)
	for i := 0; i < len(flags); i++ {
		w := flags[i]
		name, val, hasVal := strings.Cut(strings.TrimPrefix(w, "-"), "=")
		switch name {
		case "-trimpath", "trimpath":
			g.trimpath = !hasVal || val == "true"
		case "-ldflags", "ldflags":
			g.ldflags = true
			if !hasVal && i+1 < len(flags) {
				i++
				val = flags[i]
			}
			fs := strings.Fields(val)
			s, w := false, false
			for _, f := range fs {
				s = s || f == "-s"
				w = w || f == "-w"
			}
			g.strip = s && w
		}
	}
	return g
}

// cleansApt reports whether the commands remove the apt lists.
func cleansApt(cmds []simpleCmd) bool {
	for _, c := range cmds {
		if len(c.words) > 0 && c.words[0] == "rm" {
			for _, w := range c.words[1:] {
				if strings.HasPrefix(w, "/var/lib/apt/lists") {
					return true
				}
			}
		}
	}
	return false
}

// cleansApk reports whether the commands remove the apk cache.
func cleansApk(cmds []simpleCmd) bool {
	for _, c := range cmds {
		if len(c.words) > 0 && c.words[0] == "rm" {
			for _, w := range c.words[1:] {
				if strings.HasPrefix(w, "/var/cache/apk") {
					return true
				}
			}
		}
	}
	return false
}

func hasWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}
