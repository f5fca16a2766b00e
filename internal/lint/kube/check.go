package kube

import (
	"fmt"
	"github.com/redline-go/redline/internal/godebug"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/yamlx"
)

// Options tune the checks.
type Options struct {
	// AllowCaps are the capabilities RL-K8S-007 accepts.
	AllowCaps caps.Set
	// Image returns the facts of the image a container runs (from
	// --image); nil, or a nil result, leaves the cross-checks out.
	Image func(c *Container) *imagecheck.Facts
	// Runtimes are the runtimes predictions are made for; default the
	// Kubernetes runtimes of caps.Runtimes.
	Runtimes []caps.Runtime
}

func (o *Options) runtimes() []caps.Runtime {
	if len(o.Runtimes) > 0 {
		return o.Runtimes
	}
	var rs []caps.Runtime
	for _, r := range caps.Runtimes {
		if r.Kubernetes {
			rs = append(rs, r)
		}
	}
	return rs
}

// Check applies the Kubernetes rules and, for containers with image
// facts, the cross-checks. Directives are applied by package lint.
func Check(f *File, o Options) []rule.Finding {
	var fs []rule.Finding
	sas := map[string]bool{} // service accounts of the file with automount off
	for _, obj := range f.Objects {
		if obj.Kind == "ServiceAccount" {
			if v := yamlx.Value(obj.Node, "automountServiceAccountToken"); v != nil && v.Value == "false" {
				sas[obj.Namespace+"/"+obj.Name] = true
			}
		}
	}
	for _, obj := range f.Objects {
		if obj.Pod == nil {
			continue
		}
		c := checker{f: f, o: &o, sas: sas}
		c.pod(obj.Pod)
		fs = append(fs, c.out...)
	}
	return fs
}

type checker struct {
	f   *File
	o   *Options
	sas map[string]bool
	out []rule.Finding
}

func (k *checker) add(r *rule.Rule, line int, object, msg, fix string) {
	fd := r.New(rule.At(k.f.Name, line, 0), object, msg)
	fd.Fix = fix
	k.out = append(k.out, fd)
}

// line returns where a container finding goes: the value when it exists,
// else the container's securityContext key, else the container.
func (c *Container) line(v *yaml.Node) int {
	switch {
	case v != nil:
		return v.Line
	case c.SCKey != nil:
		return c.SCKey.Line
	}
	return c.Node.Line
}

func (k *checker) pod(p *Pod) {
	obj := p.Object.String()
	for _, ns := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if v := yamlx.Value(p.Spec, ns); v != nil && v.Value == "true" {
			k.add(&HostNamespaces, v.Line, obj, fmt.Sprintf("%s: true shares the node's namespace", ns), "remove "+ns)
		}
	}
	hostNet := yamlx.Value(p.Spec, "hostNetwork") != nil && yamlx.Value(p.Spec, "hostNetwork").Value == "true"
	vols := map[string]*yaml.Node{}
	if vs := yamlx.Value(p.Spec, "volumes"); vs != nil && vs.Kind == yaml.SequenceNode {
		for _, v := range vs.Content {
			name := scalar(yamlx.Value(v, "name"))
			vols[name] = v
			if hk, hp := yamlx.Get(v, "hostPath"); hp != nil {
				k.add(&HostPath, hk.Line, obj, fmt.Sprintf("volume %s mounts the node's %s", name, scalar(yamlx.Value(hp, "path"))), "use a PVC, emptyDir, ConfigMap or CSI volume")
			}
		}
	}
	av := yamlx.Value(p.Spec, "automountServiceAccountToken")
	switch {
	case av != nil && av.Value == "false":
	case av == nil && p.ServiceAccount != "" && k.sas[p.Object.Namespace+"/"+p.ServiceAccount]:
	case av != nil:
		k.add(&Automount, av.Line, obj, "automountServiceAccountToken: "+av.Value+" mounts an API token", "automountServiceAccountToken: false")
	default:
		msg := "automountServiceAccountToken is not false: the pod gets an API token"
		if p.ServiceAccount != "" {
			msg += fmt.Sprintf(" for service account %s", p.ServiceAccount)
		}
		k.add(&Automount, p.Key.Line, obj, msg, "automountServiceAccountToken: false (unless the service calls the Kubernetes API)")
	}
	fsGroup := yamlx.Value(p.SC, "fsGroup") != nil
	for _, c := range p.Containers {
		k.container(c, hostNet)
		k.volumes(c, vols, fsGroup)
	}
}

