//! Embedded ICC profiles → sRGB with moxcms (a colour management engine in pure Rust), so that
//! a phone's Display P3 photo or a print workflow's Adobe RGB or CMYK file renders with the
//! colours its author saw. The output is untagged 8-bit sRGB, which is what browsers assume
//! for an image without a profile.
//!
//! A profile that does not parse, or that describes a colour space these pixels are not in,
//! is ignored (the pixels are taken as sRGB, as browsers do with a broken profile): a bad
//! profile should not make a photo unrenderable.

use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformOptions};

/// Pixels per call into the transform: the temporary copy stays small (16 KiB).
const CHUNK_PIXELS: usize = 4096;

fn options(profile: &ColorProfile) -> TransformOptions {
    // Perceptual where the profile has it (LUT profiles: CMYK ones), as libvips/sharp do;
    // matrix/TRC profiles have one intent anyway.
    let intent = if profile.is_matrix_shaper() { RenderingIntent::RelativeColorimetric } else { RenderingIntent::Perceptual };
    TransformOptions { rendering_intent: intent, ..TransformOptions::default() }
}

/// Converts RGBA pixels (alpha untouched) described by `icc` to sRGB in place. Ok(false) when
/// the profile was not applied (unparseable, not RGB or grey).
pub fn rgba_to_srgb(icc: &[u8], rgba: &mut [u8]) -> Result<bool, String> {
    let Ok(profile) = ColorProfile::new_from_slice(icc) else { return Ok(false) };
    let srgb = ColorProfile::new_srgb();
    match profile.color_space {
        DataColorSpace::Rgb => {
            let Ok(transform) = profile.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgba, options(&profile)) else { return Ok(false) };
            let mut out = vec![0u8; CHUNK_PIXELS * 4];
            for chunk in rgba.chunks_mut(CHUNK_PIXELS * 4) {
                let out = &mut out[..chunk.len()];
                transform.transform(chunk, out).map_err(|e| format!("colour transform: {e:?}"))?;
                chunk.copy_from_slice(out);
            }
            Ok(true)
        }
        DataColorSpace::Gray => {
            // A grey JPEG or PNG arrives widened to R = G = B: transform the grey channel.
            let Ok(transform) = profile.create_transform_8bit(Layout::Gray, &srgb, Layout::Rgb, options(&profile)) else { return Ok(false) };
            let mut grey = vec![0u8; CHUNK_PIXELS];
            let mut out = vec![0u8; CHUNK_PIXELS * 3];
            for chunk in rgba.chunks_mut(CHUNK_PIXELS * 4) {
                let n = chunk.len() / 4;
                for (g, px) in grey[..n].iter_mut().zip(chunk.chunks_exact(4)) {
                    *g = px[0];
                }
                transform.transform(&grey[..n], &mut out[..n * 3]).map_err(|e| format!("colour transform: {e:?}"))?;
                for (px, rgb) in chunk.chunks_exact_mut(4).zip(out.chunks_exact(3)) {
                    px[..3].copy_from_slice(rgb);
                }
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// CMYK (ink amounts, 0 = no ink, 4 bytes a pixel) → opaque sRGB RGBA in place. With a CMYK
/// profile through moxcms; without one (or one that fails) by the device-independent formula
/// R = (1 − C)(1 − K) and so on, as browsers do for an untagged CMYK JPEG.
pub fn cmyk_to_srgb(icc: Option<&[u8]>, pixels: &mut [u8]) -> Result<(), String> {
    let srgb = ColorProfile::new_srgb();
    let transform = icc
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| p.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgb, options(&p)).ok());
    let Some(transform) = transform else {
        for px in pixels.chunks_exact_mut(4) {
            let k = 255 - px[3] as u32;
            let ink = |c: u8| (((255 - c as u32) * k + 127) / 255) as u8;
            px.copy_from_slice(&[ink(px[0]), ink(px[1]), ink(px[2]), 255]);
        }
        return Ok(());
    };
    let mut out = vec![0u8; CHUNK_PIXELS * 3];
    for chunk in pixels.chunks_mut(CHUNK_PIXELS * 4) {
        let n = chunk.len() / 4;
        transform.transform(chunk, &mut out[..n * 3]).map_err(|e| format!("colour transform: {e:?}"))?;
        for (px, rgb) in chunk.chunks_exact_mut(4).zip(out.chunks_exact(3)) {
            px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
        }
    }
    Ok(())
}
