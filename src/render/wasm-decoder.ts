/**
 * One instance at a time of wasm/jpeg_scaled.wasm (built from wasm/jpeg-scaled/: the reduced
 * JPEG decoder and the PNG decoder) or wasm/webp_rgba.wasm (wasm/webp-rgba/: still WebPs),
 * driven through their common C ABI. WebAssembly memory only grows:
 * an instance that failed (it may have stopped anywhere) or grew past KEEP_MEMORY_BYTES is
 * dropped, so the garbage collector can take its memory back and the next decode starts small.
 */
export interface DecoderExports {
  memory: WebAssembly.Memory;
  input_alloc(len: number): number;
  /** jpeg_scaled.wasm: `dropAcScans` 1 skips a progressive JPEG's AC scans at 1/8 (lib.rs); webp_rgba.wasm has no third argument. */
  decode(len: number, denominator: number, dropAcScans?: number): number;
  decode_png(len: number, denominator: number): number;
  decode_gif(len: number): number;
  decode_animated_webp(len: number): number;
  to_srgb(len: number, iccLen: number, width: number, height: number): number;
  cicp_to_srgb(len: number, primaries: number, transfer: number, width: number, height: number): number;
  fit_rgba(len: number, width: number, height: number, factor: number, targetWidth: number, targetHeight: number): number;
  fit_alpha_rgba(len: number, width: number, height: number, factor: number, targetWidth: number, targetHeight: number): number;
  jpeg_structure(len: number): number;
  output_ptr(): number;
  output_len(): number;
  output_width(): number;
  output_height(): number;
  error_ptr(): number;
  error_len(): number;
  release(): void;
}

/**
 * Past this much WebAssembly memory an instance is dropped after its decode, by default. Small
 * enough that a render thread holds little between renders (a 4 MP PNG's decoder grows to
 * ~40 MB), so threads need replacing only after the largest decodes (scheduler/pool.ts
 * `recycleAfterPixels`); 48 MB kept up to ~130 MB per thread across its decoders. A host may
 * keep more (codecs.ts `keepInstanceBytes`: the Node host's threads keep 32 MB, trading memory
 * for fewer collections and page faults: hosts/node/render-worker.ts). Only where the host can
 * collect at once (`afterDrop`): elsewhere a dropped instance waits for V8's own collection,
 * and dropping more of them raised the Deno host's first-touch peak (workers without `gc`)
 * from ~530 MB to 820–970 MB; there instances are kept up to `KEEP_MEMORY_BYTES_UNCOLLECTED`.
 */
export const KEEP_MEMORY_BYTES = 16 * 1024 * 1024;
export const KEEP_MEMORY_BYTES_UNCOLLECTED = 48 * 1024 * 1024;

/**
 * What a standalone Emscripten module (wasm/webp_rgba.wasm) imports: a notice after its memory
 * grew, which JavaScript glue would use to refresh its views (we take fresh views every call).
 * The Rust module imports nothing and ignores it.
 */
const STANDALONE_IMPORTS = { env: { emscripten_notify_memory_growth: () => {} } };

export interface WasmDecoder {
  /**
   * Copies `input` in, runs `decode`, and hands `take` the RGBA output where it lies in
   * WebAssembly memory (valid only during the call; `take` must copy or consume it).
   * Throws `name: message` when the decoder reports an error.
   */
  run<T>(input: Uint8Array | Input, decode: (ex: DecoderExports, len: number) => number, take: (rgba: Uint8Array, width: number, height: number) => T): T;
  /** Copies `input` in and returns what `inspect` returns of it: a call with no pixels out (jpeg_structure). */
  inspect(input: Uint8Array, inspect: (ex: DecoderExports, len: number) => number): number;
}

/** An input written straight into WebAssembly memory (e.g. a crop's rows), without a copy of its own first. */
export interface Input {
  length: number;
  writeTo(memory: Uint8Array): void;
}

/**
 * The instance several decoders of one module share (`sharedInstance`): each call allocates,
 * decodes and releases, so roles that run one after another (a decode, then the resize of its
 * copy) need one memory, as large as the largest of them, instead of one each. First-touch
 * probe, per render thread between renders: the JPEG decoder's, PNG decoder's and resize's
 * instances held 12–13, 7–14 and 6–14 MB, each kept up to KEEP_MEMORY_BYTES.
 */
