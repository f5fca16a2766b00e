// Package dockerfile holds the Dockerfile rules and their fixes. It parses
// with BuildKit's own parser (github.com/moby/buildkit/frontend/
// dockerfile/parser), so what it reads is what `docker build` reads, and
// every finding names the instruction's line. Syntax errors are warnings:
// the rest of the run goes on.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/redline-go/redline/internal/lint/rule"
)

// File is a parsed Dockerfile.
type File struct {
	Name string
	Src  []byte
	// Instrs are the instructions in order; nil when the file could not be
	// parsed.
	Instrs []*Instr
	Stages []*Stage
	// Warnings are syntax errors and instructions that cannot be read.
	Warnings   []rule.Warning
	Directives []rule.Directive
	escape     rune
}

// Instr is one instruction.
type Instr struct {
	Cmd                string // lowercase: "from", "run", ...
	Args               []string
	Flags              []string
	JSON               bool
	Heredocs           []parser.Heredoc
	StartLine, EndLine int
	Stage              *Stage
	node               *parser.Node
}

// Flag returns the value of --name=value, and whether it is present.
func (in *Instr) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}

// Script returns a RUN's command text: the shell line and heredoc bodies.
func (in *Instr) Script() string {
	s := strings.Join(in.Args, " ")
	for _, h := range in.Heredocs {
		s += "\n" + h.Content
	}
	return s
}

// Stage is one FROM and what follows it.
type Stage struct {
	Index int
	// Name is the AS name, lowercase.
	Name string
	// Base is the image named by FROM, with global ARGs expanded; From the
	// instruction.
	Base string
	From *Instr
	// Parent is the earlier stage FROM names, if any.
	Parent *Stage
	Instrs []*Instr
}

// Scratch reports FROM scratch.
func (s *Stage) Scratch() bool { return strings.EqualFold(s.Base, "scratch") }

// External reports whether the base is an image from a registry (not
// scratch, not another stage, fully expanded).
func (s *Stage) External() bool {
	return s.Parent == nil && !s.Scratch() && s.Base != "" && !strings.Contains(s.Base, "$")
}

// Parse reads a Dockerfile. A file BuildKit cannot parse comes back with
// a warning and no instructions.
func Parse(name string, src []byte) *File {
	f := &File{Name: name, Src: src, escape: '\\'}
	f.Directives = rule.FindDirectives(src, false)
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		line := 0
		var le *parser.LocationError
		if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
			line = le.Locations[0][0].Start.Line
		}
		msg := err.Error()
		if u := errors.Unwrap(err); u != nil {
			msg = u.Error()
		}
		f.Warnings = append(f.Warnings, rule.Warning{Location: rule.At(name, line, 0), Message: "cannot parse the Dockerfile: " + msg})
		return f
	}
	if res.EscapeToken != 0 {
		f.escape = res.EscapeToken
	}
	lex := shell.NewLex(f.escape)
	var globalArgs []string
	var cur *Stage
	byName := map[string]*Stage{}
	for _, n := range res.AST.Children {
		in := &Instr{Cmd: strings.ToLower(n.Value), Flags: n.Flags, JSON: n.Attributes["json"], Heredocs: n.Heredocs, StartLine: n.StartLine, EndLine: n.EndLine, node: n}
		for a := n.Next; a != nil; a = a.Next {
			in.Args = append(in.Args, a.Value)
		}
		warn := func(format string, args ...any) {
			f.Warnings = append(f.Warnings, rule.Warning{Location: rule.At(name, in.StartLine, 0), Message: fmt.Sprintf(format, args...)})
		}
		if _, ok := command.Commands[in.Cmd]; !ok {
			warn("unknown instruction %s: skipped", strings.ToUpper(n.Value))
			continue
		}
		switch in.Cmd {
		case "from":
			if len(in.Args) == 0 {
				warn("FROM names no image: skipped")
				continue
			}
			base, _, err := lex.ProcessWord(in.Args[0], shell.EnvsFromSlice(globalArgs))
			if err != nil {
				base = in.Args[0]
			}
			cur = &Stage{Index: len(f.Stages), Base: base, From: in}
			if len(in.Args) >= 3 && strings.EqualFold(in.Args[1], "as") {
				cur.Name = strings.ToLower(in.Args[2])
			}
			if p, ok := byName[strings.ToLower(base)]; ok {
				cur.Parent = p
			}
			if cur.Name != "" {
				byName[cur.Name] = cur
			}
			f.Stages = append(f.Stages, cur)
		case "arg":
			if cur == nil {
				for _, a := range in.Args {
					if strings.Contains(a, "=") {
						globalArgs = append(globalArgs, a)
					}
				}
			}
		default:
			if cur == nil {
				warn("%s before the first FROM: skipped", strings.ToUpper(in.Cmd))
				continue
			}
		}
		switch in.Cmd {
		case "user", "workdir", "expose", "volume", "copy", "add", "run", "env", "label", "entrypoint", "cmd":
			if len(in.Args) == 0 && len(in.Heredocs) == 0 {
				warn("%s without arguments", strings.ToUpper(in.Cmd))
				continue
			}
		}
		in.Stage = cur
		if cur != nil {
			cur.Instrs = append(cur.Instrs, in)
		}
		f.Instrs = append(f.Instrs, in)
	}
	if len(f.Stages) == 0 && len(f.Warnings) == 0 {
		f.Warnings = append(f.Warnings, rule.Warning{Location: rule.At(name, 1, 0), Message: "no FROM instruction: not a Dockerfile?"})
	}
	return f
}

