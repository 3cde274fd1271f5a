/**
 * Node 20 and Deno have no `ImageData`; the codecs construct and accept it. Some jsquash glue
 * installs its own stand-in, but only on the hosts it recognises (not Deno), so install one here,
 * and only when the host has none.
 */
class ImageDataPolyfill {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly colorSpace = 'srgb' as const;

  constructor(data: Uint8ClampedArray, width: number, height?: number) {
    this.data = data;
    this.width = width;
    this.height = height ?? data.length / 4 / width;
  }
}

export function installImageDataPolyfill(): void {
  if (typeof globalThis.ImageData === 'undefined') {
    (globalThis as { ImageData?: unknown }).ImageData = ImageDataPolyfill;
  }
}

let lenient: boolean | undefined;

/**
 * Whether `ImageData` is a stand-in (this module's or jsquash's) that takes any array whatever
 * its length; a native one refuses pixels that do not match its size.
 */
export function imageDataAcceptsAnyPixels(): boolean {
  if (lenient === undefined) {
    installImageDataPolyfill();
    try {
      new ImageData(new Uint8ClampedArray(0) as Uint8ClampedArray<ArrayBuffer>, 1, 1);
      lenient = true;
    } catch {
      lenient = false;
    }
  }
  return lenient;
}

/**
 * Wraps RGBA pixels as ImageData. The resize and PNG codecs read `data.buffer` whole, so the
 * pixels must own their buffer: views into a larger one are copied.
 */
export function toImageData(data: Uint8ClampedArray, width: number, height: number): ImageData {
  installImageDataPolyfill();
  const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  return new ImageData(own as Uint8ClampedArray<ArrayBuffer>, width, height);
}

export function blankImage(width: number, height: number): ImageData {
  return toImageData(new Uint8ClampedArray(width * height * 4), width, height);
}
