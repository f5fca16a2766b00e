package godebug

import "strconv"

// classInfo is redline's classification of one setting. The facts behind
// each line come from Go's documentation (doc/godebug.md and the package
// docs the table points to); the words are redline's.
type classInfo struct {
	class Class
	// def is the value used when nothing sets the setting (after Changed);
	// empty when the setting has no value of its own by default.
	def     string
	meaning string
	reason  string
	// weak reports whether a value is weaker than def; security only, nil
	// when no value is (the default is already the permissive one, or the
	// setting only hardens).
	weak func(v string) bool
	// also lists packages, besides the one that reads the setting, whose
	// behaviour it changes.
	also []string
}

// equals is weak for the listed values.
func equals(vals ...string) func(string) bool {
	return func(v string) bool {
		for _, w := range vals {
			if v == w {
				return true
			}
		}
		return false
	}
}

// above is weak for a limit raised over def.
func above(def int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n > def
	}
}

// unlimitedOrAbove is weak for a limit raised over def or switched off
// with 0.
func unlimitedOrAbove(def int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && (n == 0 || n > def)
	}
}

const (
	buildOnly    = "read only by the go command at build time; the program it builds is unaffected"
	postQuantum  = "without a post-quantum key share, recorded traffic could be decrypted later by a quantum computer"
	windowsOnly  = "changes path handling on Windows only; weakens no protection"
	mathRandOnly = "math/rand is not for secrets; this changes which numbers a program sees, not a protection"
)

