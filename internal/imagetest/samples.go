package imagetest

import (
	"archive/tar"
	"strings"
)

// Naive is the image a quick single-stage Dockerfile gives a Go service:
// a distribution base, package-manager caches, the source, the compiler's
// cache, and a clean-up layer that deletes but cannot reclaim. Sizes are
// scaled down about 100x to keep the archive small.
func Naive() Spec {
	return Spec{
		Layers: []Layer{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:4a3f1e2b9c in / ", Entries: []Entry{
				{Name: "bin/"}, {Name: "etc/"}, {Name: "usr/"}, {Name: "usr/lib/"}, {Name: "var/"}, {Name: "root/", Mode: 0o700}, {Name: "tmp/", Mode: 0o1777},
				{Name: "bin/sh", Size: 120_000, Mode: 0o755},
				{Name: "bin/bash", Type: tar.TypeLink, Link: "bin/sh"},
				{Name: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")},
				{Name: "etc/group", Body: []byte("root:x:0:\nnogroup:x:65534:\n")},
				{Name: "etc/os-release", Type: tar.TypeSymlink, Link: "../usr/lib/os-release"},
				{Name: "usr/lib/os-release", Body: []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")},
				{Name: "usr/lib/libc.so.6", Size: 300_000, Mode: 0o755},
				{Name: "usr/bin/apt-get", Size: 60_000, Mode: 0o755},
				{Name: "var/lib/dpkg/status", Body: []byte(dpkgStatus(false))},
			}},
			{CreatedBy: "/bin/sh -c apt-get update && apt-get install -y ca-certificates git", Entries: []Entry{
				{Name: "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", Size: 200_000},
				{Name: "var/cache/apt/archives/git_2.39.5_amd64.deb", Size: 70_000},
				{Name: "etc/ssl/certs/ca-certificates.crt", Size: 100_000},
				{Name: "usr/bin/git", Size: 90_000, Mode: 0o755},
				{Name: "var/lib/dpkg/status", Body: []byte(dpkgStatus(true))},
			}},
			{CreatedBy: "COPY . /src # buildkit", Entries: []Entry{
				{Name: "src/go.mod", Body: []byte("module example.com/hello\n\ngo 1.26\n")},
				{Name: "src/main.go", Size: 2_000},
			}},
			{CreatedBy: "RUN /bin/sh -c cd /src && go build -o /app . # buildkit", Entries: []Entry{
				{Name: "app", Size: 400_000, Mode: 0o755},
				{Name: "root/.cache/go-build/3f/3f9a0c-d", Size: 150_000},
				{Name: "root/.cache/go-build/a1/a1b2c3-d", Size: 50_000},
			}},
			{CreatedBy: "RUN /bin/sh -c rm -rf /root/.cache /var/lib/apt/lists/* # buildkit", Entries: []Entry{
				{Name: "root/.wh..cache"},
				{Name: "var/lib/apt/lists/.wh..wh..opq"},
			}},
		},
		Entrypoint:   []string{"/app"},
		WorkingDir:   "/src",
		ExposedPorts: []string{"8080/tcp"},
		Env:          []string{"PATH=/usr/local/go/bin:/usr/bin:/bin", "GOLANG_VERSION=1.26.8", "API_TOKEN=do-not-print"},
		Labels:       map[string]string{"org.opencontainers.image.source": "https://example.com/hello"},
		EmptySteps:   map[int][]string{4: {"ENV API_TOKEN=do-not-print", "EXPOSE map[8080/tcp:{}]", "ENTRYPOINT [\"/app\"]"}},
	}
}

// Slim is the same service built the way redline builds it: a static
// binary on a base of passwd, group, CA roots and /tmp, numeric non-root
// user.
func Slim() Spec {
	return Spec{
		Layers: []Layer{
			{CreatedBy: "redline build: static base", Entries: []Entry{
				{Name: "etc/"}, {Name: "etc/ssl/"}, {Name: "etc/ssl/certs/"}, {Name: "tmp/", Mode: 0o1777},
				{Name: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")},
				{Name: "etc/group", Body: []byte("root:x:0:\nnonroot:x:65532:\nnogroup:x:65534:\n")},
				{Name: "etc/ssl/certs/ca-certificates.crt", Size: 100_000},
			}},
			{CreatedBy: "redline build: /app (go build -trimpath -ldflags=-s -w)", Entries: []Entry{
				{Name: "app", Size: 280_000, Mode: 0o755},
			}},
		},
		User:         "65532:65532",
		Entrypoint:   []string{"/app"},
		ExposedPorts: []string{"8080/tcp"},
		Labels:       map[string]string{"dev.redline.user": "65532:65532"},
	}
}

// SampleFiles are the sample archives under testdata/images, by name.
func SampleFiles() map[string][]File {
	return map[string][]File{
		"naive.tar":    Build(Naive()).ArchiveFiles("example.com/hello:naive"),
		"slim.oci.tar": Build(Slim()).LayoutFiles("example.com/hello:slim"),
	}
}

// dpkgStatus is a small dpkg database: the base system, plus what
// `apt-get install ca-certificates git` adds when after is set.
func dpkgStatus(after bool) string {
	pkgs := []string{
		"Package: base-files\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\nVersion: 12.4+deb12u5\n",
		"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\n",
		"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n",
		"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n",
	}
	if after {
		pkgs = append(pkgs,
			"Package: ca-certificates\nStatus: install ok installed\nArchitecture: all\nVersion: 20230311\n",
			"Package: git\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:2.39.5-0+deb12u1\n",
		)
	}
	return strings.Join(pkgs, "\n")
}
