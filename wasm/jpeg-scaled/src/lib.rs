//! A C ABI over `jpeg_decoder` and `png` for two callers, src/render/jpeg-scaled.ts and
//! src/render/png-decoder.ts:
//!
//! 1. `input_alloc(len)` → pointer; the caller copies the JPEG or PNG there.
//! 2. `decode(len, denominator, drop_ac_scans)` decodes a JPEG at 1/denominator scale (1, 2, 4
//!    or 8: the IDCT itself runs at 8×8, 4×4, 2×2 or 1×1) to RGBA, ⌈width/d⌉ × ⌈height/d⌉, at
//!    1/8 without a progressive file's AC scans unless `drop_ac_scans` is 0 (jpeg_structure.rs); `decode_png(len)`
//!    decodes a PNG to 8-bit RGBA at full size, `decode_gif(len)` a GIF's first frame,
//!    `decode_animated_webp(len)` an animated WebP's first frame. 0 on success.
//!    `to_srgb(len, icc_len, width, height)` converts pixels decoded elsewhere (mozjpeg, libwebp)
//!    to sRGB: the input is width × height RGBA followed by the ICC profile (`icc_len` bytes),
//!    converted where it lies (the input's buffer becomes the output: no copy of the image).
//!    Both decoders here convert by the file's own ICC profile themselves (colour.rs).
//!    `cicp_to_srgb(len, primaries, transfer, width, height)` does the same for an AVIF whose
//!    colour is named by CICP codes only.
//!    `anim_open(len)`, then `anim_next()` per frame, walk every frame of an animated GIF or
//!    WebP composited on its canvas (animation.rs); the caller drops the instance after.
//!    `jpeg_structure(len)` walks a JPEG's markers to its end without decoding and returns
//!    what is wrong with them (jpeg_structure.rs; 0 when sound): no output.
//! 3. `output_ptr/len/width/height` describe the pixels; `error_ptr/len` the last failure.
//! 4. `release()` frees input and output.
//!
//! Every failure is a returned error, not a trap, and all memory is owned by this instance, so
//! a caller that drops the instance after a failure gets all of it back (wasm-bindgen's PNG
//! decoder in @jsquash/png throws out of WebAssembly and keeps what it allocated).
//!
//! One decode at a time per instance (the caller is single-threaded). A panic aborts (a
//! WebAssembly trap in the caller, which then replaces the instance).

use jpeg_decoder::{Decoder, PixelFormat};

mod alpha_lanczos;
mod animation;
mod colour;
mod fit;
mod gif_rgba;
mod jpeg_structure;
mod png_rgba;
mod webp_first_frame;

