#!/bin/sh
# Installs Viceroy, Fastly's local Compute runtime, from crates.io when it is missing or not
# the pinned version. The Fastly CLI's own download host is unreachable here, and the build
# is long (about 11 minutes on 2 cores), so CI caches ~/.cargo/bin between runs and this
# script is a no-op when the right version is already there.
#   VICEROY_VERSION=0.22.0 scripts/setup-viceroy.sh
set -eu
WANT="${VICEROY_VERSION:-0.22.0}"
PATH="$HOME/.cargo/bin:$PATH"
HAVE="$(viceroy --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$HAVE" = "$WANT" ]; then
  echo "viceroy $HAVE already installed ($(command -v viceroy))"
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is needed to build viceroy (https://rustup.rs)" >&2
  exit 1
fi
echo "installing viceroy $WANT (found: ${HAVE:-none}); this takes a while"
start=$(date +%s)
cargo install viceroy --locked --version "$WANT"
echo "viceroy $WANT installed in $(( $(date +%s) - start )) s: $(command -v viceroy)"
