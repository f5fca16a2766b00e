package dockerfile

import (
	"fmt"
	"github.com/redline-go/redline/internal/godebug"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/secret"
)

// Options tune the checks and fixes.
type Options struct {
	// User is the numeric non-root user harden writes, "UID:GID".
	// Default "65532:65532".
	User string
}

func (o Options) user() string {
	if o.User == "" {
		return "65532:65532"
	}
	return o.User
}

// nonRootBase recognises bases whose default user is not root.
var nonRootBase = regexp.MustCompile(`(?i)(:|-)nonroot($|@|-)|^cgr\.dev/chainguard/`)

// Check applies the Dockerfile rules. Directives are not applied here
// (package lint does, with the whole catalogue in view).
func Check(f *File) []rule.Finding {
	var fs []rule.Finding
	add := func(r *rule.Rule, in *Instr, object, msg, fix string) {
		fd := r.New(rule.At(f.Name, in.StartLine, 0), object, msg)
		fd.Fix = fix
		fs = append(fs, fd)
	}
	final := f.Final()
	if final == nil {
		return nil
	}
	stageObj := func(s *Stage) string {
		if s.Name != "" {
			return "stage " + s.Name
		}
		return fmt.Sprintf("stage %d", s.Index)
	}

	// Bases.
	for _, s := range f.Stages {
		if !s.External() {
			continue
		}
		ref, digest, _ := strings.Cut(s.Base, "@")
		tag := ""
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			tag = ref[i+1:]
		}
		if digest == "" {
			add(&Unpinned, s.From, stageObj(s), fmt.Sprintf("FROM %s is not pinned by digest", s.Base), fmt.Sprintf("FROM %s@sha256:<digest>", ref))
			if tag == "" || tag == "latest" {
				what := "has no tag (latest)"
				if tag == "latest" {
					what = "uses the latest tag"
				}
				add(&Latest, s.From, stageObj(s), fmt.Sprintf("FROM %s %s", s.Base, what), "name a version tag and pin its digest")
			}
		}
	}

	// The final user.
	user, userIn := stageUser(final)
	uname, _, _ := strings.Cut(user, ":")
	switch {
	case userIn == nil && final.Scratch():
		add(&LastUser, final.From, stageObj(final), "the final stage is FROM scratch and sets no USER: it runs as root", "add `USER "+Options{}.user()+"`")
	case userIn == nil && !nonRootBase.MatchString(rootBase(final)):
		add(&LastUser, final.From, stageObj(final), fmt.Sprintf("the final stage sets no USER: it runs as %s's user, root unless the base says otherwise", rootBase(final)), "add `USER "+Options{}.user()+"` after the steps that need root")
	case userIn != nil && (uname == "root" || uname == "0"):
		add(&LastUser, userIn, stageObj(final), fmt.Sprintf("the last USER is %s: the image runs as root", user), "USER "+Options{}.user())
	}
	if userIn != nil && uname != "root" && !numeric(user) && !strings.Contains(user, "$") {
		add(&NamedUser, userIn, stageObj(final), fmt.Sprintf("USER %s is not numeric: Kubernetes runAsNonRoot cannot verify it", user), "write the numeric UID:GID")
	}

	// Go builds, package managers, remote ADD, secrets.
	for _, s := range f.Stages {
		for _, in := range s.Instrs {
			switch in.Cmd {
			case "run":
				fs = append(fs, checkRun(f, s, in, s == final)...)
			case "add":
				checkAdd(in, func(msg string) {
					add(&RemoteAdd, in, stageObj(s), msg, "ADD --checksum=sha256:<digest> URL DEST, or download and verify in RUN")
				})
			case "env", "arg":
				for _, p := range pairs(in) {
					if ok, why := secret.Env(p.k, p.v); ok {
						add(&Secret, in, stageObj(s), fmt.Sprintf("%s %s: %s (value not shown)", strings.ToUpper(in.Cmd), p.k, why), "use a build secret (RUN --mount=type=secret) or the container's environment; rotate it")
					}
					if in.Cmd == "env" && p.k == "GODEBUG" && s == final {
						if weak := godebugWeakens(p.v); weak != "" {
							add(&GODEBUGEnv, in, stageObj(s), fmt.Sprintf("ENV GODEBUG=%s weakens %s", p.v, weak), "drop the setting, or keep it on purpose with a godebug line in go.mod (a visible waiver)")
						}
					}
				}
			}
		}
	}

	// Volumes of a non-root final stage.
	if userIn != nil && uname != "root" && uname != "0" {
		fs = append(fs, checkVolumes(f, final, user)...)
	}
	return fs
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func rootBase(s *Stage) string {
	for s.Parent != nil {
		s = s.Parent
	}
	return s.Base
}

