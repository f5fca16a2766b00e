package layers

import "testing"

func TestRedactHistory(t *testing.T) {
	for in, want := range map[string]string{
		"ENV API_TOKEN=s3cret":                            "ENV API_TOKEN=<redacted>",
		"/bin/sh -c #(nop)  ENV PATH=/usr/bin GOPATH=/go": "/bin/sh -c #(nop)  ENV PATH=<redacted> GOPATH=<redacted>",
		"ENV TOKEN some secret words":                     "ENV TOKEN <redacted>",
		"ARG NPM_TOKEN=abc":                               "ARG NPM_TOKEN=<redacted>",
		"ARG VERSION":                                     "ARG VERSION",
		"|2 TOKEN=abc MODE=x /bin/sh -c make":             "|2 TOKEN=<redacted> MODE=<redacted> /bin/sh -c make",
		"RUN /bin/sh -c go build -o /app . # buildkit":    "RUN /bin/sh -c go build -o /app . # buildkit",
		"RUN echo ENVIRONMENT=prod":                       "RUN echo ENVIRONMENT=prod",
		"COPY . /src":                                     "COPY . /src",
	} {
		if got := RedactHistory(in); got != want {
			t.Errorf("RedactHistory(%q) = %q, want %q", in, got, want)
		}
	}
}
