# A tools image: two stages, the usual shortcuts.
FROM alpine AS fetch
RUN apk add curl ca-certificates
ADD https://example.com/releases/tool-1.2.3.tar.gz /tmp/tool.tgz
ARG GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB
ENV GOPROXY=direct GOSUMDB=off

FROM golang:1.26-alpine AS build
WORKDIR /src
COPY . .
RUN GOFLAGS=-mod=mod go build -ldflags "-X main.version=1.2.3" -o /out/tool ./cmd/tool && \
    go build -o /out/helper ./cmd/helper

FROM debian:bookworm-slim
RUN apt-get update && \
    apt-get install -y --no-install-recommends ca-certificates
COPY --from=build /out/tool /usr/local/bin/tool
RUN useradd --uid 10001 tool
# redline:ignore RL-DF-012 the name is resolved at build time by our platform
USER tool
VOLUME /data
COPY config.yaml /data/config.yaml
ENTRYPOINT ["tool"]
