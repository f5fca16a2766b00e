package encode

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
)

// canonicalLicense maps a lower-cased SPDX identifier to its canonical case.
var canonicalLicense = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(licenseIDs))
	for _, id := range licenseIDs {
		m[strings.ToLower(id)] = id
	}
	return m
})

// license is one declared license string, read as an SPDX expression.
type license struct {
	text string
	// expr is the normalised expression: canonical identifiers, upper-case
	// operators, single spaces. Identifiers not on the list are replaced by
	// LicenseRef-s (see licenseRefs).
	expr string
	// ok is false when text is no SPDX expression at all ("GPL v2 or
	// later"); expr is then one LicenseRef for the whole text.
	ok bool
	// id is set when text is a single listed identifier.
	id string
	// compound is true for anything more than a bare identifier.
	compound bool
	// known is true when no LicenseRef was needed.
	known bool
}

// licenseRefs names the licenses that are not on the SPDX list, the way SPDX
// wants: LicenseRef-<idstring> with the original text kept beside it.
type licenseRefs struct {
	refByText map[string]string
	textByRef map[string]string
}

func (r *licenseRefs) ref(text string) string {
	if ref, ok := r.refByText[text]; ok {
		return ref
	}
	if r.refByText == nil {
		r.refByText, r.textByRef = map[string]string{}, map[string]string{}
	}
	var b strings.Builder
	dash := false
	for _, c := range text {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
			b.WriteRune(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	idstr := strings.Trim(b.String(), "-")
	if idstr == "" {
		idstr = "unknown"
	}
	ref := "LicenseRef-" + idstr
	if _, taken := r.textByRef[ref]; taken {
		sum := sha256.Sum256([]byte(text))
		ref += "-" + hex.EncodeToString(sum[:4])
	}
	r.refByText[text], r.textByRef[ref] = ref, text
	return ref
}

// sorted lists the references and their texts by reference.
func (r *licenseRefs) sorted() (refs, texts []string) {
	for ref := range r.textByRef {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		texts = append(texts, r.textByRef[ref])
	}
	return refs, texts
}

// parseLicense reads text as an SPDX license expression. Unlisted
// identifiers become LicenseRef-s from refs.
func parseLicense(text string, refs *licenseRefs) license {
	l := license{text: text}
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(text))
	// A first pass only checks the syntax, so that a text that is no
	// expression does not leave LicenseRef-s for its words behind.
	check := licenseParser{toks: toks, unlisted: func(t string) string { return t }, known: true}
	_, ok := check.or()
	if ok && check.pos == len(toks) && len(toks) > 0 {
		p := licenseParser{toks: toks, unlisted: refs.ref, known: true}
		expr, _ := p.or()
		l.ok, l.expr, l.known = true, expr, p.known
		l.compound = len(toks) > 1 || p.plus
		if !l.compound && p.known {
			l.id = expr
		}
		return l
	}
	l.expr = refs.ref(text)
	l.compound = false
	return l
}

// licenseParser is a recursive-descent parser of SPDX license expressions
// (SPDX 2.3 annex D), lenient about the case of operators.
type licenseParser struct {
	toks []string
	pos  int
	// unlisted names an identifier that is not on the SPDX list.
	unlisted func(string) string
	known    bool
	// plus is true when an identifier carries the "or later" suffix.
	plus bool
}

func (p *licenseParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op)
}

func (p *licenseParser) or() (string, bool) {
	left, ok := p.and()
	for ok && p.peekOp("OR") {
		p.pos++
		var right string
		right, ok = p.and()
		left += " OR " + right
	}
	return left, ok
}

func (p *licenseParser) and() (string, bool) {
	left, ok := p.with()
	for ok && p.peekOp("AND") {
		p.pos++
		var right string
		right, ok = p.with()
		left += " AND " + right
	}
	return left, ok
}

func (p *licenseParser) with() (string, bool) {
	left, ok := p.atom()
	if ok && p.peekOp("WITH") {
		p.pos++
		if p.pos >= len(p.toks) {
			return "", false
		}
		exc, listed := canonicalLicense()[strings.ToLower(p.toks[p.pos])]
		if !listed {
			return "", false // SPDX 2.3 has no reference form for exceptions
		}
		p.pos++
		left += " WITH " + exc
	}
	return left, ok
}

func (p *licenseParser) atom() (string, bool) {
	if p.pos >= len(p.toks) {
		return "", false
	}
	t := p.toks[p.pos]
	switch {
	case t == "(":
		p.pos++
		inner, ok := p.or()
		if !ok || p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return "", false
		}
		p.pos++
		return "(" + inner + ")", true
	case t == ")", strings.EqualFold(t, "AND"), strings.EqualFold(t, "OR"), strings.EqualFold(t, "WITH"):
		return "", false
	}
	p.pos++
	if id, ok := canonicalLicense()[strings.ToLower(t)]; ok {
		return id, true
	}
	if base, plus := strings.CutSuffix(t, "+"); plus {
		if id, ok := canonicalLicense()[strings.ToLower(base)]; ok {
			p.plus = true
			return id + "+", true
		}
	}
	if ref, ok := strings.CutPrefix(t, "LicenseRef-"); ok && ref != "" && strings.Trim(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == "" {
		p.known = false
		return t, true
	}
	p.known = false
	return p.unlisted(t), true
}

// spdxLicense joins declared licenses into one SPDX expression (all of them
// apply), or NOASSERTION when none is declared.
func spdxLicense(texts []string, refs *licenseRefs) string {
	var parts []string
	for _, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		l := parseLicense(t, refs)
		if len(texts) > 1 && l.compound {
			parts = append(parts, "("+l.expr+")")
		} else {
			parts = append(parts, l.expr)
		}
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}
