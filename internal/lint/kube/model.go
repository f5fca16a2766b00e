// Package kube holds the Kubernetes manifest rules, the cross-checks
// against an image, and the fixes harden makes. Manifests are read with
// go.yaml.in/yaml/v3 node trees, so every finding names its line and a
// fix splices text at the nodes' positions. Every workload kind is read
// (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
// ReplicationController, PodTemplate, List items), custom resources with
// a pod template too; pod and container securityContext are merged the way
// the kubelet merges them before any rule looks.
package kube

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/yamlx"
)

// File is a parsed manifest file.
type File struct {
	*yamlx.File
	Objects []*Object
	// Other are documents that are not Kubernetes objects (no kind), for
	// other readers (CI files).
	Other    []*yamlx.Doc
	Warnings []rule.Warning
	// Directives are the inline suppressions, with their scopes.
	Directives []rule.Directive
}

// Object is one Kubernetes object.
type Object struct {
	Doc                               *yamlx.Doc
	APIVersion, Kind, Name, Namespace string
	Node                              *yaml.Node // the object's mapping
	// Pod is the pod template of a workload, nil for other kinds.
	Pod *Pod
}

// String names the object: "Deployment/web".
func (o *Object) String() string {
	n := o.Name
	if n == "" {
		n = "(unnamed)"
	}
	return o.Kind + "/" + n
}

// Pod is a pod spec and what the rules read of it.
type Pod struct {
	Object *Object
	// Key is the "spec" key of the pod spec; Spec its mapping.
	Key, Spec *yaml.Node
	// SC is the pod securityContext mapping, nil when absent.
	SC         *yaml.Node
	Containers []*Container
	// ServiceAccount is serviceAccountName, "" when unset.
	ServiceAccount string
}

// Container is one container, init container or ephemeral container.
type Container struct {
	Pod   *Pod
	Name  string
	Image string
	// Role is "container", "initContainer" or "ephemeralContainer".
	Role string
	Node *yaml.Node
	// SCKey and SC are the container securityContext key and mapping, nil
	// when absent.
	SCKey, SC *yaml.Node
	// Eff is the kubelet's merge of pod and container securityContext.
	Eff Effective
}

// Object names the container for findings: "Deployment/web container app".
func (c *Container) Object() string {
	return c.Pod.Object.String() + " " + c.Role + " " + c.Name
}

// Val is a setting and the node it came from.
type Val[T any] struct {
	V T
	// Node is the value node; FromPod is set when the pod-level
	// securityContext supplied it.
	Node    *yaml.Node
	FromPod bool
}

// Effective is a container's security context as the kubelet applies it:
// container fields win over pod fields where both exist.
type Effective struct {
	RunAsUser, RunAsGroup    *Val[int64]
	RunAsNonRoot             *Val[bool]
	SeccompType              *Val[string]
	AllowPrivilegeEscalation *Val[bool]
	Privileged               *Val[bool]
	ReadOnlyRootFilesystem   *Val[bool]
	// Capabilities as written (names without CAP_ as Kubernetes spells
	// them); nodes for locations.
	CapAdd, CapDrop         []string
	CapAddNode, CapDropNode *yaml.Node
}

// podPaths are where each workload kind keeps its pod spec.
var podPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"PodTemplate":           {"template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// otherKinds are kinds that hold no pod: skipped without a word.
var otherKinds = kindSet(`Service ConfigMap Secret Ingress IngressClass ServiceAccount Role RoleBinding ClusterRole
		ClusterRoleBinding Namespace PersistentVolumeClaim PersistentVolume NetworkPolicy HorizontalPodAutoscaler
		PodDisruptionBudget CustomResourceDefinition StorageClass Endpoints EndpointSlice LimitRange ResourceQuota
		PriorityClass MutatingWebhookConfiguration ValidatingWebhookConfiguration ValidatingAdmissionPolicy
		ValidatingAdmissionPolicyBinding APIService Lease RuntimeClass CSIDriver CSINode VolumeAttachment
		VerticalPodAutoscaler Gateway GatewayClass HTTPRoute GRPCRoute TLSRoute TCPRoute UDPRoute ReferenceGrant
		Certificate Issuer ClusterIssuer ServiceMonitor PodMonitor PrometheusRule PodSecurityPolicy Event Node
		ControllerRevision CertificateSigningRequest FlowSchema PriorityLevelConfiguration IPAddress ServiceCIDR`)

func kindSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(list) {
		m[k] = true
	}
	return m
}

