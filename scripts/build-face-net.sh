#!/bin/sh
# Builds wasm/face_net.wasm (the face detector's network, src/render/focal/face-net.ts) from
# wasm/face-net/ and records its sha256 in wasm/manifest.json. The binary is committed, so
# neither `npm start` nor CI needs Rust; run this only after changing the crate.
# Needs: cargo and the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).
set -eu
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
# SIMD: every kernel is written with WebAssembly SIMD (f32x4); Node ≥ 16 and Deno run it.
exec sh "$(dirname "$0")/build-rust-wasm.sh" face-net face_net
