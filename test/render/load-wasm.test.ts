import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WASM_DIR, loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { CODEC_KEYS } from '../../src/render/codec-modules.js';

const dirs: string[] = [];
function copyOfWasmDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-'));
  dirs.push(dir);
  cpSync(DEFAULT_WASM_DIR, dir, { recursive: true });
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadCodecModules (Node host)', () => {
  it('compiles every codec from the committed wasm/ directory', async () => {
    const modules = await loadCodecModules();
    for (const k of CODEC_KEYS) expect(modules[k]).toBeInstanceOf(WebAssembly.Module);
  });

  it('refuses a binary whose sha256 does not match the manifest', async () => {
    const dir = copyOfWasmDir();
    const file = join(dir, 'mozjpeg_dec.wasm');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    writeFileSync(file, bytes);
    await expect(loadCodecModules(dir)).rejects.toThrow(/mozjpeg_dec\.wasm: sha256 .* does not match the manifest/);
  });

  it('refuses binaries copied from another version of the package', async () => {
    const dir = copyOfWasmDir();
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    manifest.files.jpegDec.version = '0.0.1';
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(loadCodecModules(dir)).rejects.toThrow(/@jsquash\/jpeg 0\.0\.1 but .* is installed/);
  });

  it('says how to fix a missing manifest', async () => {
    const dir = copyOfWasmDir();
    rmSync(join(dir, 'manifest.json'));
    await expect(loadCodecModules(dir)).rejects.toThrow(/manifest\.json.*npm run wasm:copy/);
  });
});