func numeric(user string) bool {
	u, g, _ := strings.Cut(user, ":")
	for _, p := range []string{u, g} {
		for _, r := range p {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return u != ""
}

type kv struct{ k, v string }

// pairs returns the KEY=VALUE pairs of ENV (pairs of args) or ARG, in
// order.
func pairs(in *Instr) []kv {
	var out []kv
	switch in.Cmd {
	case "env":
		for i := 0; i+1 < len(in.Args); i += 3 { // key, value, "=" or ""
			out = append(out, kv{in.Args[i], in.Args[i+1]})
		}
	case "arg":
		for _, a := range in.Args {
			if k, v, ok := strings.Cut(a, "="); ok {
				out = append(out, kv{k, strings.Trim(v, `"'`)})
			}
		}
	}
	return out
}

// runCommands returns the simple commands of a RUN, nil for JSON form not
// run through a shell.
func runCommands(in *Instr) []simpleCmd {
	if in.JSON {
		if len(in.Args) >= 3 && strings.HasSuffix(in.Args[0], "sh") && in.Args[1] == "-c" {
			return splitCommands(in.Args[2])
		}
		return []simpleCmd{{env: map[string]string{}, words: in.Args}}
	}
	return splitCommands(in.Script())
}

func hasCacheMount(in *Instr, targets ...string) bool {
	for _, fl := range in.Flags {
		if !strings.HasPrefix(fl, "--mount=") || !strings.Contains(fl, "type=cache") {
			continue
		}
		for _, t := range targets {
			if strings.Contains(fl, "target="+t) || strings.Contains(fl, "dst="+t) || strings.Contains(fl, "destination="+t) {
				return true
			}
		}
	}
	return false
}

func checkRun(f *File, s *Stage, in *Instr, final bool) []rule.Finding {
	var fs []rule.Finding
	add := func(r *rule.Rule, object, msg, fix string) {
		fd := r.New(rule.At(f.Name, in.StartLine, 0), object, msg)
		fd.Fix = fix
		fs = append(fs, fd)
	}
	cmds := runCommands(in)
	env := stageEnv(s, in)
	obj := "stage " + s.Name
	if s.Name == "" {
		obj = fmt.Sprintf("stage %d", s.Index)
	}
	for _, c := range cmds {
		if len(c.words) > 0 && c.words[0] == "export" {
			for _, w := range c.words[1:] {
				if k, v, ok := strings.Cut(w, "="); ok {
					env[k] = v
				}
			}
			continue
		}
		if !c.isGoBuild() {
			continue
		}
		g := analyzeGoBuild(c, env)
		verb := shorten(strings.Join(c.words, " "), 60)
		if final {
			add(&SingleStage, obj, fmt.Sprintf("`%s` runs in the final stage: the image ships the toolchain and sources", verb), "build in a first stage and COPY --from=build only the binary into FROM scratch or distroless static")
		}
		short := "go " + c.words[1]
		if !g.cgoOff {
			add(&NoCgoOff, obj, fmt.Sprintf("`%s` runs without CGO_ENABLED=0", verb), "CGO_ENABLED=0 "+short+" ...")
		}
		if !g.trimpath {
			add(&NoTrimpath, obj, fmt.Sprintf("`%s` runs without -trimpath", verb), short+" -trimpath ...")
		}
		if !g.strip {
			msg := fmt.Sprintf("`%s` runs without -ldflags \"-s -w\"", verb)
			fix := short + ` -ldflags="-s -w" ...`
			if g.ldflags {
				msg = fmt.Sprintf("`%s` has -ldflags without \"-s -w\"", verb)
				fix = `add -s -w to the -ldflags value`
			}
			add(&NoStrip, obj, msg, fix)
		}
	}
	for _, c := range cmds {
		if len(c.words) >= 2 && c.words[0] == "apk" && c.words[1] == "add" && !hasWord(c.words, "--no-cache") &&
			!cleansApk(cmds) && !hasCacheMount(in, "/var/cache/apk") {
			add(&ApkCache, obj, "apk add without --no-cache", "apk add --no-cache ...")
		}
	}
	for _, c := range cmds {
		if len(c.words) >= 2 && (c.words[0] == "apt-get" || c.words[0] == "apt") && hasWord(c.words, "install") &&
			!cleansApt(cmds) && !hasCacheMount(in, "/var/lib/apt", "/var/lib/apt/lists") {
			add(&AptCleanup, obj, c.words[0]+" install without rm -rf /var/lib/apt/lists/* in the same RUN", "end the RUN with && rm -rf /var/lib/apt/lists/*")
			break
		}
	}
	return fs
}

func checkAdd(in *Instr, report func(string)) {
	if len(in.Args) < 2 {
		return
	}
	_, checksum := in.Flag("checksum")
	for _, src := range in.Args[:len(in.Args)-1] {
		remote := strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
		git := strings.HasPrefix(src, "git@") || strings.HasPrefix(src, "git://") || remote && strings.HasSuffix(strings.TrimSuffix(src, "/"), ".git")
		switch {
		case git:
			report(fmt.Sprintf("ADD %s clones a Git repository at build time", src))
		case remote && !checksum:
			report(fmt.Sprintf("ADD %s fetches a URL without --checksum", src))
		}
	}
}

// checkVolumes finds volumes of a non-root final stage that nothing gives
// to the user.
func checkVolumes(f *File, final *Stage, user string) []rule.Finding {
	var fs []rule.Finding
	for _, in := range final.Instrs {
		if in.Cmd != "volume" {
			continue
		}
		for _, v := range in.Args {
			v = path.Clean("/" + strings.Trim(v, `"`))
			owned := false
			var bad []*Instr
			for _, c := range final.Instrs {
				switch c.Cmd {
				case "copy", "add":
					if len(c.Args) < 2 {
						continue
					}
					dest := path.Clean("/" + c.Args[len(c.Args)-1])
					if dest != v && !strings.HasPrefix(dest, v+"/") {
						continue
					}
					if _, ok := c.Flag("chown"); ok {
						owned = true
					} else {
						bad = append(bad, c)
					}
				case "run":
					s := c.Script()
					if strings.Contains(s, "chown") && strings.Contains(s, v) {
						owned = true
					}
				}
			}
			obj := "VOLUME " + v
			for _, c := range bad {
				fd := VolumeOwner.New(rule.At(f.Name, c.StartLine, 0), obj, fmt.Sprintf("%s copies into volume %s without --chown: root owns it, USER %s cannot write", strings.ToUpper(c.Cmd), v, user))
				fd.Fix = fmt.Sprintf("%s --chown=%s ...", strings.ToUpper(c.Cmd), user)
				fs = append(fs, fd)
			}
			if !owned && len(bad) == 0 {
				fd := VolumeOwner.New(rule.At(f.Name, in.StartLine, 0), obj, fmt.Sprintf("nothing in the final stage gives volume %s to USER %s: it is created root-owned", v, user))
				fd.Fix = fmt.Sprintf("COPY --chown=%s an empty directory to %s (or RUN mkdir -p %s && chown %s %s)", user, v, v, user, v)
				fs = append(fs, fd)
			}
		}
	}
	return fs
}

// GoSetting is a Go environment setting a Dockerfile makes: ENV, ARG
// defaults, `go env -w` and variables set before go commands in RUN.
type GoSetting struct {
	Key, Value string
	Line       int
	// Via says how: "ENV", "ARG", "RUN go env -w", "RUN".
	Via string
}

// GoSettings returns the Go environment settings of every stage.
func (f *File) GoSettings() []GoSetting {
	var out []GoSetting
	isGo := func(k string) bool { return strings.HasPrefix(k, "GO") }
	for _, in := range f.Instrs {
		switch in.Cmd {
		case "env", "arg":
			for _, p := range pairs(in) {
				if isGo(p.k) {
					out = append(out, GoSetting{Key: p.k, Value: p.v, Line: in.StartLine, Via: strings.ToUpper(in.Cmd)})
				}
			}
		case "run":
			for _, c := range runCommands(in) {
				if len(c.words) >= 3 && c.words[0] == "go" && c.words[1] == "env" && c.words[2] == "-w" {
					for _, w := range c.words[3:] {
						if k, v, ok := strings.Cut(w, "="); ok && isGo(k) {
							out = append(out, GoSetting{Key: k, Value: v, Line: in.StartLine, Via: "RUN go env -w"})
						}
					}
					continue
				}
				for _, k := range slices.Sorted(maps.Keys(c.env)) {
					if isGo(k) {
						out = append(out, GoSetting{Key: k, Value: c.env[k], Line: in.StartLine, Via: "RUN"})
					}
				}
				if len(c.words) > 0 && c.words[0] == "export" {
					for _, w := range c.words[1:] {
						if k, v, ok := strings.Cut(w, "="); ok && isGo(k) {
							out = append(out, GoSetting{Key: k, Value: v, Line: in.StartLine, Via: "RUN export"})
						}
					}
				}
			}
		}
	}
	return out
}

// godebugWeakens names the security settings of a GODEBUG value weaker
// than the newest Go's defaults (package godebug), "" when none.
func godebugWeakens(v string) string {
	var weak []string
	for _, f := range godebug.FromEnv("GODEBUG", v).Findings() {
		weak = append(weak, f.Name+"="+f.Value.Value)
	}
	return strings.Join(weak, ",")
}
