// Package godebug explains the GODEBUG settings a Go program runs with and
// what a Go upgrade changes in them.
//
// A Go binary keeps the GODEBUG defaults of the go line of its main
// module's go.mod (or go.work), not those of the toolchain that built it:
// a program whose go.mod says "go 1.16", built with Go 1.26, still accepts
// TLS 1.0 clients, 3DES and RSA key exchange, 1024-bit RSA keys and empty
// Content-Length headers, and ignores its container's CPU quota. The go
// command records these defaults in the build info as the DefaultGODEBUG
// build setting, which survives stripping.
//
// # The table
//
// [Table] lists every setting in Go's own table
// (src/internal/godebugs/table.go of the newest toolchain, generated into
// table_gen.go by `go generate`), the settings that table says were removed,
// and redline's classification of each: [ClassSecurity] for settings whose
// non-default value weakens TLS, X.509, RSA, HTTP, URL or archive parsing,
// [ClassPerformance] for those that change how the runtime uses the machine,
// and [ClassBehaviour] for the rest.
//
// # Reports
//
// [Effective] and [FromBuildInfo] decode a binary's DefaultGODEBUG (and a
// GODEBUG environment value, as an image config, a Dockerfile ENV or a
// Kubernetes container sets it); [FromModule] computes the same from a
// module's source: its go line, godebug lines and //go:debug directives;
// [FromEnv] judges an environment value before the binary is known.
// A [Report] lists every setting that was set, known or not;
// [Report.Findings] keeps the security settings weaker than the toolchain's
// default and says which line to change, or that a godebug line pins the
// setting on purpose (an acknowledged waiver).
//
// # Upgrades
//
// [Upgrade] compares two [State]s — a toolchain, a go line, pins and an
// environment — and lists the settings whose effective value flips, the
// packages they affect and whether the program links them.
//
// Parse errors in what a binary or module says are warnings, never errors:
// the rest of the report stands.
package godebug

//go:generate go run ./gen -newest go1.27.3 -older go1.26.8,go1.23.12 -o table_gen.go

import (
	"fmt"
	"sort"
	"strconv"
)

// Class is redline's judgement of what a setting's non-default value risks.
type Class string

// Classes.
const (
	// ClassSecurity: a non-default value can weaken TLS, X.509, RSA, HTTP,
	// URL, template or archive handling, or a limit against hostile input.
	ClassSecurity Class = "security"
	// ClassBehaviour: a non-default value changes what the program does,
	// without weakening a protection.
	ClassBehaviour Class = "behaviour"
	// ClassPerformance: a non-default value changes how the runtime uses the
	// machine (CPUs, memory).
	ClassPerformance Class = "performance"
	// ClassUnknown: the name is in no table redline knows — a setting of a
	// newer toolchain, a runtime debugging variable, or a typo.
	ClassUnknown Class = "unknown"
)

// Setting is one GODEBUG setting: Go's facts about it and redline's
// classification.
type Setting struct {
	Name string `json:"name"`
	// Package reads the setting, as Go's table says ("crypto/tls",
	// "runtime", "cmd/go").
	Package string `json:"package,omitempty"`
	// Packages are the packages whose behaviour the setting changes:
	// Package first, then any others that act through it.
	Packages []string `json:"packages,omitempty"`
	// Changed is the release whose default changed ("1.22"); empty when Go
	// never changed the default.
	Changed string `json:"changed,omitempty"`
	// Old is the value that restores the behaviour before Changed.
	Old string `json:"old,omitempty"`
	// Default is the value toolchains at or after Changed use when nothing
	// sets it.
	Default string `json:"default,omitempty"`
	// Removed is the release that removed the setting ("1.27"); from it on
	// the new behaviour is the only one and the go command rejects a godebug
	// line or //go:debug directive that asks for an old value.
	Removed string `json:"removed,omitempty"`
	// RemovedOld are the values such a toolchain rejects.
	RemovedOld []string `json:"removedOld,omitempty"`
	// Immutable settings are read once at program start.
	Immutable bool  `json:"immutable,omitempty"`
	Class     Class `json:"class"`
	// Meaning says in one line what the setting controls.
	Meaning string `json:"meaning"`
	// Reason says in one line why redline classes it so.
	Reason string `json:"reason,omitempty"`
}

