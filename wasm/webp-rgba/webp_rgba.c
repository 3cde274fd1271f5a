/*
 * Still WebP → RGBA with libwebp, built for WebAssembly with SIMD (scripts/build-webp-rgba.sh;
 * libwebp's SSE2/SSE4.1 code paths, which Emscripten maps onto WebAssembly SIMD128), behind the
 * same C ABI as wasm/jpeg-scaled (src/render/wasm-decoder.ts drives both):
 *
 * 1. `input_alloc(len)` → pointer; the caller copies the WebP there.
 * 2. `decode(len, denominator)` decodes it to RGBA, ⌈width/d⌉ × ⌈height/d⌉: at d > 1 libwebp's
 *    own rescaler shrinks each row as it is decoded (area averaging), so the full-size image
 *    never exists (the source's shrink-on-load, as the JPEG decoder's reduced IDCT). 0 on success.
 * 3. `output_ptr/len/width/height` describe the pixels; `error_ptr/len` the last failure.
 * 4. `release()` frees input and output.
 *
 * Every failure is a returned error (libwebp returns a status, never aborts) and every
 * allocation is freed on the way out, so an instance that failed can be kept. @jsquash/webp's
 * decoder is the same libwebp built without SIMD: the lossy path here takes about half its time.
 * Animated WebPs are refused: src/render/codecs.ts sends them to the animation decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webp/decode.h"

#define EXPORT __attribute__((visibility("default"), used))

static uint8_t* input = NULL;
static uint8_t* output = NULL;
static uint32_t out_len = 0, out_w = 0, out_h = 0;
static const char* error_msg = "";

static void free_output(void) {
  free(output);
  output = NULL;
  out_len = out_w = out_h = 0;
}

static int fail(const char* msg) {
  error_msg = msg;
  return 1;
}

EXPORT uint8_t* input_alloc(uint32_t len) {
  free(input);
  input = (uint8_t*)malloc(len ? len : 1);
  return input;
}

static const char* status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_NOT_ENOUGH_DATA: return "the WebP data ends early";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "the WebP uses a feature this decoder does not support";
    default: return "the WebP data is corrupt";
  }
}

EXPORT int decode(uint32_t len, uint32_t denominator) {
  free_output();
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return fail("libwebp version mismatch");
  VP8StatusCode status = WebPGetFeatures(input, len, &config.input);
  if (status != VP8_STATUS_OK) return fail(status_text(status));
  if (config.input.has_animation) return fail("an animated WebP (this decoder reads stills)");
  const uint32_t d = denominator >= 1 ? denominator : 1;
  const uint32_t w = (uint32_t)config.input.width, h = (uint32_t)config.input.height;
  const uint32_t sw = (w + d - 1) / d, sh = (h + d - 1) / d;
  if (d > 1) {
    config.options.use_scaling = 1;
    config.options.scaled_width = (int)sw;
    config.options.scaled_height = (int)sh;
  }
  const size_t stride = (size_t)sw * 4, size = stride * sh;
  output = (uint8_t*)malloc(size);
  if (!output) return fail("out of memory");
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = output;
  config.output.u.RGBA.stride = (int)stride;
  config.output.u.RGBA.size = size;
  status = WebPDecode(input, len, &config);
  WebPFreeDecBuffer(&config.output);  // frees nothing of ours (external memory), only libwebp's
  free(input);
  input = NULL;
  if (status != VP8_STATUS_OK) {
    free_output();
    return fail(status_text(status));
  }
  out_w = sw;
  out_h = sh;
  out_len = (uint32_t)size;
  return 0;
}

EXPORT uint8_t* output_ptr(void) { return output; }
EXPORT uint32_t output_len(void) { return out_len; }
EXPORT uint32_t output_width(void) { return out_w; }
EXPORT uint32_t output_height(void) { return out_h; }
EXPORT const char* error_ptr(void) { return error_msg; }
EXPORT uint32_t error_len(void) { return (uint32_t)strlen(error_msg); }

EXPORT void release(void) {
  free(input);
  input = NULL;
  free_output();
}