// identity is who a container runs as.
type identity struct {
	uid, gid   int64 // -1 unknown
	gidSource  string
	img        *imagecheck.Facts
	nonRootSet bool
}

func (k *checker) identity(c *Container) identity {
	id := identity{uid: -1, gid: -1}
	if k.o.Image != nil {
		id.img = k.o.Image(c)
	}
	e := c.Eff
	switch {
	case e.RunAsUser != nil:
		id.uid = e.RunAsUser.V
	case id.img != nil && id.img.UID >= 0:
		id.uid = int64(id.img.UID)
	}
	switch {
	case e.RunAsGroup != nil:
		id.gid, id.gidSource = e.RunAsGroup.V, "runAsGroup"
	case e.RunAsUser != nil && id.img != nil:
		if g, ok := id.img.PrimaryGID[int(e.RunAsUser.V)]; ok {
			id.gid, id.gidSource = int64(g), fmt.Sprintf("the image's /etc/passwd gives UID %d group %d", e.RunAsUser.V, g)
		} else {
			id.gid, id.gidSource = 0, fmt.Sprintf("UID %d is not in the image's /etc/passwd, so the runtime uses group 0", e.RunAsUser.V)
		}
	case id.img != nil && id.img.GID >= 0:
		id.gid, id.gidSource = int64(id.img.GID), fmt.Sprintf("the image's USER %q", id.img.User)
	}
	id.nonRootSet = e.RunAsNonRoot != nil && e.RunAsNonRoot.V
	return id
}

func (k *checker) container(c *Container, hostNet bool) {
	obj := c.Object()
	e := c.Eff
	id := k.identity(c)
	img := id.img

	if !id.nonRootSet {
		msg := "runAsNonRoot is not set: the kubelet would start the container as root"
		var n *yaml.Node
		if e.RunAsNonRoot != nil {
			n, msg = e.RunAsNonRoot.Node, "runAsNonRoot: false lets the container run as root"
		}
		k.add(&RunAsNonRoot, c.line(n), obj, msg, "runAsNonRoot: true")
	}
	switch {
	case e.RunAsUser != nil && e.RunAsUser.V == 0:
		k.add(&RunAsUser, e.RunAsUser.Node.Line, obj, "runAsUser: 0 runs the container as root", "runAsUser: 65532 (or the image's UID)")
	case e.RunAsUser == nil && img == nil:
		k.add(&RunAsUser, c.line(nil), obj, "runAsUser is not set: the image's USER decides (give --image to check it)", "runAsUser: the image's numeric UID")
	}
	switch {
	case e.RunAsGroup != nil && e.RunAsGroup.V == 0:
		k.add(&RunAsGroup, e.RunAsGroup.Node.Line, obj, "runAsGroup: 0 runs the container with root's group", "runAsGroup: 65532 (or the image's GID)")
	case e.RunAsGroup == nil && img == nil:
		k.add(&RunAsGroup, c.line(nil), obj, "runAsGroup is not set: the group comes from the image, 0 unless it names one (give --image to check it)", "runAsGroup: the image's numeric GID")
	}
	privileged := e.Privileged != nil && e.Privileged.V
	if privileged {
		k.add(&Privileged, e.Privileged.Node.Line, obj, "privileged: true gives the container every capability and the node's devices", "privileged: false")
	}
	if e.AllowPrivilegeEscalation == nil || e.AllowPrivilegeEscalation.V {
		msg := "allowPrivilegeEscalation is not set (it defaults to true)"
		var n *yaml.Node
		if e.AllowPrivilegeEscalation != nil {
			n, msg = e.AllowPrivilegeEscalation.Node, "allowPrivilegeEscalation: true"
		}
		k.add(&PrivEsc, c.line(n), obj, msg, "allowPrivilegeEscalation: false")
	}
	if !slices.ContainsFunc(e.CapDrop, func(s string) bool { return strings.EqualFold(s, "ALL") }) {
		msg := "capabilities.drop does not hold ALL: the runtime's default capabilities remain"
		if len(e.CapDrop) > 0 {
			msg = fmt.Sprintf("capabilities.drop is %v, not [ALL]: the runtime's other default capabilities remain", e.CapDrop)
		}
		k.add(&DropAll, c.line(e.CapDropNode), obj, msg, "capabilities: {drop: [ALL]}")
	}
	added := k.addedCaps(c)
	if extra := added &^ k.o.AllowCaps; extra != 0 {
		k.add(&AddCaps, c.line(e.CapAddNode), obj, fmt.Sprintf("capabilities.add grants %s, beyond the allow-list (%s)", extra, k.o.AllowCaps), "remove them, or --allow-cap on purpose")
	}
	if e.ReadOnlyRootFilesystem == nil || !e.ReadOnlyRootFilesystem.V {
		var n *yaml.Node
		if e.ReadOnlyRootFilesystem != nil {
			n = e.ReadOnlyRootFilesystem.Node
		}
		k.add(&ReadOnlyRoot, c.line(n), obj, "readOnlyRootFilesystem is not true", "readOnlyRootFilesystem: true (mount an emptyDir where the service writes)")
	}
	if t := e.SeccompType; t == nil || (t.V != "RuntimeDefault" && t.V != "Localhost") {
		msg := "no seccompProfile: the container may make every system call"
		var n *yaml.Node
		if t != nil {
			n, msg = t.Node, "seccompProfile type "+t.V+" allows every system call"
		}
		k.add(&Seccomp, c.line(n), obj, msg, "seccompProfile: {type: RuntimeDefault}")
	}
	k.resources(c, img)
	if img != nil {
		k.identityChecks(c, id)
	}
	k.capabilities(c, id, added, privileged, hostNet)
}

