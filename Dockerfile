# keysweep in a small image that runs as a non-root user. git is included:
# keysweep reads repositories through it in every mode.
#
#   docker build -t keysweep .
#   docker run --rm -v "$PWD:/repo" keysweep git /repo
#
# GoReleaser's binaries are static, so the same image can also be built
# around one of them; this Dockerfile builds from source.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
    -o /out/keysweep ./cmd/keysweep

FROM alpine:3.22
RUN apk add --no-cache git ca-certificates \
 && adduser -D -u 65532 -g keysweep keysweep \
 && git config --system --add safe.directory '*'
COPY --from=build /out/keysweep /usr/local/bin/keysweep
USER 65532:65532
WORKDIR /repo
ENTRYPOINT ["/usr/local/bin/keysweep"]
CMD ["--help"]
