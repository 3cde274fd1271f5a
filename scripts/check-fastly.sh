#!/bin/sh
# npm run check:fastly — what CI runs so a change that breaks the Fastly service cannot land:
# type-check against Fastly's runtime types, build bin/main.wasm through the Fastly CLI (it runs
# fastly.toml's [scripts] build and packs pkg/avatar-edge.tar.gz), then validate the package.
# All offline; an INFO line about downloading wasm-tools is harmless.
set -eu
cd "$(dirname "$0")/.."
FASTLY=node_modules/.bin/fastly

npm run --silent typecheck:fastly
rm -f pkg/*.tar.gz
"$FASTLY" compute build --non-interactive
"$FASTLY" compute validate --non-interactive --package pkg/*.tar.gz
ls -l bin/main.wasm pkg/*.tar.gz