// addedCaps parses capabilities.add; unknown names are warnings.
func (k *checker) addedCaps(c *Container) caps.Set {
	var s caps.Set
	for _, n := range c.Eff.CapAdd {
		if strings.EqualFold(n, "ALL") {
			s |= caps.All
			continue
		}
		cp, err := caps.Parse(n)
		if err != nil {
			k.f.warn(c.line(c.Eff.CapAddNode), "%s: capabilities.add: %v", c.Object(), err)
			continue
		}
		s |= caps.Of(cp)
	}
	return s
}

func (k *checker) droppedCaps(c *Container) (caps.Set, bool) {
	var s caps.Set
	for _, n := range c.Eff.CapDrop {
		if strings.EqualFold(n, "ALL") {
			return caps.All, true
		}
		if cp, err := caps.Parse(n); err == nil {
			s |= caps.Of(cp)
		}
	}
	return s, false
}

func (k *checker) identityChecks(c *Container, id identity) {
	obj := c.Object()
	e := c.Eff
	img := id.img
	nonRootLine := c.line(nil)
	if e.RunAsNonRoot != nil {
		nonRootLine = e.RunAsNonRoot.Node.Line
	}
	switch {
	case img.UserName && id.nonRootSet && e.RunAsUser == nil:
		fix := "set runAsUser to the numeric UID"
		if img.UID > 0 {
			fix = fmt.Sprintf("runAsUser: %d", img.UID)
		}
		k.add(&NamedUserNonRoot, nonRootLine, obj, fmt.Sprintf("the image's USER %q is a name and runAsUser is not set: the kubelet refuses to start the container (\"image has non-numeric user\")", img.User), fix)
	case img.UID == 0 && e.RunAsUser == nil:
		user := "USER is not set"
		if img.User != "" {
			user = fmt.Sprintf("USER is %q", img.User)
		}
		if id.nonRootSet {
			k.add(&RootImage, nonRootLine, obj, fmt.Sprintf("the image's %s (root) and runAsUser is not set: with runAsNonRoot the kubelet refuses to start it (\"image will run as root\")", user), "runAsUser: 65532 and runAsGroup: 65532, or a numeric USER in the image")
		} else {
			k.add(&RootImage, c.line(nil), obj, fmt.Sprintf("the image's %s and runAsUser is not set: the container runs as root", user), "runAsUser: 65532 and runAsGroup: 65532, or a numeric USER in the image")
		}
	}
	if id.uid > 0 && id.gid == 0 && e.RunAsGroup == nil {
		k.add(&GID0, c.line(nil), obj, fmt.Sprintf("runAsGroup is not set and %s: the process runs with GID 0", id.gidSource), "runAsGroup: the user's own group")
	}
	// What the image was built for.
	wantU, wantG := img.UID, img.GID
	if l, ok := img.Labels[imagecheck.LabelUser]; ok {
		u, g, _ := strings.Cut(l, ":")
		if n, err := strconv.Atoi(u); err == nil {
			wantU = n
		}
		if n, err := strconv.Atoi(g); err == nil {
			wantG = n
		}
	}
	if wantU > 0 && e.RunAsUser != nil && e.RunAsUser.V != int64(wantU) && e.RunAsUser.V != 0 {
		k.add(&UserMismatch, e.RunAsUser.Node.Line, obj, fmt.Sprintf("runAsUser: %d, but the image was built for UID %d", e.RunAsUser.V, wantU), fmt.Sprintf("runAsUser: %d", wantU))
	}
	if wantG > 0 && e.RunAsGroup != nil && e.RunAsGroup.V != int64(wantG) && e.RunAsGroup.V != 0 {
		k.add(&UserMismatch, e.RunAsGroup.Node.Line, obj, fmt.Sprintf("runAsGroup: %d, but the image was built for GID %d", e.RunAsGroup.V, wantG), fmt.Sprintf("runAsGroup: %d", wantG))
	}
}

