#!/bin/sh
# Builds wasm/jpeg_scaled.wasm (the reduced-size JPEG decoder, src/render/jpeg-scaled.ts) from
# wasm/jpeg-scaled/ and records its sha256 in wasm/manifest.json. The binary is committed, so
# neither `npm start` nor CI needs Rust; run this only after changing the crate.
# Needs: cargo and the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).
set -eu
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
# SIMD: the IDCT and colour conversion vectorise (~1.3× faster); Node ≥ 16 and Deno run it.
exec sh "$(dirname "$0")/build-rust-wasm.sh" jpeg-scaled jpeg_scaled