export interface SharedInstance {
  module: WebAssembly.Module;
  current?: DecoderExports;
  /** The role whose call is running: a second role may not start inside it (its allocations would overwrite the first's). */
  running?: string;
}

export const sharedInstance = (module: WebAssembly.Module): SharedInstance => ({ module });

/**
 * `afterDrop` runs when a dropped instance's memory was large (codecs.ts `collectGarbage`);
 * an instance is dropped once its memory passes `keepBytes`. `shared`: the instance this
 * decoder shares with others of the same module (one of its own by default).
 */
export function createWasmDecoder(
  module: WebAssembly.Module,
  name: string,
  afterDrop?: () => void,
  keepBytes = afterDrop ? KEEP_MEMORY_BYTES : KEEP_MEMORY_BYTES_UNCOLLECTED,
  shared: SharedInstance = sharedInstance(module),
): WasmDecoder {
  if (shared.module !== module) throw new Error(`${name}: a shared instance must be of the same module`);
  // Set when a large instance was dropped: the collection runs once `run`'s inner frame, which
  // still holds the instance, has returned; collecting from inside it would find the instance
  // live and keep its memory (measured: +65 MB at the peak of a 16 MP JPEG's render).
  let collect = false;
  const instance = (): DecoderExports => {
    if (shared.current) return shared.current;
    const ex = new WebAssembly.Instance(module, STANDALONE_IMPORTS).exports as unknown as DecoderExports & { _initialize?: () => void };
    ex._initialize?.(); // an Emscripten standalone module's constructors (libwebp's)
    return (shared.current = ex);
  };
  const drop = (ex: DecoderExports) => {
    if (shared.current === ex) shared.current = undefined;
    // The collection is worth its pause only for a large memory; a small one goes with the next.
    if (ex.memory.buffer.byteLength > keepBytes) collect = true;
  };

  /** `input` copied into the instance, then `call`; the instance released (or dropped) after. */
  function withInput<T>(input: Uint8Array | Input, call: (ex: DecoderExports) => T): T {
    const ex = instance();
    try {
      // Pointers first, then `memory.buffer`: an allocation may grow (and so replace) the buffer.
      const at = ex.input_alloc(input.length);
      const memory = new Uint8Array(ex.memory.buffer, at, input.length);
      if (input instanceof Uint8Array) memory.set(input);
      else input.writeTo(memory);
      return call(ex);
    } catch (err) {
      // A trap may leave the instance half-way through anything: drop it. An error the decoder
      // returned is a value (its allocations were freed on the way out): the instance is kept
      // unless its memory grew past `keepBytes` (below), as after a success. Dropping it too
      // made every failed decode garbage that a host without a collector (Deno's workers) kept.
      if (err instanceof WebAssembly.RuntimeError) drop(ex);
      throw err;
    } finally {
      const kept = shared.current;
      if (kept) {
        kept.release();
        if (kept.memory.buffer.byteLength > keepBytes) drop(kept);
      }
    }
  }

  function runOnce<T>(input: Uint8Array | Input, decode: (ex: DecoderExports, len: number) => number, take: (rgba: Uint8Array, width: number, height: number) => T): T {
    return withInput(input, (ex) => {
      if (decode(ex, input.length) !== 0) {
        const [ptr, len] = [ex.error_ptr(), ex.error_len()];
        throw new Error(`${name}: ${new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ptr, len))}`);
      }
      const [width, height, ptr, len] = [ex.output_width(), ex.output_height(), ex.output_ptr(), ex.output_len()];
      if (len !== width * height * 4) throw new Error(`${name}: ${len} bytes for ${width}×${height}`);
      return take(new Uint8Array(ex.memory.buffer, ptr, len), width, height);
    });
  }

  /** One call at a time in the shared instance; a large dropped instance collected after it. */
  function exclusive<T>(call: () => T): T {
    if (shared.running !== undefined) throw new Error(`${name}: called while ${shared.running} runs in the instance they share`);
    shared.running = name;
    try {
      return call();
    } finally {
      shared.running = undefined;
      if (collect) {
        collect = false;
        afterDrop?.();
      }
    }
  }

  return {
    run: (input, decode, take) => exclusive(() => runOnce(input, decode, take)),
    inspect: (input, inspect) => exclusive(() => withInput(input, (ex) => inspect(ex, input.length))),
  };
}