// capabilities predicts, per runtime, whether the entrypoint starts with
// the capabilities it is given and binds its low ports.
func (k *checker) capabilities(c *Container, id identity, added caps.Set, privileged, hostNet bool) {
	obj := c.Object()
	e := c.Eff
	img := id.img
	if id.uid < 0 {
		return
	}
	nnp := e.AllowPrivilegeEscalation != nil && !e.AllowPrivilegeEscalation.V && !privileged
	if img == nil && !(id.uid > 0 && nnp) {
		return // the file's capabilities could change the outcome
	}
	var file *caps.File
	if img != nil {
		file = img.FileCaps
	}
	dropped, dropAll := k.droppedCaps(c)
	type run struct {
		r   caps.Runtime
		res caps.Result
	}
	var runs []run
	for _, r := range k.o.runtimes() {
		b := r.Default &^ dropped
		if dropAll {
			b = 0
		}
		b |= added
		if privileged {
			b = caps.All
		}
		p := caps.Process{UID: int(id.uid), Bounding: b, Added: added, NoNewPrivs: nnp, File: file}
		runs = append(runs, run{r, caps.Exec(p, r)})
	}
	names := func(rs []run) string {
		var ns []string
		for _, r := range rs {
			ns = append(ns, r.r.Title)
		}
		return strings.Join(ns, ", ")
	}
	var eperm, noEffect []run
	for _, r := range runs {
		switch r.res.Outcome {
		case caps.ExecFails:
			eperm = append(eperm, r)
		case caps.NoEffect:
			noEffect = append(noEffect, r)
		}
	}
	if len(eperm) > 0 {
		fix := fmt.Sprintf("capabilities: {drop: [ALL], add: [%s]}, or remove the file capability and listen on a port ≥ 1024", strings.ReplaceAll(file.Permitted.String(), ",", ", "))
		k.add(&ExecEPERM, c.line(e.CapDropNode), obj, fmt.Sprintf("%s carries %s: %s (on %s)", img.Entrypoint, file, eperm[0].res.Why, names(eperm)), fix)
		return
	}
	if file != nil && len(noEffect) > 0 {
		line := c.line(nil)
		if e.AllowPrivilegeEscalation != nil {
			line = e.AllowPrivilegeEscalation.Node.Line
		}
		k.add(&CapNoEffect, line, obj, fmt.Sprintf("%s carries %s, which has no effect here: %s", img.Entrypoint, file, noEffect[0].res.Why), "listen on a port ≥ 1024 (Service targetPort), or the pod sysctl net.ipv4.ip_unprivileged_port_start=0")
	}
	if file == nil && img != nil && id.uid > 0 && added != 0 && !privileged {
		k.add(&CapNoEffect, c.line(e.CapAddNode), obj, fmt.Sprintf("capabilities.add grants %s, but Kubernetes gives a non-root process (UID %d) no ambient capabilities and %s carries no file capability: the process holds none of them", added, id.uid, orEntrypoint(img)), "drop the add and listen on a port ≥ 1024, or set the pod sysctl net.ipv4.ip_unprivileged_port_start=0")
	}
	for _, pn := range ports(c) {
		if pn.port >= 1024 {
			continue
		}
		var fail []run
		why := ""
		for _, r := range runs {
			if ok, w := caps.CanBind(pn.port, r.res.Effective, r.r, hostNet); !ok {
				fail = append(fail, r)
				if why == "" {
					why = w
				}
			}
		}
		if len(fail) > 0 {
			msg := fmt.Sprintf("containerPort %d will not bind as UID %d on %s: %s", pn.port, id.uid, names(fail), why)
			if len(fail) < len(runs) {
				msg += " (it binds where the runtime lowers ip_unprivileged_port_start)"
			}
			k.add(&LowPortBind, pn.node.Line, obj, msg, fmt.Sprintf("listen on %d and keep %d as the Service port (targetPort: %d)", pn.port+8000, pn.port, pn.port+8000))
		}
	}
}

