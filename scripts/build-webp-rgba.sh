#!/bin/sh
# Builds wasm/webp_rgba.wasm (still WebP decoding with SIMD and shrink-on-load,
# src/render/codecs.ts) from wasm/webp-rgba/webp_rgba.c and libwebp, and records its sha256 in
# wasm/manifest.json. The binary is committed, so neither `npm start` nor CI needs this.
# Needs: emcc (Debian: `apt-get install emscripten`, 3.1.6), curl, sha256sum, tar.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
# libwebp 1.6.0, as vendored verbatim by the libwebp-sys crate (crates.io is reachable where
# Google's own download site may not be); the crate's sha256 pins the sources.
CRATE=libwebp-sys-0.14.4
SHA256=6b3a87b44e34d17161e4f17d92a463d596cb13825dcd1758ed18fd3a721e189c
WORK=wasm/webp-rgba/target
mkdir -p "$WORK"
if [ ! -d "$WORK/$CRATE" ]; then
  curl -fsSL -o "$WORK/$CRATE.crate" "https://static.crates.io/crates/libwebp-sys/$CRATE.crate"
  echo "$SHA256  $WORK/$CRATE.crate" | sha256sum -c --quiet
  tar -xzf "$WORK/$CRATE.crate" -C "$WORK"
fi
V="$WORK/$CRATE/vendor"
# The decoder's sources only: no encoder, no NEON/MSA/MIPS/AVX2 variants.
SRCS=$(ls "$V"/src/dec/*.c "$V"/src/utils/*.c "$V"/src/dsp/*.c |
  grep -v -E '_(neon|msa|mips32|mips_dsp_r2|avx2)\.c$' |
  grep -v -E 'dsp/(enc|cost|lossless_enc|ssim)|utils/(bit_writer|huffman_encode|quant_levels_utils)')
# -msse2/-msse4.1 with -msimd128: libwebp's SSE paths compiled to WebAssembly SIMD (its cpu.c
# reports them present under Emscripten). Standalone: no JavaScript glue; the only import is
# Emscripten's memory-growth notice, and `_initialize` runs the constructors.
# shellcheck disable=SC2086
emcc -O3 -flto -msimd128 -msse2 -msse4.1 -DNDEBUG -I"$V" -I"$V/src" \
  -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=1MB -sTOTAL_STACK=256KB \
  -sFILESYSTEM=0 -sERROR_ON_UNDEFINED_SYMBOLS=1 --no-entry \
  -sEXPORTED_FUNCTIONS=_input_alloc,_decode,_output_ptr,_output_len,_output_width,_output_height,_error_ptr,_error_len,_release \
  wasm/webp-rgba/webp_rgba.c $SRCS -o wasm/webp_rgba.wasm
node scripts/copy-wasm.mjs --record-built