// Final returns the last stage, nil when there is none.
func (f *File) Final() *Stage {
	if len(f.Stages) == 0 {
		return nil
	}
	return f.Stages[len(f.Stages)-1]
}

// Scope returns the lines a directive on line l covers: the next
// instruction.
func (f *File) Scope(l int) (from, to int) {
	for _, in := range f.Instrs {
		if in.StartLine > l {
			return in.StartLine, in.EndLine
		}
	}
	return l + 1, l + 1
}

// IsDockerfileName reports names that are Dockerfiles by convention:
// Dockerfile, Containerfile, Dockerfile.NAME, NAME.Dockerfile.
func IsDockerfileName(p string) bool {
	b := strings.ToLower(path.Base(p))
	for _, n := range []string{"dockerfile", "containerfile"} {
		if b == n || strings.HasPrefix(b, n+".") || strings.HasSuffix(b, "."+n) {
			return true
		}
	}
	return false
}

// env is the environment a RUN sees: the stage's ENV and ARG, including
// those of the stages it derives from.
func stageEnv(s *Stage, upto *Instr) map[string]string {
	env := map[string]string{}
	var chain []*Stage
	for p := s; p != nil; p = p.Parent {
		chain = append([]*Stage{p}, chain...)
	}
	for _, st := range chain {
		for _, in := range st.Instrs {
			if in == upto {
				return env
			}
			switch in.Cmd {
			case "env":
				for i := 0; i+1 < len(in.Args); i += 3 { // key, value, "=" or ""
					env[in.Args[i]] = in.Args[i+1]
				}
			case "arg":
				for _, a := range in.Args {
					k, v, _ := strings.Cut(a, "=")
					if _, ok := env[k]; !ok || v != "" {
						env[k] = v
					}
				}
			}
		}
	}
	return env
}

// user returns the last USER of a stage or the stages it derives from,
// and its instruction (nil when none).
func stageUser(s *Stage) (string, *Instr) {
	for p := s; p != nil; p = p.Parent {
		for i := len(p.Instrs) - 1; i >= 0; i-- {
			if in := p.Instrs[i]; in.Cmd == "user" {
				return in.Args[0], in
			}
		}
	}
	return "", nil
}