// Parse reads a manifest file: its objects, with warnings for what
// cannot be read (invalid YAML, unknown kinds, fields of the wrong type)
// naming file and line.
func Parse(name string, src []byte, maxDoc int) *File {
	yf := yamlx.Parse(name, src, maxDoc)
	f := &File{File: yf}
	for _, e := range yf.Errors {
		if e.TooLarge {
			f.warn(e.Line, "%s", e.Msg)
			continue
		}
		f.warn(e.Line, "invalid YAML: %s (document skipped)", e.Msg)
	}
	for _, d := range yf.Docs {
		if d.Root == nil {
			continue
		}
		if d.Root.Kind != yaml.MappingNode {
			f.warn(d.Root.Line, "document is not a mapping: skipped")
			continue
		}
		if yamlx.Value(d.Root, "kind") == nil {
			f.Other = append(f.Other, d)
			continue
		}
		f.object(d, d.Root, 0)
	}
	f.Directives = rule.FindDirectives(src, true)
	for i := range f.Directives {
		dr := &f.Directives[i]
		if !dr.WholeFile {
			dr.From, dr.To = yf.Scope(dr.Line, dr.Trailing)
		}
	}
	return f
}

func (f *File) warn(line int, format string, args ...any) {
	f.Warnings = append(f.Warnings, rule.Warning{Location: rule.At(f.Name, line, 0), Message: fmt.Sprintf(format, args...)})
}

