#!/bin/sh
# Installs MinIO, a real S3 server that checks SigV4 signatures, for the storage tests
# (test/storage/minio.ts). Built from the Go module proxy with `go install` when ~/go/bin lacks
# the pinned build (about 8 minutes on 2 cores); CI caches ~/go/bin between runs, so this
# script is a no-op when the right build is already there.
#   MINIO_MODULE_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c scripts/setup-minio.sh
# MinIO is AGPL-licensed: it is only run as a separate test server, never linked or shipped.
set -eu
WANT="${MINIO_MODULE_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
GOBIN_DIR="$(go env GOBIN 2>/dev/null || true)"
[ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
BIN="$GOBIN_DIR/minio"
# The module version the binary was built from, as `go version -m` records it.
HAVE="$(go version -m "$BIN" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/minio/minio" { print $3 }' || true)"
if [ "$HAVE" = "$WANT" ]; then
  echo "minio $HAVE already installed ($BIN)"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "go is needed to build minio (https://go.dev/dl)" >&2
  exit 1
fi
echo "installing minio $WANT (found: ${HAVE:-none}); this takes a while"
start=$(date +%s)
go install "github.com/minio/minio@$WANT"
echo "minio $WANT installed in $(( $(date +%s) - start )) s: $BIN"
