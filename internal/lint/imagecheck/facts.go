package imagecheck

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/sbom"
)

// Label keys `redline build` writes (DESIGN.md, "Labels").
const (
	LabelUser    = "dev.redline.user"
	LabelCaps    = "dev.redline.caps"
	LabelVolumes = "dev.redline.volumes"
)

// Facts are what an image tells the rules of other targets (the
// Kubernetes cross-checks).
type Facts struct {
	// Ref is the image as opened; Name its name inside the source.
	Ref, Name string
	// User is the config's USER as written.
	User string
	// UID and GID are the effective IDs the runtime would use, -1 when
	// unknown (a name /etc/passwd lacks).
	UID, GID int
	// UserName is set when USER names the user or group.
	UserName bool
	// PrimaryGID maps the UIDs of /etc/passwd to their primary groups:
	// runtimes use it when Kubernetes sets runAsUser without runAsGroup.
	PrimaryGID map[int]int
	// Entrypoint is the executable the container starts, resolved through
	// PATH and symlinks; empty when it is not in the image.
	Entrypoint string
	// FileCaps is the entrypoint's security.capability, nil when it has
	// none.
	FileCaps *caps.File
	// GoVersion is the entrypoint's Go toolchain, when it is a Go binary.
	GoVersion string
	Env       map[string]string
	// Ports are the exposed port numbers.
	Ports   []int
	Labels  map[string]string
	Volumes []string
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func (p *Pass) facts(img *image.Image, t *image.Tree, r *Result, bins []sbom.Component) *Facts {
	f := &Facts{Ref: img.Ref, Name: img.Name, UID: -1, GID: -1, Env: map[string]string{}, PrimaryGID: map[int]int{}}
	var cfg struct {
		user                 string
		entrypoint, cmd, env []string
		workdir              string
		ports, volumes       []string
		labels               map[string]string
	}
	if img.Config != nil {
		c := img.Config.Config
		cfg.user, cfg.entrypoint, cfg.cmd, cfg.env, cfg.workdir, cfg.labels = c.User, c.Entrypoint, c.Cmd, c.Env, c.WorkingDir, c.Labels
		for p := range c.ExposedPorts {
			cfg.ports = append(cfg.ports, p)
		}
		for v := range c.Volumes {
			cfg.volumes = append(cfg.volumes, v)
		}
	}
	f.User, f.Labels = cfg.user, cfg.labels
	for _, kv := range cfg.env {
		k, v, _ := strings.Cut(kv, "=")
		f.Env[k] = v
	}
	for _, ps := range cfg.ports {
		n, _, _ := strings.Cut(ps, "/")
		if port, err := strconv.Atoi(n); err == nil && port > 0 && port < 65536 {
			f.Ports = append(f.Ports, port)
		}
	}
	slices.Sort(f.Ports)
	f.Ports = slices.Compact(f.Ports)
	slices.Sort(cfg.volumes)
	f.Volumes = cfg.volumes

	var users []passwdEntry
	if vs := p.passwd.Final(t, "/etc/passwd"); len(vs) > 0 {
		users = parsePasswd(vs[len(vs)-1].Value)
	}
	groups := map[string]int{}
	if vs := p.group.Final(t, "/etc/group"); len(vs) > 0 {
		groups = parseGroup(vs[len(vs)-1].Value)
	}
	for _, u := range users {
		if _, ok := f.PrimaryGID[u.uid]; !ok {
			f.PrimaryGID[u.uid] = u.gid
		}
	}
	f.UID, f.GID, f.UserName = resolveUser(cfg.user, users, groups)

	// The entrypoint.
	argv := append(slices.Clone(cfg.entrypoint), cfg.cmd...)
	if len(argv) > 0 && argv[0] != "" {
		search := f.Env["PATH"]
		if search == "" {
			search = defaultPath
		}
		var cands []string
		switch exe := argv[0]; {
		case strings.HasPrefix(exe, "/"):
			cands = []string{exe}
		case strings.Contains(exe, "/"):
			cands = []string{path.Join("/", cfg.workdir, exe)}
		default:
			for _, d := range strings.Split(search, ":") {
				if strings.HasPrefix(d, "/") {
					cands = append(cands, path.Join(d, exe))
				}
			}
		}
		for _, c := range cands {
			fi, err := t.Resolve(c)
			if err != nil || fi.Kind == image.KindDir {
				continue
			}
			f.Entrypoint = fi.Path
			target := fi.Path
			if fi.Kind == image.KindHardlink {
				target = fi.Link
			}
			for _, pth := range []string{fi.Path, target} {
				vs := p.fcaps.Final(t, pth)
				if len(vs) == 0 {
					continue
				}
				v := vs[len(vs)-1].Value
				if v.err == nil {
					fc := v.f
					f.FileCaps = &fc
				}
				break
			}
			break
		}
	}
	for _, b := range bins {
		if b.Path == f.Entrypoint && b.Go != nil {
			f.GoVersion = b.Go.GoVersion
		}
	}
	return f
}

// resolveUser turns USER into the IDs the runtime uses: "" is root; a
// name is looked up in /etc/passwd; a UID alone takes its passwd group or
// 0; a group is a number or a name of /etc/group.
func resolveUser(user string, users []passwdEntry, groups map[string]int) (uid, gid int, named bool) {
	if user == "" {
		return 0, 0, false
	}
	u, g, hasGroup := strings.Cut(user, ":")
	uid, gid = -1, -1
	if n, err := strconv.Atoi(u); err == nil && n >= 0 {
		uid = n
		gid = 0
		for _, e := range users {
			if e.uid == n {
				gid = e.gid
				break
			}
		}
	} else {
		named = true
		for _, e := range users {
			if e.name == u {
				uid, gid = e.uid, e.gid
				break
			}
		}
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil && n >= 0 {
			gid = n
		} else if n, ok := groups[g]; ok {
			named = true
			gid = n
		} else {
			named = true
			gid = -1
			if uid >= 0 {
				uid = -1 // the runtime refuses to start: the group does not exist
			}
		}
	}
	return uid, gid, named
}

// promises checks the dev.redline labels against the config and the
// entrypoint.
func promises(f *Facts) []rule.Finding {
	var out []rule.Finding
	if want, ok := f.Labels[LabelUser]; ok {
		wu, wg, _ := strings.Cut(want, ":")
		got := fmt.Sprintf("%d:%d", f.UID, f.GID)
		uidOK := wu == strconv.Itoa(f.UID)
		gidOK := wg == "" || wg == strconv.Itoa(f.GID)
		if !uidOK || !gidOK {
			if f.UID < 0 {
				got = "unknown"
			}
			fd := BrokenPromise.New(rule.Location{}, "image config", fmt.Sprintf("label %s=%q, but the image runs as %s (USER %q)", LabelUser, want, got, f.User))
			fd.Fix = fmt.Sprintf("end the Dockerfile with `USER %s`, or rebuild with redline build", want)
			out = append(out, fd)
		}
	}
	if want, ok := f.Labels[LabelCaps]; ok {
		wantSet, err := caps.ParseList(want)
		var got caps.Set
		if f.FileCaps != nil && f.FileCaps.Effective {
			got = f.FileCaps.Permitted
		}
		switch {
		case err != nil:
			fd := BrokenPromise.New(rule.Location{}, "image config", fmt.Sprintf("label %s=%q: %v", LabelCaps, want, err))
			out = append(out, fd)
		case f.Entrypoint == "":
			fd := BrokenPromise.New(rule.Location{}, "image config", fmt.Sprintf("label %s=%q, but the entrypoint is not in the image", LabelCaps, want))
			out = append(out, fd)
		case wantSet != got:
			fd := BrokenPromise.New(rule.Location{Path: f.Entrypoint}, "", fmt.Sprintf("label %s=%q, but %s carries %s", LabelCaps, want, f.Entrypoint, capsOf(f.FileCaps)))
			fd.Fix = fmt.Sprintf("setcap the entrypoint to match (or rebuild with redline build --cap %s)", strings.ToLower(wantSet.String()))
			out = append(out, fd)
		}
	}
	return out
}

func capsOf(f *caps.File) string {
	if f == nil {
		return "no file capabilities"
	}
	return f.String()
}