// classes classifies every setting of the table; a test keeps the two in
// step.
var classes = map[string]classInfo{
	"allowmultiplevcs": {class: ClassBehaviour, def: "0",
		meaning: "allowmultiplevcs=1 lets the go command stamp version-control information when the build directory sits in more than one checkout",
		reason:  buildOnly},
	"asynctimerchan": {class: ClassBehaviour, def: "0",
		meaning: "asynctimerchan=1 gives time.Timer and time.Ticker buffered channels as before Go 1.23, so Stop and Reset can leave a stale tick to receive",
		reason:  "changes timer channel semantics, not a protection"},
	"containermaxprocs": {class: ClassPerformance, def: "1",
		meaning: "containermaxprocs=0 makes the runtime ignore the cgroup CPU limit when it picks the default GOMAXPROCS on Linux",
		reason:  "a container with a CPU quota then runs more threads than it may use and is throttled"},
	"cryptocustomrand": {class: ClassSecurity, def: "0", weak: equals("1"),
		also:    []string{"crypto/dsa", "crypto/ecdh", "crypto/ecdsa", "crypto/rand", "crypto/rsa"},
		meaning: "cryptocustomrand=1 makes crypto key generation and signing draw from the io.Reader the caller passes instead of always the system's secure random source",
		reason:  "a weak or deterministic reader passed by the code then decides keys and nonces"},
	"dataindependenttiming": {class: ClassSecurity, def: "0",
		meaning: "dataindependenttiming=1 switches on the CPU's data-independent timing mode (arm64) for the whole program",
		reason:  "a hardening switch whose default is Go's normal behaviour: no value of it is weaker than the default"},
	"decoratemappings": {class: ClassBehaviour, def: "1",
		meaning: "decoratemappings=0 stops the runtime from naming its anonymous memory mappings in /proc/self/maps on Linux",
		reason:  "changes diagnostics only"},
	"embedfollowsymlinks": {class: ClassBehaviour, def: "0",
		meaning: "embedfollowsymlinks=1 lets the go command follow symbolic links to regular files when it embeds files",
		reason:  buildOnly},
	"execerrdot": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "execerrdot=0 lets os/exec run a program that a PATH lookup found in the current directory instead of failing with ErrDot",
		reason:  "a file planted in the working directory can then run in place of the intended command"},
	"fips140": {class: ClassSecurity, def: "off",
		meaning: "fips140=on runs Go's cryptographic module in FIPS 140-3 mode; fips140=only also refuses algorithms FIPS does not approve",
		reason:  "the default (off) is Go's normal cryptography; on and only restrict it, never weaken it"},
	"fips140ems": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "fips140ems=0 stops crypto/tls from requiring the Extended Master Secret extension in FIPS 140-3 mode",
		reason:  "TLS 1.2 sessions without Extended Master Secret are open to triple-handshake attacks"},
	"gocachehash": {class: ClassBehaviour, def: "0",
		meaning: "gocachehash=1 makes the go command print the inputs it hashes for the build cache",
		reason:  buildOnly},
	"gocachetest": {class: ClassBehaviour, def: "0",
		meaning: "gocachetest=1 makes the go command print why it reuses or reruns cached test results",
		reason:  buildOnly},
	"gocacheverify": {class: ClassBehaviour, def: "0",
		meaning: "gocacheverify=1 makes the go command rebuild and compare instead of trusting the build cache",
		reason:  buildOnly},
	"gotestjsonbuildtext": {class: ClassBehaviour, def: "0",
		meaning: "gotestjsonbuildtext=1 makes go test -json print build errors as plain text, as before Go 1.24, instead of JSON events",
		reason:  buildOnly},
	"gotypesalias": {class: ClassBehaviour, def: "1",
		meaning: "gotypesalias=0 makes go/types describe type aliases without types.Alias nodes, as before Go 1.23",
		reason:  "changes what tools built on go/types see, not a protection"},
	"htmlmetacontenturlescape": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "htmlmetacontenturlescape=0 stops html/template from escaping the URL in the url= part of an HTML meta tag's content attribute",
		reason:  "unescaped template data there can redirect visitors to a hostile page"},
	"http2client": {class: ClassBehaviour, def: "1",
		meaning: "http2client=0 switches HTTP/2 off in the net/http client; requests use HTTP/1.1",
		reason:  "changes the protocol, not a protection"},
	"http2debug": {class: ClassBehaviour, def: "0",
		meaning: "http2debug=1 makes net/http log HTTP/2 activity; http2debug=2 logs every frame",
		reason:  "a debugging aid; frame logs can carry header values, so keep it out of production"},
	"http2server": {class: ClassBehaviour, def: "1",
		meaning: "http2server=0 switches HTTP/2 off in the net/http server; clients get HTTP/1.1",
		reason:  "changes the protocol, not a protection"},
	"httpcookiemaxnum": {class: ClassSecurity, def: "3000", weak: unlimitedOrAbove(3000),
		meaning: "httpcookiemaxnum caps how many cookies net/http parses from a request (3000 by default); 0 removes the cap",
		reason:  "without the cap one request with vast numbers of cookies costs memory and CPU (denial of service)"},
	"httplaxcontentlength": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "httplaxcontentlength=1 makes the net/http client and server accept an empty Content-Length header, as before Go 1.22",
		reason:  "lax message framing is what request smuggling between proxies and servers feeds on"},
	"httpmuxgo121": {class: ClassBehaviour, def: "0",
		meaning: "httpmuxgo121=1 gives http.ServeMux the Go 1.21 patterns and path matching: no methods, no wildcards, no per-segment unescaping",
		reason:  "changes which handler serves a path; review the routes when it flips, but it weakens no protection by itself"},
	"httpservecontentkeepheaders": {class: ClassBehaviour, def: "0",
		meaning: "httpservecontentkeepheaders=1 keeps Cache-Control, Content-Encoding, ETag and Last-Modified on the error responses of ServeContent, ServeFile and ServeFS",
		reason:  "changes response headers, not a protection"},
	"httpservecontentmaxranges": {class: ClassSecurity, def: "200", weak: unlimitedOrAbove(200),
		meaning: "httpservecontentmaxranges caps how many byte ranges ServeContent honours in one Range header (200 by default); 0 removes the cap",
		reason:  "many small ranges make the server do much work for one request (denial of service)"},
	"installgoroot": {class: ClassBehaviour,
		meaning: "installgoroot=all makes the go command install and use compiled standard-library packages in GOROOT, as before Go 1.20",
		reason:  "read by go/build and the go command at build time"},
	"jstmpllitinterp": {class: ClassSecurity, def: "0",
		meaning: "jstmpllitinterp=1 allowed html/template actions inside JavaScript template literals before Go 1.23; Go 1.23 and later escape them and ignore the setting",
		reason:  "it relaxed escaping only in toolchains before 1.23, so redline reports no finding for it"},
	"multipartmaxheaders": {class: ClassSecurity, def: "10000", weak: above(10000),
		meaning: "multipartmaxheaders caps how many header lines mime/multipart accepts in one part and in one form (10000 by default)",
		reason:  "a higher cap lets one hostile upload use more memory (denial of service)"},
	"multipartmaxparts": {class: ClassSecurity, def: "1000", weak: above(1000),
		meaning: "multipartmaxparts caps how many parts mime/multipart's Reader.ReadForm accepts in one form (1000 by default)",
		reason:  "a higher cap lets one hostile upload use more memory and CPU (denial of service)"},
	"multipathtcp": {class: ClassBehaviour, def: "2",
		meaning: "multipathtcp says where net uses Multipath TCP by default: 0 nowhere (before Go 1.24), 1 dialers and listeners, 2 listeners, 3 dialers",
		reason:  "changes the transport, not a protection"},
	"netdns": {class: ClassBehaviour,
		meaning: "netdns=go or netdns=cgo forces the pure Go or the C library DNS resolver; a +1 or +2 suffix logs the choice",
		reason:  "changes how names are resolved, not a protection"},
	"netedns0": {class: ClassBehaviour, def: "1",
		meaning: "netedns0=0 stops the pure Go resolver from sending EDNS(0) options with DNS queries",
		reason:  "a workaround for broken home routers; weakens no protection"},
	"panicnil": {class: ClassBehaviour, def: "0",
		meaning: "panicnil=1 lets panic(nil) panic with a nil value that recover cannot tell from no panic, as before Go 1.21",
		reason:  "changes panic semantics, not a protection"},
	"randautoseed": {class: ClassBehaviour, def: "1",
		meaning: "randautoseed=0 starts math/rand's global generator from the fixed seed 1, as before Go 1.20",
		reason:  mathRandOnly},
	"randseednop": {class: ClassBehaviour, def: "1",
		meaning: "randseednop=0 lets math/rand.Seed reseed the global generator again, as before Go 1.24",
		reason:  mathRandOnly},
	"rsa1024min": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "rsa1024min=0 lets crypto/rsa generate and use keys shorter than 1024 bits, as before Go 1.24",
		reason:  "keys that short can be factored with modest effort"},
	"tarinsecurepath": {class: ClassSecurity, def: "1",
		meaning: "tarinsecurepath=0 makes archive/tar's Reader.Next fail with ErrInsecurePath on absolute names and names with ..; the default 1 accepts them",
		reason:  "the default is already the permissive value; 0 only hardens, so no value is weaker than the default"},
	"tls10server": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "tls10server=1 lets crypto/tls servers accept TLS 1.0 and 1.1 when Config.MinVersion is unset, as before Go 1.22",
		reason:  "TLS 1.0 and 1.1 are deprecated (RFC 8996): weak ciphers and MACs, no modern downgrade protection"},
	"tls3des": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "tls3des=1 puts the 3DES cipher suites back into crypto/tls's default list, as before Go 1.23",
		reason:  "3DES has a 64-bit block and falls to Sweet32 birthday attacks on long connections"},
	"tlskyber": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "tlskyber=0 dropped the X25519Kyber768Draft00 post-quantum key exchange from crypto/tls's defaults (Go 1.23)",
		reason:  postQuantum},
	"tlsmaxrsasize": {class: ClassSecurity, def: "8192", weak: above(8192),
		meaning: "tlsmaxrsasize caps the RSA key size crypto/tls accepts from a peer in a handshake (8192 bits by default)",
		reason:  "checking signatures with huge RSA keys costs much CPU (denial of service)"},
	"tlsmlkem": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "tlsmlkem=0 drops the X25519MLKEM768 post-quantum key exchange from crypto/tls's defaults, as before Go 1.24",
		reason:  postQuantum},
	"tlsrsakex": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "tlsrsakex=1 puts the RSA key exchange cipher suites back into crypto/tls's default list, as before Go 1.22",
		reason:  "RSA key exchange has no forward secrecy and invites Bleichenbacher-style padding oracle attacks"},
	"tlssecpmlkem": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "tlssecpmlkem=0 drops the SecP256r1MLKEM768 and SecP384r1MLKEM1024 post-quantum key exchanges from crypto/tls's defaults, as before Go 1.26",
		reason:  postQuantum},
	"tlssha1": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "tlssha1=1 allows SHA-1 signature algorithms in TLS 1.2 handshakes, as before Go 1.25",
		reason:  "SHA-1 collisions are practical; RFC 9155 forbids SHA-1 signatures in TLS 1.2"},
	"tlsunsafeekm": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "tlsunsafeekm=1 lets ConnectionState.ExportKeyingMaterial work on connections with neither TLS 1.3 nor Extended Master Secret, as before Go 1.22",
		reason:  "keying material from such connections is not bound to them and can be shared with an attacker (triple handshake)"},
	"tracebacklabels": {class: ClassBehaviour, def: "1",
		meaning: "tracebacklabels=0 leaves runtime/pprof goroutine labels out of tracebacks and goroutine dumps, as before Go 1.27",
		reason:  "changes diagnostic output only"},
	"updatemaxprocs": {class: ClassPerformance, def: "1",
		meaning: "updatemaxprocs=0 stops the runtime from adjusting GOMAXPROCS when the CPU affinity or cgroup CPU limit changes while it runs",
		reason:  "the program keeps a thread count that no longer matches the CPUs it may use"},
	"urlmaxqueryparams": {class: ClassSecurity, def: "10000", weak: unlimitedOrAbove(10000),
		meaning: "urlmaxqueryparams caps how many parameters net/url parses from one query string (10000 by default); 0 removes the cap",
		reason:  "without the cap one long query costs memory and CPU (denial of service)"},
	"urlstrictcolons": {class: ClassSecurity, def: "1", weak: equals("0"),
		meaning: "urlstrictcolons=0 lets net/url.Parse accept host names with colons outside brackets, such as http://::1/, as before Go 1.26",
		reason:  "parsers that disagree about a URL's host are how allow-lists and SSRF checks are bypassed"},
	"winreadlinkvolume": {class: ClassBehaviour, def: "1",
		meaning: "winreadlinkvolume=0 makes os.Readlink and filepath.EvalSymlinks on Windows turn volume paths into drive letters, as before Go 1.23",
		reason:  windowsOnly},
	"winsymlink": {class: ClassBehaviour, def: "1",
		meaning: "winsymlink=0 makes os.Stat and os.Lstat on Windows report mount points as symbolic links, as before Go 1.23",
		reason:  windowsOnly},
	"x509keypairleaf": {class: ClassBehaviour, def: "1",
		meaning: "x509keypairleaf=0 leaves Certificate.Leaf empty in tls.X509KeyPair and tls.LoadX509KeyPair, as before Go 1.23",
		reason:  "changes an API result, not a protection"},
	"x509negativeserial": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "x509negativeserial=1 lets crypto/x509.ParseCertificate accept certificates with negative serial numbers, as before Go 1.23",
		reason:  "such certificates break RFC 5280; accepting malformed certificates widens what a verifier trusts"},
	"x509rsacrt": {class: ClassBehaviour, def: "1",
		meaning: "x509rsacrt=0 makes ParsePKCS1PrivateKey recompute the CRT values of an RSA key instead of using and checking the stored ones, as before Go 1.24",
		reason:  "changes how private keys are loaded (and how fast), not what is trusted"},
	"x509sha1": {class: ClassSecurity, def: "0", weak: equals("1"),
		meaning: "x509sha1=1 let crypto/x509 verify certificate signatures made with SHA-1 (Go 1.18 to 1.23)",
		reason:  "SHA-1 collisions are practical: certificates signed with it can be forged"},
	"x509sha256skid": {class: ClassBehaviour, def: "1",
		meaning: "x509sha256skid=0 makes x509.CreateCertificate fill a missing SubjectKeyId with a SHA-1 hash, as before Go 1.25",
		reason:  "the key identifier is a label, not a signature; no protection depends on its hash"},
	"x509sslcertoverrideplatform": {class: ClassBehaviour, def: "1",
		meaning: "x509sslcertoverrideplatform=0 keeps the platform verifier on macOS and Windows even when SSL_CERT_FILE or SSL_CERT_DIR is set, as before Go 1.27",
		reason:  "changes which roots are trusted on macOS and Windows only; neither value is weaker in general"},
	"x509usefallbackroots": {class: ClassBehaviour, def: "0",
		meaning: "x509usefallbackroots=1 makes crypto/x509 use the roots given to SetFallbackRoots even when the system has its own",
		reason:  "changes the source of trusted roots to one the program itself bundles; not a weakening by itself"},
	"x509usepolicies": {class: ClassBehaviour, def: "1",
		meaning: "x509usepolicies=0 makes x509.CreateCertificate write policies from PolicyIdentifiers instead of Policies, as before Go 1.24",
		reason:  "changes how certificates are written, not how they are checked"},
	"zipinsecurepath": {class: ClassSecurity, def: "1",
		meaning: "zipinsecurepath=0 makes archive/zip's NewReader fail with ErrInsecurePath on absolute names and names with ..; the default 1 accepts them",
		reason:  "the default is already the permissive value; 0 only hardens, so no value is weaker than the default"},
}