func scalar(n *yaml.Node) string {
	if n = yamlx.Deref(n); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// object reads one object (and the items of a List).
func (f *File) object(d *yamlx.Doc, m *yaml.Node, depth int) {
	o := &Object{Doc: d, Node: m, APIVersion: scalar(yamlx.Value(m, "apiVersion")), Kind: scalar(yamlx.Value(m, "kind"))}
	md := yamlx.Value(m, "metadata")
	o.Name, o.Namespace = scalar(yamlx.Value(md, "name")), scalar(yamlx.Value(md, "namespace"))
	kindLine := m.Line
	if k, _ := yamlx.Get(m, "kind"); k != nil {
		kindLine = k.Line
	}
	if o.Kind == "List" || strings.HasSuffix(o.Kind, "List") && yamlx.Value(m, "items") != nil {
		items := yamlx.Value(m, "items")
		if items == nil || items.Kind != yaml.SequenceNode || depth > 2 {
			return
		}
		for _, it := range items.Content {
			if it = yamlx.Deref(it); it.Kind == yaml.MappingNode {
				f.object(d, it, depth+1)
			}
		}
		return
	}
	if o.Kind == "" {
		f.warn(kindLine, "kind is empty: skipped")
		return
	}
	path, known := podPaths[o.Kind]
	if known && !builtinGroup(o.APIVersion) {
		known = false // a custom resource that borrows a built-in name
	}
	if !known {
		switch {
		case yamlx.Path(m, "spec", "template", "spec", "containers") != nil:
			// A custom resource with a pod template (Argo Rollouts, ...).
			path = []string{"spec", "template", "spec"}
		case otherKinds[o.Kind]:
			f.Objects = append(f.Objects, o)
			return
		default:
			f.warn(kindLine, "%s (apiVersion %s) is not a kind redline knows and holds no pod template at spec.template: not checked", o.Kind, orNone(o.APIVersion))
			f.Objects = append(f.Objects, o)
			return
		}
	}
	if path != nil {
		o.Pod = f.pod(o, m, path)
	}
	f.Objects = append(f.Objects, o)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// builtinGroup reports the API groups of Kubernetes' own workload kinds.
func builtinGroup(apiVersion string) bool {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return true // core: "v1"
	}
	return g == "apps" || g == "batch" || g == "extensions" || !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}

// pod reads the pod spec at path under m.
func (f *File) pod(o *Object, m *yaml.Node, path []string) *Pod {
	parent := m
	for _, k := range path[:len(path)-1] {
		parent = yamlx.Value(parent, k)
	}
	key, spec := yamlx.Get(parent, path[len(path)-1])
	if spec == nil || spec.Kind != yaml.MappingNode {
		line := m.Line
		if key != nil {
			line = key.Line
		}
		f.warn(line, "%s: no pod spec at %s: not checked", o, strings.Join(path, "."))
		return nil
	}
	p := &Pod{Object: o, Key: key, Spec: spec}
	if sc := yamlx.Value(spec, "securityContext"); sc != nil && sc.Kind == yaml.MappingNode {
		p.SC = sc
	}
	p.ServiceAccount = scalar(yamlx.Value(spec, "serviceAccountName"))
	if p.ServiceAccount == "" {
		p.ServiceAccount = scalar(yamlx.Value(spec, "serviceAccount"))
	}
	for _, role := range []struct{ key, name string }{{"initContainers", "initContainer"}, {"containers", "container"}, {"ephemeralContainers", "ephemeralContainer"}} {
		seq := yamlx.Value(spec, role.key)
		if seq == nil || yamlx.IsNull(seq) {
			continue
		}
		if seq.Kind != yaml.SequenceNode {
			f.warn(seq.Line, "%s: %s is not a list", o, role.key)
			continue
		}
		for _, cn := range seq.Content {
			cn = yamlx.Deref(cn)
			if cn.Kind != yaml.MappingNode {
				f.warn(cn.Line, "%s: a %s is not a mapping", o, role.name)
				continue
			}
			c := &Container{Pod: p, Role: role.name, Node: cn, Name: scalar(yamlx.Value(cn, "name")), Image: scalar(yamlx.Value(cn, "image"))}
			if k, sc := yamlx.Get(cn, "securityContext"); sc != nil {
				c.SCKey = k
				if sc.Kind == yaml.MappingNode {
					c.SC = sc
				} else if !yamlx.IsNull(sc) {
					f.warn(sc.Line, "%s: securityContext is not a mapping", c.Object())
				}
			}
			c.Eff = f.merge(c)
			p.Containers = append(p.Containers, c)
		}
	}
	if len(p.Containers) == 0 {
		f.warn(spec.Line, "%s: the pod spec has no containers", o)
	}
	return p
}

// merge applies the kubelet's rule: container securityContext fields win
// over the pod's for runAsUser, runAsGroup, runAsNonRoot and
// seccompProfile; the others exist only on containers.
func (f *File) merge(c *Container) Effective {
	var e Effective
	obj := c.Object()
	pickInt := func(key string) *Val[int64] {
		if v := f.intVal(c.SC, key, obj); v != nil {
			return v
		}
		if v := f.intVal(c.Pod.SC, key, obj); v != nil {
			v.FromPod = true
			return v
		}
		return nil
	}
	pickBool := func(key string, pod bool) *Val[bool] {
		if v := f.boolVal(c.SC, key, obj); v != nil {
			return v
		}
		if pod {
			if v := f.boolVal(c.Pod.SC, key, obj); v != nil {
				v.FromPod = true
				return v
			}
		}
		return nil
	}
	e.RunAsUser = pickInt("runAsUser")
	e.RunAsGroup = pickInt("runAsGroup")
	e.RunAsNonRoot = pickBool("runAsNonRoot", true)
	e.AllowPrivilegeEscalation = pickBool("allowPrivilegeEscalation", false)
	e.Privileged = pickBool("privileged", false)
	e.ReadOnlyRootFilesystem = pickBool("readOnlyRootFilesystem", false)
	for i, sc := range []*yaml.Node{c.SC, c.Pod.SC} {
		if t := yamlx.Path(sc, "seccompProfile", "type"); t != nil {
			e.SeccompType = &Val[string]{V: scalar(t), Node: t, FromPod: i == 1}
			break
		}
	}
	if capsN := yamlx.Value(c.SC, "capabilities"); capsN != nil && !yamlx.IsNull(capsN) {
		e.CapAdd, e.CapAddNode = f.strList(yamlx.Value(capsN, "add"), obj)
		e.CapDrop, e.CapDropNode = f.strList(yamlx.Value(capsN, "drop"), obj)
	}
	return e
}

func (f *File) intVal(m *yaml.Node, key, obj string) *Val[int64] {
	v := yamlx.Value(m, key)
	if v == nil || yamlx.IsNull(v) {
		return nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if v.Kind != yaml.ScalarNode || err != nil || v.Tag == "!!str" {
		f.warn(v.Line, "%s: %s: want an integer, got %q (ignored)", obj, key, v.Value)
		return nil
	}
	return &Val[int64]{V: n, Node: v}
}

func (f *File) boolVal(m *yaml.Node, key, obj string) *Val[bool] {
	v := yamlx.Value(m, key)
	if v == nil || yamlx.IsNull(v) {
		return nil
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		f.warn(v.Line, "%s: %s: want true or false, got %q (ignored)", obj, key, v.Value)
		return nil
	}
	b, _ := strconv.ParseBool(strings.ToLower(v.Value))
	return &Val[bool]{V: b, Node: v}
}

func (f *File) strList(n *yaml.Node, obj string) ([]string, *yaml.Node) {
	if n == nil || yamlx.IsNull(n) {
		return nil, n
	}
	if n.Kind != yaml.SequenceNode {
		f.warn(n.Line, "%s: want a list of capabilities, got %q", obj, n.Value)
		return nil, n
	}
	var out []string
	for _, it := range n.Content {
		out = append(out, scalar(it))
	}
	return out, n
}
