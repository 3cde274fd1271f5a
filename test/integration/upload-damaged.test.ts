/**
 * Uploads of damaged and oversized originals, as a client sends them: refused with 422 and a
 * message that says why, nothing stored; the intact file is accepted.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../src/core/storage-keys.js';
import { startTestHost } from '../support/node-host.js';

const TOKEN = 'upload-token-for-damaged-tests-0123456789';
const sample = async (name: string) => new Uint8Array(await readFile(new URL(`../../samples/demo/${name}`, import.meta.url)));

describe('PUT /_upload/{tenant}/{id} with damaged or oversized originals', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  beforeAll(async () => {
    host = await startTestHost({ tenants: { demo: { uploadTokens: { app: TOKEN } } } });
  });
  afterAll(() => host?.stop());

  const put = (id: string, body: Uint8Array) => fetch(`${host.url}/_upload/demo/${id}`, { method: 'PUT', body: body as BodyInit, headers: { authorization: `Bearer ${TOKEN}` } });

  it('a JPEG cut to a quarter of its bytes is 422 DECODE_FAILED with a message; the whole file is 201', async () => {
    for (const name of ['free.jpg', 'seeding.jpg', 'hopper.jpg']) {
      const jpeg = await sample(name);
      const cut = await put(`cut-${name}`, jpeg.subarray(0, Math.floor(jpeg.length / 4)));
      const body = await cut.json();
      expect([cut.status, body.code], name).toEqual([422, 'DECODE_FAILED']);
      expect(body.message, name).toMatch(/JPEG is corrupt: truncated/);
      expect(cut.headers.get('cache-control')).toBe('no-store');
      expect(await host.store.head(originalKey('demo', `cut-${name}`))).toBeNull();
    }
    const whole = await put('whole', await sample('free.jpg'));
    expect(whole.status).toBe(201);
    expect(await whole.json()).toMatchObject({ format: 'jpeg', width: 2880, height: 2160, failed: 0 });
  });

  it('a progressive JPEG of a few hundred scans is refused before decoding', async () => {
    const jpeg = new Uint8Array(
      await sharp(await sample('hopper.jpg'))
        .jpeg({ progressive: true })
        .toBuffer(),
    );
    // Repeat the last scan (a refinement scan: each repeat passes over the whole image again).
    const sos = Buffer.from(jpeg).lastIndexOf(Buffer.from([0xff, 0xda])); // FF DA never occurs inside entropy-coded data
    const eoi = jpeg.length - 2;
    const scan = jpeg.subarray(sos, eoi);
    const many = new Uint8Array(sos + scan.length * 300 + 2);
    many.set(jpeg.subarray(0, sos));
    for (let i = 0; i < 300; i++) many.set(scan, sos + i * scan.length);
    many.set([0xff, 0xd9], many.length - 2);
    const res = await put('many-scans', many);
    const body = await res.json();
    expect([res.status, body.code]).toEqual([422, 'DECODE_FAILED']);
    expect(body.message).toMatch(/more than 100 scans/);
  });

  it('a PNG whose pixel data is cut short inside valid chunks, and an interlaced PNG too large to decode in the budget, are 422; the same PNG not interlaced decodes at 1/8 and is stored', async () => {
    const png = await sample('plant.png');
    // Every chunk keeps a valid CRC: the cut is inside the zlib stream.
    const idat = Buffer.from(png).indexOf('IDAT') - 4;
    const len = new DataView(png.buffer, png.byteOffset).getUint32(idat);
    const short = Math.floor(len / 2);
    const chunk = Buffer.alloc(12 + short);
    chunk.writeUInt32BE(short, 0);
    chunk.set(png.subarray(idat + 4, idat + 8 + short), 4);
    const { crc32 } = await import('node:zlib');
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + short)), 8 + short);
    const iend = png.subarray(png.length - 12);
    const cut = await put('cut-png', Buffer.concat([png.subarray(0, idat), chunk, iend]));
    expect([cut.status, (await cut.json()).code]).toEqual([422, 'DECODE_FAILED']);

    const big = (interlaced: boolean) =>
      sharp({ create: { width: 7000, height: 7000, channels: 3, background: '#2878c8' } })
        .png({ progressive: interlaced })
        .toBuffer();
    const res = await put('big-png', new Uint8Array(await big(true)));
    const body = await res.json();
    expect([res.status, body.code]).toEqual([422, 'SOURCE_TOO_LARGE']);
    expect(body.message).toMatch(/PNG sources decode at full size and may have at most \d+ pixels/);
    // Not interlaced, its rows are averaged into a 1/8 image as they are decoded: within the budget.
    const flat = await put('big-png-flat', new Uint8Array(await big(false)));
    expect(flat.status).toBe(201);
  }, 120_000);
});