func orEntrypoint(img *imagecheck.Facts) string {
	if img.Entrypoint == "" {
		return "the entrypoint"
	}
	return img.Entrypoint
}

type portNode struct {
	port int
	node *yaml.Node
}

func ports(c *Container) []portNode {
	var out []portNode
	seq := yamlx.Value(c.Node, "ports")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	for _, p := range seq.Content {
		v := yamlx.Value(p, "containerPort")
		if v == nil {
			continue
		}
		if n, err := strconv.Atoi(v.Value); err == nil {
			out = append(out, portNode{n, v})
		}
	}
	return out
}

// env returns the literal value of a container env var and its node.
func env(c *Container, name string) (string, *yaml.Node, bool) {
	seq := yamlx.Value(c.Node, "env")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return "", nil, false
	}
	for _, e := range seq.Content {
		if scalar(yamlx.Value(e, "name")) == name {
			v := yamlx.Value(e, "value")
			if v == nil {
				return "", e, yamlx.Value(e, "valueFrom") != nil
			}
			return v.Value, v, true
		}
	}
	return "", nil, false
}

func (k *checker) resources(c *Container, img *imagecheck.Facts) {
	obj := c.Object()
	if v, node, set := env(c, "GODEBUG"); set && node != nil && v != "" {
		var weak []string
		for _, f := range godebug.FromEnv("GODEBUG", v).Findings() {
			weak = append(weak, f.Name+"="+f.Value.Value)
		}
		if len(weak) > 0 {
			k.add(&GODEBUGEnv, node.Line, obj, fmt.Sprintf("env GODEBUG=%s weakens %s", v, strings.Join(weak, ",")), "drop the setting, or keep it on purpose with a godebug line in go.mod (a visible waiver)")
		}
	}
	lim := yamlx.Path(c.Node, "resources", "limits")
	resKey, _ := yamlx.Get(c.Node, "resources")
	where := c.Node.Line
	if resKey != nil {
		where = resKey.Line
	}
	mem := yamlx.Value(lim, "memory")
	var memBytes float64
	if mem == nil {
		if c.Role != "ephemeralContainer" {
			k.add(&MemoryLimit, where, obj, "resources.limits.memory is not set", "resources: {limits: {memory: 256Mi}} (and GOMEMLIMIT about 90% of it)")
		}
	} else if b, err := ParseQuantity(mem.Value); err != nil {
		k.f.warn(mem.Line, "%s: resources.limits.memory: %v", obj, err)
	} else {
		memBytes = b
	}
	goMem, goMemNode, set := env(c, "GOMEMLIMIT")
	from := "env"
	if !set && img != nil {
		goMem, set = img.Env["GOMEMLIMIT"]
		from = "the image's ENV"
	}
	if set && goMem != "" && memBytes > 0 {
		line := where
		if goMemNode != nil {
			line = goMemNode.Line
		}
		if b, ok, err := ParseGoMemLimit(goMem); err != nil {
			k.f.warn(line, "%s: %v", obj, err)
		} else if ok && b >= memBytes {
			k.add(&GoMemLimit, line, obj, fmt.Sprintf("GOMEMLIMIT=%s (%s) is at or above the memory limit %s: the OOM killer acts before the collector", goMem, from, mem.Value), fmt.Sprintf("GOMEMLIMIT=%dMiB (90%% of %s)", int64(memBytes*0.9)>>20, mem.Value))
		}
	}
	if cpu := yamlx.Value(lim, "cpu"); cpu != nil {
		v, err := ParseQuantity(cpu.Value)
		if err != nil {
			k.f.warn(cpu.Line, "%s: resources.limits.cpu: %v", obj, err)
			return
		}
		_, _, procsSet := env(c, "GOMAXPROCS")
		if img != nil {
			if _, ok := img.Env["GOMAXPROCS"]; ok {
				procsSet = true
			}
			if img.Entrypoint != "" && img.GoVersion == "" {
				return // not a Go program
			}
		}
		if v <= 1 && !procsSet {
			who := "Go ≥ 1.25 sets GOMAXPROCS=2 (the limit rounded up, at least 2)"
			if img != nil && img.GoVersion != "" && goBefore125(img.GoVersion) {
				who = img.GoVersion + " sets GOMAXPROCS to the node's CPU count"
			} else if img != nil && img.GoVersion != "" {
				who = img.GoVersion + " sets GOMAXPROCS=2 (the limit rounded up, at least 2)"
			}
			k.add(&CPULimit, cpu.Line, obj, fmt.Sprintf("CPU limit %s: %s, and the collector's bursts get throttled", cpu.Value, who), "env GOMAXPROCS=1, or drop the CPU limit and keep a request")
		}
	}
}