static mut INPUT: Vec<u8> = Vec::new();
static mut OUTPUT: Vec<u8> = Vec::new();
static mut SIZE: (u32, u32) = (0, 0);
static mut ERROR: String = String::new();
static mut ANIMATION: Option<animation::Animation> = None;

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn input_alloc(len: usize) -> *mut u8 {
    unsafe {
        // Not zeroed: the caller writes all `len` bytes before any call reads them (wasm-decoder.ts
        // `withInput`), and zeroing a source first cost as much as copying it in.
        INPUT = Vec::with_capacity(len);
        INPUT.set_len(len);
        INPUT.as_mut_ptr()
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn release() {
    unsafe {
        INPUT = Vec::new();
        OUTPUT = Vec::new();
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn output_ptr() -> *const u8 {
    unsafe { OUTPUT.as_ptr() }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn output_len() -> usize {
    unsafe { OUTPUT.len() }
}

#[no_mangle]
pub extern "C" fn output_width() -> u32 {
    unsafe { SIZE.0 }
}

#[no_mangle]
pub extern "C" fn output_height() -> u32 {
    unsafe { SIZE.1 }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn error_ptr() -> *const u8 {
    unsafe { ERROR.as_ptr() }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn error_len() -> usize {
    unsafe { ERROR.len() }
}

/// The JPEG in the input's first `len` bytes walked from marker to marker to its end, no
/// decoding (jpeg_structure.rs): 0 when sound, else what is wrong (jpeg_structure.rs codes).
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn jpeg_structure(len: usize) -> u32 {
    unsafe { jpeg_structure::problem(&INPUT[..len.min(INPUT.len())]) }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn decode(len: usize, denominator: u32, drop_ac_scans: u32) -> u32 {
    unsafe {
        let mut len = len.min(INPUT.len());
        // At 1/8 only the DC coefficients count: a progressive file's AC scans need not be read.
        if drop_ac_scans != 0 && denominator == 8 {
            len = jpeg_structure::without_ac_scans(&mut INPUT[..len]);
        }
        finish(decode_rgba(&INPUT[..len], denominator))
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn decode_png(len: usize, denominator: u32) -> u32 {
    finish(unsafe { png_rgba::decode_scaled(&INPUT[..len.min(INPUT.len())], denominator) })
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn decode_gif(len: usize) -> u32 {
    finish(unsafe { gif_rgba::decode(&INPUT[..len.min(INPUT.len())]) })
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn decode_animated_webp(len: usize) -> u32 {
    finish(unsafe { webp_first_frame::decode(&INPUT[..len.min(INPUT.len())]) })
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn to_srgb(len: usize, icc_len: usize, width: u32, height: u32) -> u32 {
    finish(unsafe { convert(&mut INPUT, len, icc_len, width, height) })
}

/// Converts width × height RGBA decoded from an AVIF whose only colour information is CICP
/// (`primaries`, `transfer`: H.273 codes) to sRGB (colour.rs `cicp_profile`); pixels it does
/// not apply to come back unchanged.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn cicp_to_srgb(len: usize, primaries: u32, transfer: u32, width: u32, height: u32) -> u32 {
    finish(unsafe { convert_cicp(&mut INPUT, len, primaries, transfer, width, height) })
}

/// The input's first `len` bytes are width × height RGBA: converted where they lie, the
/// input's buffer becoming the output.
fn convert_cicp(input: &mut Vec<u8>, len: usize, primaries: u32, transfer: u32, width: u32, height: u32) -> Result<(u32, u32, Vec<u8>), String> {
    let len = len.min(input.len());
    if len != (width as usize) * (height as usize) * 4 {
        return Err(format!("{len} bytes is not {width}×{height} RGBA"));
    }
    let mut rgba = core::mem::take(input);
    rgba.truncate(len);
    if let Some(profile) = colour::cicp_profile(primaries.min(255) as u8, transfer.min(255) as u8) {
        colour::profile_to_srgb(&profile, &mut rgba)?;
    }
    Ok((width, height, rgba))
}

/// Opens an animated GIF or WebP for `anim_next` (animation.rs); the input moves into the
/// decoder. 0 on success, with `output_width/height` the canvas size.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn anim_open(len: usize) -> u32 {
    unsafe {
        ANIMATION = None;
        let mut data = std::mem::take(&mut INPUT);
        data.truncate(len);
        match animation::Animation::open(data) {
            Ok(a) => {
                SIZE = a.size();
                ANIMATION = Some(a);
                ERROR.clear();
                0
            }
            Err(message) => {
                ERROR = message;
                1
            }
        }
    }
}

/// Composites the next frame: 0 when one is on the canvas (`anim_canvas_ptr`, canvas size ×
/// 4 bytes; `anim_delay_ms`), 2 when there are no more, 1 on an error.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn anim_next() -> u32 {
    unsafe {
        let Some(a) = ANIMATION.as_mut() else {
            ERROR = "no animation open".into();
            return 1;
        };
        match a.next() {
            Ok(true) => 0,
            Ok(false) => 2,
            Err(message) => {
                ERROR = message;
                1
            }
        }
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn anim_canvas_ptr() -> *const u8 {
    unsafe { ANIMATION.as_ref().map_or(std::ptr::null(), |a| a.canvas().as_ptr()) }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn anim_delay_ms() -> u32 {
    unsafe { ANIMATION.as_ref().map_or(0, |a| a.delay_ms) }
}

/// WebP's loop count (0: forever); for a GIF, known once the frames before its NETSCAPE block are read.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn anim_loop_count() -> u32 {
    unsafe { ANIMATION.as_ref().map_or(0, |a| a.loop_count()) }
}

/// The resize stage of opaque images (fit.rs): the input is `width`×`height` RGBA of the region to fit.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn fit_rgba(len: usize, width: u32, height: u32, factor: u32, target_width: u32, target_height: u32) -> u32 {
    finish(unsafe { fit::fit(&INPUT[..len.min(INPUT.len())], width, height, factor, target_width, target_height) })
}

/// The resize stage of images with alpha (fit.rs `fit_alpha`): the input is the crop region's `width`×`height` RGBA.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn fit_alpha_rgba(len: usize, width: u32, height: u32, factor: u32, target_width: u32, target_height: u32) -> u32 {
    finish(unsafe { fit::fit_alpha(&INPUT[..len.min(INPUT.len())], width, height, factor, target_width, target_height) })
}

/// The input's first `len` bytes are width × height RGBA followed by an `icc_len`-byte
/// profile: the pixels are converted where they lie and the input's buffer becomes the output
/// (a copy of the image here grew the instance by its size for every converted render).
fn convert(input: &mut Vec<u8>, len: usize, icc_len: usize, width: u32, height: u32) -> Result<(u32, u32, Vec<u8>), String> {
    let size = (width as usize) * (height as usize) * 4;
    let len = len.min(input.len());
    if icc_len > len || len - icc_len != size {
        return Err(format!("{len} bytes is not {width}×{height} RGBA and a {icc_len}-byte profile"));
    }
    let (pixels, icc) = input[..len].split_at_mut(size);
    colour::rgba_to_srgb(icc, pixels)?;
    let mut rgba = core::mem::take(input);
    rgba.truncate(size);
    Ok((width, height, rgba))
}

#[allow(static_mut_refs)]
fn finish(result: Result<(u32, u32, Vec<u8>), String>) -> u32 {
    unsafe {
        match result {
            Ok((width, height, rgba)) => {
                OUTPUT = rgba;
                SIZE = (width, height);
                ERROR.clear();
                0
            }
            Err(message) => {
                OUTPUT = Vec::new();
                SIZE = (0, 0);
                ERROR = message;
                1
            }
        }
    }
}

fn decode_rgba(data: &[u8], denominator: u32) -> Result<(u32, u32, Vec<u8>), String> {
    if ![1, 2, 4, 8].contains(&denominator) {
        return Err(format!("scale denominator {denominator} is not 1, 2, 4 or 8"));
    }
    let mut decoder = Decoder::new(data);
    decoder.read_info().map_err(|e| e.to_string())?;
    let full = decoder.info().ok_or("no frame header")?;
    // `scale` picks the smallest IDCT size whose output reaches the request: ⌈side/d⌉ is exactly 1/d.
    let reduced = |side: u16| ((side as u32 + denominator - 1) / denominator) as u16;
    let (width, height) = decoder.scale(reduced(full.width), reduced(full.height)).map_err(|e| e.to_string())?;
    let mut pixels = decoder.decode().map_err(|e| e.to_string())?;
    let format = decoder.info().ok_or("no frame header")?.pixel_format;
    let icc = decoder.icc_profile();
    // The decoder holds the coefficients (for a progressive file, two bytes per sample of the
    // whole image): free them before the RGBA buffer is made, so that memory is reused.
    drop(decoder);
    let count = width as usize * height as usize;
    if format == PixelFormat::CMYK32 {
        // The decoder has undone Adobe's inversion and YCCK: these are ink amounts.
        if pixels.len() != count * 4 {
            return Err(format!("decoder returned {} bytes for {width}×{height}", pixels.len()));
        }
        colour::cmyk_to_srgb(icc.as_deref(), &mut pixels)?;
        return Ok((width as u32, height as u32, pixels));
    }
    let channels = match format {
        PixelFormat::RGB24 => 3,
        PixelFormat::L8 => 1,
        other => return Err(format!("unsupported pixel format {other:?}")),
    };
    if pixels.len() != count * channels {
        return Err(format!("decoder returned {} bytes for {width}×{height}", pixels.len()));
    }
    // Widen to RGBA in place, last pixel first, so no second image-sized buffer exists. Exactly
    // 4 bytes a pixel: `resize` alone doubled the capacity (6 bytes a pixel, measured).
    pixels.try_reserve_exact(count * 4 - pixels.len()).map_err(|_| format!("cannot allocate {} bytes for {width}×{height}", count * 4))?;
    pixels.resize(count * 4, 255);
    for i in (0..count).rev() {
        let (r, g, b) = if channels == 3 {
            (pixels[i * 3], pixels[i * 3 + 1], pixels[i * 3 + 2])
        } else {
            (pixels[i], pixels[i], pixels[i])
        };
        pixels[i * 4..i * 4 + 4].copy_from_slice(&[r, g, b, 255]);
    }
    if let Some(icc) = icc {
        colour::rgba_to_srgb(&icc, &mut pixels)?;
    }
    Ok((width as u32, height as u32, pixels))
}
