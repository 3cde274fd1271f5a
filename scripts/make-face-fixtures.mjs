#!/usr/bin/env node
// Builds the labelled face-crop set in test/fixtures/faces/ from three real portraits, with
// sharp (deterministic: same inputs, same bytes): off-centre cases by padding a portrait with
// its own edge colour, a group by composing two, rotated EXIF, and photos without faces.
// Face boxes are hand-drawn on the source portraits and moved with each transform; they are
// written to faces.json next to the images. Run: node scripts/make-face-fixtures.mjs
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

const ROOT = new URL('../', import.meta.url).pathname;
const OUT = `${ROOT}test/fixtures/faces/`;
// Hand-drawn boxes (forehead to chin, ear to ear) in the 512×512 sources.
const SOURCES = {
  hopper: { file: `${ROOT}samples/demo/hopper.jpg`, face: { x: 168, y: 118, width: 195, height: 200 }, bg: { r: 60, g: 120, b: 200 } },
  astronaut: { file: `${ROOT}samples/demo/astronaut.png`, face: { x: 170, y: 60, width: 105, height: 125 }, bg: { r: 200, g: 200, b: 200 } },
  camera: { file: `${OUT}camera-src.png`, face: { x: 178, y: 95, width: 80, height: 105 }, bg: { r: 200, g: 200, b: 200 } },
};

const cases = [];
async function save(name, img, faces, note) {
  const file = `${name}.jpg`;
  await img.jpeg({ quality: 90 }).toFile(OUT + file);
  cases.push({ file, faces, note });
}
const shift = (b, dx, dy) => ({ ...b, x: b.x + dx, y: b.y + dy });

for (const [name, s] of Object.entries(SOURCES)) {
  const pad = (p) =>
    sharp(s.file)
      .removeAlpha()
      .extend({ top: 0, bottom: 0, left: 0, right: 0, ...p, background: s.bg });
  await save(`${name}-left`, pad({ right: 512 }), [s.face], 'face on the left of a 2:1 landscape');
  await save(`${name}-right`, pad({ left: 512 }), [shift(s.face, 512, 0)], 'face on the right of a 2:1 landscape');
  await save(`${name}-top`, pad({ bottom: 512 }), [s.face], 'face at the top of a 1:2 portrait');
}
// Crops of the real photos (no padding): hopper 512×256 strip with the face at the top, camera's left third wide.
await save(
  'hopper-strip',
  sharp(SOURCES.hopper.file).extract({ left: 0, top: 100, width: 512, height: 256 }).resize(1024, 512),
  [{ x: 336, y: 36, width: 390, height: 400 }],
  'a 2:1 crop of the portrait, enlarged; the face right of centre',
);

// Rotated EXIF: the stored pixels are turned 90° counter-clockwise and tagged orientation 6
// (rotate 90° clockwise to show), so viewers see hopper-left; the box is in the shown image.
const hopperLeft = await sharp(SOURCES.hopper.file).extend({ right: 512, background: SOURCES.hopper.bg }).toBuffer();
await save('hopper-left-exif6', sharp(await sharp(hopperLeft).rotate(-90).toBuffer()).withMetadata({ orientation: 6 }), [SOURCES.hopper.face], 'hopper-left stored rotated, EXIF orientation 6');

// A group: hopper and the astronaut side by side on a wide canvas, both faces off the centre.
const astro = await sharp(SOURCES.astronaut.file).removeAlpha().toBuffer();
const hop = await sharp(SOURCES.hopper.file).toBuffer();
await save(
  'group',
  sharp({ create: { width: 1536, height: 512, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite([
    { input: hop, left: 0, top: 0 },
    { input: astro, left: 384, top: 0 },
  ]),
  [SOURCES.hopper.face, shift(SOURCES.astronaut.face, 384, 0)],
  'two portraits composed side by side (the astronaut covers hopper’s right edge)',
);

// No face: real photos of a plant and a landscape.
await save('plant-noface', sharp(`${ROOT}samples/demo/plant.png`).flatten({ background: '#ffffff' }), [], 'no face (plant)');
await save('seeding-noface', sharp(`${ROOT}samples/demo/seeding.jpg`).resize(1024), [], 'no face (landscape)');

await writeFile(`${OUT}faces.json`, JSON.stringify({ boxes: 'x, y, width, height in the displayed (EXIF-oriented) image', cases }, null, 2) + '\n');
console.log(`${cases.length} cases written to ${OUT}`);
