package dockerfile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/rule"
)

// hits returns "RULE@LINE" for the findings of rule id (all when id is "").
func hits(fs []rule.Finding, id string) []string {
	var out []string
	for _, f := range fs {
		if id == "" || f.Rule == id {
			out = append(out, fmt.Sprintf("%s@%d", f.Rule, f.Line))
		}
	}
	slices.Sort(out)
	return out
}

// TestRules holds one positive and one negative Dockerfile per rule.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		rule     *rule.Rule
		src      string
		want     []int // lines with a finding of the rule
		contains string
	}{
		{&LastUser, "FROM debian:12\nRUN true\n", []int{1}, "sets no USER"},
		{&LastUser, "FROM scratch\nCOPY app /app\n", []int{1}, "FROM scratch"},
		{&LastUser, "FROM debian:12\nUSER 1000\nUSER root\n", []int{3}, "root"},
		{&LastUser, "FROM debian:12 AS base\nUSER 0:0\nFROM base\nRUN x\n", []int{2}, "root"},
		{&LastUser, "FROM debian:12\nUSER 65532:65532\n", nil, ""},
		{&LastUser, "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY a /a\n", nil, ""},
		{&LastUser, "FROM cgr.dev/chainguard/static\nCOPY a /a\n", nil, ""},
		{&LastUser, "FROM debian:12 AS base\nUSER 10001\nFROM base\nRUN x\n", nil, ""},
		{&Unpinned, "FROM golang:1.26 AS b\nFROM b\nFROM scratch\n", []int{1}, "not pinned by digest"},
		{&Unpinned, "ARG V=1.26\nFROM golang:${V}\n", []int{2}, "golang:1.26"},
		{&Unpinned, "FROM golang:1.26@sha256:" + strings.Repeat("a", 64) + "\nUSER 1\n", nil, ""},
		{&Unpinned, "FROM ${BASE}\n", nil, ""},
		{&Latest, "FROM alpine\nFROM alpine:latest\nFROM registry:5000/x/alpine\n", []int{1, 2, 3}, "latest"},
		{&Latest, "FROM registry:5000/alpine:3.20\nFROM alpine@sha256:" + strings.Repeat("b", 64) + "\n", nil, ""},
		{&SingleStage, "FROM golang:1.26\nRUN go build -o /app .\n", []int{2}, "final stage"},
		{&SingleStage, "FROM golang:1.26 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n", nil, ""},
		{&NoCgoOff, "FROM golang AS b\nRUN go build .\nRUN go install ./cmd/x\n", []int{2, 3}, "CGO_ENABLED=0"},
		{&NoCgoOff, "FROM golang AS b\nENV CGO_ENABLED=0\nRUN go build .\nRUN CGO_ENABLED=0 go build .\nRUN export CGO_ENABLED=0 && go build .\nRUN env CGO_ENABLED=0 go build .\n", nil, ""},
		{&NoCgoOff, "FROM golang AS b\nARG CGO_ENABLED=0\nFROM b AS c\nRUN go build .\n", nil, ""},
		{&NoTrimpath, "FROM golang AS b\nRUN go build -o x . && go vet ./...\n", []int{2}, "-trimpath"},
		{&NoTrimpath, "FROM golang AS b\nRUN go build -trimpath .\nENV GOFLAGS=-trimpath\nRUN go build .\n", nil, ""},
		{&NoStrip, "FROM golang AS b\nRUN go build -ldflags=-s .\nRUN go build .\n", []int{2, 3}, "-s -w"},
		{&NoStrip, "FROM golang AS b\nRUN go build -ldflags \"-s -w -X main.v=1\" .\nRUN go build -ldflags='-w -s' .\n", nil, ""},
		{&RemoteAdd, "FROM a\nADD https://x.example/f.tgz /f\nADD git@github.com:o/r.git /src\nADD https://github.com/o/r.git /src\n", []int{2, 3, 4}, "ADD"},
		{&RemoteAdd, "FROM a\nADD --checksum=sha256:" + strings.Repeat("c", 64) + " https://x.example/f.tgz /f\nADD local.tgz /x\n", nil, ""},
		{&ApkCache, "FROM alpine:3\nRUN apk update && apk add curl\n", []int{2}, "--no-cache"},
		{&ApkCache, "FROM alpine:3\nRUN apk add --no-cache curl\nRUN apk add curl && rm -rf /var/cache/apk/*\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n", nil, ""},
		{&AptCleanup, "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n", []int{2}, "/var/lib/apt/lists"},
		{&AptCleanup, "FROM debian:12\nRUN apt-get update && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*\nRUN --mount=type=cache,target=/var/lib/apt apt-get install -y x\n", nil, ""},
		{&VolumeOwner, "FROM scratch\nUSER 65532\nVOLUME /data\n", []int{3}, "nothing in the final stage"},
		{&VolumeOwner, "FROM scratch\nUSER 65532\nVOLUME [\"/data\"]\nCOPY seed /data/seed\n", []int{4}, "without --chown"},
		{&VolumeOwner, "FROM scratch\nUSER 65532\nVOLUME /data\nCOPY --chown=65532:65532 seed /data/\n", nil, ""},
		{&VolumeOwner, "FROM debian:12\nRUN mkdir /data && chown 1000 /data\nUSER 1000\nVOLUME /data\n", nil, ""},
		{&VolumeOwner, "FROM debian:12\nVOLUME /data\n", nil, ""},
		{&NamedUser, "FROM debian:12\nUSER app:app\n", []int{2}, "not numeric"},
		{&NamedUser, "FROM debian:12\nUSER 1000:1000\n", nil, ""},
		{&NamedUser, "FROM debian:12\nUSER ${UID}\n", nil, ""},
		{&Secret, "FROM a\nENV DB_PASSWORD=hunter2\nARG AWS_KEY=AKIAABCDEFGHIJKLMNOP\n", []int{2, 3}, "value not shown"},
		{&Secret, "FROM a\nENV DB_PASSWORD_FILE=/run/secrets/db PASSWORD=$PASSWORD\nARG TOKEN\n", nil, ""},
	} {
		t.Run(tc.rule.ID+"/"+strings.ReplaceAll(tc.src[:min(len(tc.src), 40)], "\n", "|"), func(t *testing.T) {
			f := Parse("Dockerfile", []byte(tc.src))
			if len(f.Warnings) > 0 {
				t.Fatalf("warnings: %v", f.Warnings)
			}
			fs := Check(f)
			var want []string
			for _, l := range tc.want {
				want = append(want, fmt.Sprintf("%s@%d", tc.rule.ID, l))
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, hits(fs, tc.rule.ID)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %v", diff, fs)
			}
			for _, fd := range fs {
				if fd.Rule != tc.rule.ID {
					continue
				}
				if !strings.Contains(fd.Message, tc.contains) {
					t.Errorf("message %q lacks %q", fd.Message, tc.contains)
				}
				if fd.Severity != tc.rule.Severity || fd.Title != tc.rule.Title || fd.File != "Dockerfile" {
					t.Errorf("finding %+v does not carry its rule's severity, title and file", fd)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // "line: substring"
	}{
		{"unterminated heredoc", "FROM a\nRUN <<EOF\necho\n", []string{"2: unterminated heredoc"}},
		{"empty", "", []string{"0: file with no instructions"}},
		{"only comments", "# nothing\n", []string{"1: file with no instructions"}},
		{"unknown instruction", "FROM a\nFROOM b\nUSER 1\n", []string{"2: unknown instruction FROOM"}},
		{"before FROM", "RUN true\nFROM a\n", []string{"1: RUN before the first FROM"}},
		{"no arguments", "FROM a\nUSER\nENV\n", []string{"2: USER without arguments", "3: ENV without arguments"}},
		{"no FROM", "ARG X=1\n", []string{"1: no FROM instruction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse("Dockerfile", []byte(tc.src))
			var got []string
			for _, w := range f.Warnings {
				got = append(got, fmt.Sprintf("%d: %s", w.Line, w.Message))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %q", got, tc.want)
			}
			for i := range got {
				l, msg, _ := strings.Cut(tc.want[i], ": ")
				if !strings.HasPrefix(got[i], l+": ") || !strings.Contains(got[i], msg) {
					t.Errorf("warning %q, want line %s and %q", got[i], l, msg)
				}
			}
			Check(f) // must not panic on what was read
		})
	}
	// After an unknown instruction the rest is still checked.
	f := Parse("Dockerfile", []byte("FROM debian:12\nFROOM x\nUSER root\n"))
	if diff := cmp.Diff([]string{"RL-DF-001@3"}, hits(Check(f), LastUser.ID)); diff != "" {
		t.Errorf("after a bad line (-want +got):\n%s", diff)
	}
}

func TestGoSettings(t *testing.T) {
	src := "FROM golang AS b\nENV GOPROXY=direct GOSUMDB=off\nARG GOFLAGS=-mod=mod\nRUN go env -w GOPRIVATE=* GONOSUMDB=x && GOINSECURE=y go build .\nRUN export GOPROXY=http://proxy:3000 && go build .\nENV PATH=/x\n"
	var got []string
	for _, s := range Parse("Dockerfile", []byte(src)).GoSettings() {
		got = append(got, fmt.Sprintf("%d %s %s=%s", s.Line, s.Via, s.Key, s.Value))
	}
	want := []string{
		"2 ENV GOPROXY=direct", "2 ENV GOSUMDB=off", "3 ARG GOFLAGS=-mod=mod",
		"4 RUN go env -w GOPRIVATE=*", "4 RUN go env -w GONOSUMDB=x", "4 RUN GOINSECURE=y",
		"5 RUN export GOPROXY=http://proxy:3000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestScopeAndDirectives(t *testing.T) {
	src := "FROM debian:12\n# redline:ignore RL-DF-010 the lists are needed at run time\n\nRUN apt-get update && \\\n    apt-get install -y x\nUSER 1000\n"
	f := Parse("Dockerfile", []byte(src))
	if from, to := f.Scope(2); from != 4 || to != 5 {
		t.Errorf("Scope(2) = %d-%d, want 4-5", from, to)
	}
	if len(f.Directives) != 1 || f.Directives[0].Reason != "the lists are needed at run time" {
		t.Errorf("directives = %+v", f.Directives)
	}
}

// TestHarden checks the exact rewrite and that the result no longer has
// the findings harden fixes.
func TestHarden(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		user            string
	}{
		{"no user, go build", "FROM golang:1.26\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nEXPOSE 8080\nCMD [\"/app\"]\n",
			"FROM golang:1.26\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /app .\nUSER 65532:65532\nEXPOSE 8080\nCMD [\"/app\"]\n", ""},
		{"root user replaced", "FROM debian:12\nUSER   root   \n", "FROM debian:12\nUSER   10001:10001   \n", "10001:10001"},
		{"scratch without newline at end", "FROM scratch\nCOPY app /app", "FROM scratch\nCOPY app /app\nUSER 65532:65532\n", ""},
		{"merge ldflags, keep others", "FROM golang AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags '-X a=b' -o x . && \\\n    go build -o y ./y\nFROM scratch\nUSER 1\n",
			"FROM golang AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w -X a=b' -o x . && \\\n    CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o y ./y\nFROM scratch\nUSER 1\n", ""},
		{"apk and apt", "FROM alpine AS a\nRUN apk add curl && apk add --no-cache git\nFROM debian:12\nRUN apt-get update \\\n  && apt-get install -y x   \nUSER 1\n",
			"FROM alpine AS a\nRUN apk add --no-cache curl && apk add --no-cache git\nFROM debian:12\nRUN apt-get update \\\n  && apt-get install -y x && rm -rf /var/lib/apt/lists/*   \nUSER 1\n", ""},
		{"volume chown", "FROM scratch\nUSER 65532:65532\nVOLUME /data\ncopy seed /data/seed\n", "FROM scratch\nUSER 65532:65532\nVOLUME /data\ncopy --chown=65532:65532 seed /data/seed\n", ""},
		{"suppressed stays", "FROM golang AS b\n# redline:ignore RL-DF-006 paths are wanted in panics\nRUN go build -ldflags=\"-s -w\" .\nFROM scratch\nUSER 1\n",
			"FROM golang AS b\n# redline:ignore RL-DF-006 paths are wanted in panics\nRUN CGO_ENABLED=0 go build -ldflags=\"-s -w\" .\nFROM scratch\nUSER 1\n", ""},
		{"CRLF", "FROM scratch\r\nCOPY a /a\r\n", "FROM scratch\r\nCOPY a /a\r\nUSER 65532:65532\r\n", ""},
		{"heredoc apt left alone", "FROM debian:12\nRUN <<EOF\napt-get install -y x\nEOF\nUSER 1\n", "FROM debian:12\nRUN <<EOF\napt-get install -y x\nEOF\nUSER 1\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse("Dockerfile", []byte(tc.src))
			fs := Check(f)
			for i := range f.Directives {
				f.Directives[i].From, f.Directives[i].To = f.Scope(f.Directives[i].Line)
			}
			rule.Suppress(fs, f.Directives, "Dockerfile", func(string) bool { return true })
			out, err := edit.Apply(f.Src, Harden(f, fs, Options{User: tc.user}))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("harden =\n%s\nwant\n%s", out, tc.want)
			}
			g := Parse("Dockerfile", out)
			if len(g.Warnings) > 0 {
				t.Fatalf("hardened file has warnings: %v", g.Warnings)
			}
			for _, fd := range Check(g) {
				if fixable(fd.Rule) && !(tc.name == "suppressed stays" && fd.Rule == NoTrimpath.ID) && !(tc.name == "heredoc apt left alone" && fd.Rule == AptCleanup.ID) {
					t.Errorf("after harden: %s at line %d: %s", fd.Rule, fd.Line, fd.Message)
				}
			}
		})
	}
}

func fixable(id string) bool {
	for _, r := range Rules() {
		if r.ID == id {
			return r.Fixable
		}
	}
	return false
}

func TestSplitCommands(t *testing.T) {
	got := splitCommands(`A=1 B="two words" go build -ldflags '-s -w' ./x && echo "a && b" ; env C=3 make # comment && go build
next\
line`)
	want := []simpleCmd{
		{env: map[string]string{"A": "1", "B": "two words"}, words: []string{"go", "build", "-ldflags", "-s -w", "./x"}},
		{env: map[string]string{}, words: []string{"echo", "a && b"}},
		{env: map[string]string{"C": "3"}, words: []string{"make"}},
		{env: map[string]string{}, words: []string{"nextline"}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(simpleCmd{})); diff != "" {
		t.Errorf("splitCommands (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"FROM a\nRUN go build .\nUSER root\n", "FROM a AS b\nCOPY --from=b x y\nVOLUME /d\nUSER 1\n", "# escape=`\nFROM a\nRUN x `\n y\n", "FROM a\nRUN <<EOF\nx\nEOF\n", "ARG B\nFROM ${B}\nENV A=1 B=2\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		df := Parse("Dockerfile", []byte(s))
		fs := Check(df)
		es := Harden(df, fs, Options{})
		if _, err := edit.Apply(df.Src, es); err != nil {
			t.Fatalf("harden edits do not apply: %v", err)
		}
		df.GoSettings()
	})
}