// goInfo is one row of the generated table: internal/godebugs.Info of the
// newest toolchain, and for a removed setting the last row an older
// toolchain had.
type goInfo struct {
	Name, Package     string
	Changed           int    // minor release whose default changed; 0: never
	Old               string // the value before Changed
	Opaque, Immutable bool
	Removed           int      // minor release that removed the setting; 0: still there
	RemovedOld        []string // values the go command rejects from Removed on
	// AddedAfter: toolchains up to this version do not have the setting
	// (a later patch release added it); empty when every table read has it.
	AddedAfter string
}

// NewestToolchain is the toolchain whose table [Table] reflects.
func NewestToolchain() string { return newest }

// Table returns every setting, sorted by name.
func Table() []Setting {
	out := make([]Setting, 0, len(goTable))
	for i := range goTable {
		out = append(out, settingOf(&goTable[i]))
	}
	return out
}

// Lookup returns the setting with the given name; ok is false for a name no
// table knows, and the Setting then has only Name and [ClassUnknown].
func Lookup(name string) (s Setting, ok bool) {
	in := lookupInfo(name)
	if in == nil {
		return unknownSetting(name), false
	}
	return settingOf(in), true
}

func unknownSetting(name string) Setting {
	return Setting{
		Name:    name,
		Class:   ClassUnknown,
		Meaning: "not in Go's GODEBUG table up to " + newest + ": a setting of a newer Go, a runtime debugging variable, or a typo",
	}
}

func lookupInfo(name string) *goInfo {
	i := sort.Search(len(goTable), func(i int) bool { return goTable[i].Name >= name })
	if i < len(goTable) && goTable[i].Name == name {
		return &goTable[i]
	}
	return nil
}

func settingOf(in *goInfo) Setting {
	c, ok := classes[in.Name]
	if !ok {
		// The classification test keeps this from happening.
		c = classInfo{class: ClassUnknown, meaning: "not yet classified by redline"}
	}
	s := Setting{
		Name:      in.Name,
		Package:   in.Package,
		Packages:  append([]string{in.Package}, c.also...),
		Old:       in.Old,
		Default:   c.def,
		Immutable: in.Immutable,
		Class:     c.class,
		Meaning:   c.meaning,
		Reason:    c.reason,
	}
	if in.Changed != 0 {
		s.Changed = release(in.Changed)
	}
	if in.Removed != 0 {
		s.Removed = release(in.Removed)
		s.RemovedOld = append([]string(nil), in.RemovedOld...)
	}
	return s
}

// Weakens reports whether value v makes a security setting weaker than its
// default. It is false for other classes and for unknown names.
func (s Setting) Weakens(v string) bool {
	c, ok := classes[s.Name]
	if !ok || c.class != ClassSecurity || c.weak == nil {
		return false
	}
	return c.weak(v)
}

// ToolchainOnly reports whether the setting changes only the go command
// (it is read by cmd/go), not the programs it builds.
func (s Setting) ToolchainOnly() bool {
	return len(s.Package) > 4 && s.Package[:4] == "cmd/"
}

func release(minor int) string { return "1." + strconv.Itoa(minor) }

// Warning is content that could not be understood; the rest of the report
// stands.
type Warning struct {
	// Subject names the binary or module.
	Subject string `json:"subject"`
	Message string `json:"message"`
}

func (w Warning) String() string {
	if w.Subject == "" {
		return w.Message
	}
	return fmt.Sprintf("%s: %s", w.Subject, w.Message)
}
