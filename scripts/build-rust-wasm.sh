#!/bin/sh
# Builds one of this repository's Rust crates under wasm/ into wasm/<name>.wasm (wasm32, with
# WebAssembly SIMD) and records its sha256 in wasm/manifest.json. Run through its own script
# (build-jpeg-scaled.sh, build-face-net.sh): sh scripts/build-rust-wasm.sh <crate folder> <name>
# Needs: cargo and the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).
set -eu
cd "$(dirname "$0")/.."
if [ "$#" -ne 2 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  [ "$#" -eq 2 ] || [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]
  exit $?
fi
RUSTFLAGS="-C target-feature=+simd128" cargo build --locked --release \
  --manifest-path "wasm/$1/Cargo.toml" --target wasm32-unknown-unknown \
  --target-dir "wasm/$1/target"
cp "wasm/$1/target/wasm32-unknown-unknown/release/$2.wasm" "wasm/$2.wasm"
node scripts/copy-wasm.mjs --record-built
