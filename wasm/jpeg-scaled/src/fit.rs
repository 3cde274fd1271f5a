//! The resize stage of opaque images in one call (src/render/codecs.ts `resize`): RGBA of the
//! crop region in, box pre-shrink by an integer factor, then lanczos3 to the exact target, in
//! sRGB space. fast_image_resize's convolutions, with its WebAssembly SIMD kernels: the squoosh
//! resizer they replace spent 50 ms on an 800² → 512² lanczos3 that this does in a few, and the
//! pre-shrink ran in JavaScript. Images with alpha (`fit_alpha`) are premultiplied in floating
//! point and resized as four f32 channels: fast_image_resize's own 8-bit premultiply clamps
//! lanczos3's alpha overshoot before dividing, which tints opaque pixels at an edge
//! (test/render/alpha-edge.test.ts).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Both fits' arguments: non-empty sizes, and `input` exactly `width`×`height` RGBA.
fn check_sizes(input: &[u8], width: u32, height: u32, target_width: u32, target_height: u32) -> Result<(), String> {
    if width == 0 || height == 0 || target_width == 0 || target_height == 0 {
        return Err(format!("cannot resize {width}×{height} to {target_width}×{target_height}"));
    }
    if input.len() != width as usize * height as usize * 4 {
        return Err(format!("{} bytes is not {width}×{height} RGBA", input.len()));
    }
    Ok(())
}

/// The box pre-shrink of a `width`×`height` region by `factor`: its output size and where its
/// first block starts, the region trimmed symmetrically to a multiple of the factor (as
/// src/render/pre-shrink.ts trims it); None when the factor is below 2 or leaves nothing.
pub(crate) struct BoxGrid {
    pub width: u32,
    pub height: u32,
    pub x0: u32,
    pub y0: u32,
}

pub(crate) fn box_grid(width: u32, height: u32, factor: u32) -> Option<BoxGrid> {
    if factor < 2 || width / factor == 0 || height / factor == 0 {
        return None;
    }
    let (ow, oh) = (width / factor, height / factor);
    Some(BoxGrid { width: ow, height: oh, x0: (width - ow * factor) / 2, y0: (height - oh * factor) / 2 })
}

/// `input` is `width`×`height` RGBA, every alpha 255. `factor` ≥ 2 box-shrinks first to ⌊width/factor⌋ ×
/// ⌊height/factor⌋ (the region trimmed symmetrically to a multiple of the factor, as
/// src/render/pre-shrink.ts does); then lanczos3 to `target_width`×`target_height`.
pub fn fit(input: &[u8], width: u32, height: u32, factor: u32, target_width: u32, target_height: u32) -> Result<(u32, u32, Vec<u8>), String> {
    check_sizes(input, width, height, target_width, target_height)?;
    let src = ImageRef::new(width, height, input, PixelType::U8x4).map_err(|e| e.to_string())?;
    let mut resizer = Resizer::new();
    let shrunk = if let Some(BoxGrid { width: ow, height: oh, x0, y0 }) = box_grid(width, height, factor) {
        let mut out = Image::new(ow, oh, PixelType::U8x4);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Box))
            .crop(x0 as f64, y0 as f64, (ow * factor) as f64, (oh * factor) as f64)
            .use_alpha(false);
        resizer.resize(&src, &mut out, &options).map_err(|e| e.to_string())?;
        Some(out)
    } else {
        None
    };
    let (sw, sh) = shrunk.as_ref().map_or((width, height), |s| (s.width(), s.height()));
    if sw == target_width && sh == target_height {
        let pixels = match shrunk {
            Some(s) => s.into_vec(),
            None => input.to_vec(),
        };
        return Ok((sw, sh, pixels));
    }
    let mut dst = Image::new(target_width, target_height, PixelType::U8x4);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)).use_alpha(false);
    match &shrunk {
        Some(s) => resizer.resize(s, &mut dst, &options),
        None => resizer.resize(&src, &mut dst, &options),
    }
    .map_err(|e| e.to_string())?;
    Ok((target_width, target_height, dst.into_vec()))
}

/// `input` is `width`×`height` RGBA with alpha. `factor` ≥ 2 box-shrinks first, colours
/// weighted by alpha (the region trimmed as `fit` trims it); then lanczos3 to
/// `target_width`×`target_height`, on colours premultiplied in f32 and divided by the resized
/// alpha before it is clamped, as squoosh's resizer (which this replaced: its instance kept the
/// largest memory it ever grew to, 63 MB a thread measured) does. Both in one pass over the rows
/// (alpha_lanczos.rs). Freed with this crate's instance (src/render/wasm-decoder.ts).
pub fn fit_alpha(input: &[u8], width: u32, height: u32, factor: u32, target_width: u32, target_height: u32) -> Result<(u32, u32, Vec<u8>), String> {
    check_sizes(input, width, height, target_width, target_height)?;
    if factor <= 1 && width == target_width && height == target_height {
        return Ok((width, height, input.to_vec()));
    }
    crate::alpha_lanczos::resize(input, width, height, factor, target_width, target_height)
}
