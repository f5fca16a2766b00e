package secret

import "testing"

func TestEnv(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"DB_PASSWORD", "hunter2", true},
		{"API_KEY", "abc", true},
		{"GITHUB_TOKEN", "x", true},
		{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI", true},
		{"ANYTHING", "AKIAABCDEFGHIJKLMNOP", true},
		{"NOTE", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", true},
		{"KEY", "-----BEGIN EC PRIVATE KEY-----", true},
		{"DB_PASSWORD_FILE", "/run/secrets/db", false},
		{"DB_PASSWORD", "", false},
		{"DB_PASSWORD", "${DB_PASSWORD}", false},
		{"TOKEN_URL", "https://auth.example/token", false},
		{"AUTH_ENABLED", "true", false},
		{"GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D", false},
		{"PASSWORD", "changeme", false},
		{"PATH", "/usr/bin", false},
		{"SECRETARY", "bob", false},
	} {
		got, why := Env(tc.name, tc.value)
		if got != tc.want || got && why == "" {
			t.Errorf("Env(%s=%q) = %v (%s), want %v", tc.name, tc.value, got, why, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	if !HasPrivateKey([]byte("x\n-----BEGIN OPENSSH PRIVATE KEY-----\n")) || HasPrivateKey([]byte("-----BEGIN CERTIFICATE-----")) || HasPrivateKey([]byte("-----BEGIN PUBLIC KEY-----")) {
		t.Error("HasPrivateKey")
	}
	for name, want := range map[string][2]bool{"id_rsa": {true, false}, "tls.key": {true, false}, "ca.pem": {true, false}, "keystore.p12": {false, true}, "id_rsa.pub": {false, false}, "main.go": {false, false}} {
		read, byName := KeyFileName(name)
		if [2]bool{read, byName} != want {
			t.Errorf("KeyFileName(%s) = %v, %v", name, read, byName)
		}
	}
}
