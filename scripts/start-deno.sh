#!/bin/sh
# `npm run start:deno`: the Deno host on this machine, configured like `npm start`: the tenants
# and admin token of config/local.json unless AVATAR_CONFIG or AVATAR_CONFIG_JSON says otherwise
# (AVATAR_CONFIG='' means the embedded defaults, as for `npm start`). Deno Deploy itself never
# reads config/local.json: its keys are published. DENO names the binary (default: the npm one).
set -e
if [ -z "${AVATAR_CONFIG+set}" ] && [ -z "${AVATAR_CONFIG_JSON:-}" ]; then
  AVATAR_CONFIG=config/local.json
  export AVATAR_CONFIG
fi
DEMO_PAGE=${DEMO_PAGE:-true}
export DEMO_PAGE
# glibc's malloc as `npm start` tunes it (README, environment table): fewer arenas, buffers of
# 128 KiB and more mapped on their own and unmapped when freed.
MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072}
MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-131072}
export MALLOC_ARENA_MAX MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_
exec "${DENO:-node_modules/@deno/linux-x64-glibc/deno}" run --v8-flags=--expose-gc --allow-net --allow-env --allow-read --allow-write=.data dist/deno/main.js
