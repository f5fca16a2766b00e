// Package secret recognises credentials in environment variables and
// files: by the variable's name with a literal value, and by the shapes
// of well-known tokens and private keys. It never returns the value.
package secret

import (
	"bytes"
	"regexp"
	"strings"
)

var (
	nameRE = regexp.MustCompile(`(?i)(^|_)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)($|_)`)
	// Names that point at a secret rather than hold it.
	refRE    = regexp.MustCompile(`(?i)_(FILE|PATH|DIR|URL|URI|HOST|PORT|NAME|USER|USERNAME|ID|TYPE|METHOD|ENABLED|MODE|HEADER|ENDPOINT)$`)
	tokenRes = []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an AWS access key ID", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
		{"a GitHub token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b`)},
		{"a GitLab token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}\b`)},
		{"a Slack token", regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}\b`)},
		{"a Stripe live key", regexp.MustCompile(`\b[sr]k_live_[A-Za-z0-9]{16,}\b`)},
		{"a Google API key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
		{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY`)},
	}
)

// Env reports whether NAME=value looks like a credential, and what kind.
// Empty values and values that only reference something else ($VAR,
// ${VAR}, file paths for *_FILE) are not.
func Env(name, value string) (bool, string) {
	v := strings.TrimSpace(value)
	for _, t := range tokenRes {
		if t.re.MatchString(v) {
			return true, "its value looks like " + t.what
		}
	}
	if v == "" || strings.HasPrefix(v, "$") || refRE.MatchString(name) || !nameRE.MatchString(name) {
		return false, ""
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "0", "1", "none", "null", "changeme", "<redacted>", "redacted":
		return false, ""
	}
	return true, "its name says it holds a credential and it has a literal value"
}

// PrivateKeyMarker is what PEM and OpenSSH private keys carry.
var PrivateKeyMarker = []byte("PRIVATE KEY-----")

// HasPrivateKey reports whether b holds a PEM or OpenSSH private key
// header.
func HasPrivateKey(b []byte) bool { return bytes.Contains(b, PrivateKeyMarker) }

// KeyFileName reports names that usually hold private keys, so their
// content is worth reading: SSH identities, .pem and .key files, and
// PKCS#12 bundles (binary: by name alone).
func KeyFileName(base string) (read, byName bool) {
	switch base {
	case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk":
		return true, false
	}
	switch {
	case strings.HasSuffix(base, ".pem"), strings.HasSuffix(base, ".key"):
		return true, false
	case strings.HasSuffix(base, ".p12"), strings.HasSuffix(base, ".pfx"):
		return false, true
	}
	return false, false
}
