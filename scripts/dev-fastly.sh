#!/bin/sh
# npm run dev:fastly — the service under Viceroy the way Fastly developers run it:
# `fastly compute serve` with the Viceroy built from crates.io (scripts/setup-viceroy.sh),
# since the CLI's own Viceroy download is not reachable from here. fastly.toml [local_server]
# expects the renderer on 127.0.0.1:8081:
#   RENDER_SECRET=local-dev-only-render-secret-do-not-deploy PORT=8081 npm start
set -eu
cd "$(dirname "$0")/.."
VICEROY="$(command -v viceroy || true)"
if [ -z "$VICEROY" ]; then
  echo "viceroy is not installed: run scripts/setup-viceroy.sh (cargo install viceroy --locked, ~11 min on 2 cores)" >&2
  exit 1
fi
npm run --silent build:fastly
exec node_modules/.bin/fastly compute serve --skip-build --viceroy-path "$VICEROY" "$@"