func goBefore125(v string) bool {
	v = strings.TrimPrefix(v, "go")
	maj, rest, _ := strings.Cut(v, ".")
	minS, _, _ := strings.Cut(rest, ".")
	minS = strings.TrimRightFunc(minS, func(r rune) bool { return r < '0' || r > '9' })
	a, _ := strconv.Atoi(maj)
	b, _ := strconv.Atoi(minS)
	return a < 1 || a == 1 && b < 25
}

// needsFSGroup are the volume types whose files keep their owner unless
// the kubelet applies fsGroup.
var needsFSGroup = []string{"persistentVolumeClaim", "ephemeral", "gcePersistentDisk", "awsElasticBlockStore", "azureDisk", "iscsi", "rbd", "cinder", "fc", "vsphereVolume", "portworxVolume"}

func (k *checker) volumes(c *Container, vols map[string]*yaml.Node, fsGroup bool) {
	if fsGroup {
		return
	}
	id := k.identity(c)
	if id.uid == 0 || id.uid < 0 && !id.nonRootSet {
		return
	}
	seq := yamlx.Value(c.Node, "volumeMounts")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for _, m := range seq.Content {
		if v := yamlx.Value(m, "readOnly"); v != nil && v.Value == "true" {
			continue
		}
		name := scalar(yamlx.Value(m, "name"))
		vol := vols[name]
		for _, t := range needsFSGroup {
			if yamlx.Value(vol, t) != nil {
				k.add(&FSGroup, m.Line, c.Object(), fmt.Sprintf("volume %s (%s) is mounted read-write at %s by a non-root user and the pod sets no fsGroup: its files keep their owner", name, t, scalar(yamlx.Value(m, "mountPath"))), "securityContext: {fsGroup: <the container's runAsGroup>} on the pod")
				break
			}
		}
	}
}
