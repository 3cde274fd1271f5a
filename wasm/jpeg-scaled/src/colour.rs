//! Embedded ICC profiles → sRGB with moxcms (a colour management engine in pure Rust), so that
//! a phone's Display P3 photo or a print workflow's Adobe RGB or CMYK file renders with the
//! colours its author saw. The output is untagged 8-bit sRGB, which is what browsers assume
//! for an image without a profile.
//!
//! A profile that does not parse, or that describes a colour space these pixels are not in,
//! is ignored (the pixels are taken as sRGB, as browsers do with a broken profile): a bad
//! profile should not make a photo unrenderable.

use moxcms::{Chromaticity, CicpColorPrimaries, ColorPrimaries, ColorProfile, DataColorSpace, TransferCharacteristics, Layout, RenderingIntent, ToneReprCurve, TransformOptions};
use std::cell::RefCell;
use std::sync::Arc;

type Transform = Arc<moxcms::Transform8BitExecutor>;

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
    let conversion = recent(&RECENT_RGB, icc, || match ColorProfile::new_from_slice(icc) {
        Ok(profile) => prepare(&profile),
        Err(_) => Conversion::NotApplied,
    });
    conversion.apply(rgba)
}

/// How many profiles' conversions an instance keeps, and the largest profile it keeps one for.
/// Preparing one (parsing the profile, building moxcms's transform, checking it against sRGB)
/// took ~0.6 ms for a Display P3 profile, as long as converting a 128 px thumbnail's pixels,
/// and most photos carry one of a handful of profiles (a phone's Display P3, sRGB, Adobe RGB).
const RECENT_PROFILES: usize = 4;
const RECENT_PROFILE_BYTES: usize = 64 * 1024;

/// Profiles' bytes and their conversions, the most recently used first.
type Recent = RefCell<Vec<(Vec<u8>, Conversion)>>;

thread_local! {
    static RECENT_RGB: Recent = const { RefCell::new(Vec::new()) };
    static RECENT_CMYK: Recent = const { RefCell::new(Vec::new()) };
}

/// The conversion kept for the profile `icc` (the most recent first), else `prepare`'s, kept.
fn recent(cache: &'static std::thread::LocalKey<Recent>, icc: &[u8], prepare: impl FnOnce() -> Conversion) -> Conversion {
    let kept = cache.with(|c| {
        let mut c = c.borrow_mut();
        let i = c.iter().position(|(key, _)| key.as_slice() == icc)?;
        let entry = c.remove(i);
        let conversion = entry.1.clone();
        c.insert(0, entry);
        Some(conversion)
    });
    if let Some(conversion) = kept {
        return conversion;
    }
    let conversion = prepare();
    if icc.len() <= RECENT_PROFILE_BYTES {
        cache.with(|c| {
            let mut c = c.borrow_mut();
            c.insert(0, (icc.to_vec(), conversion.clone()));
            c.truncate(RECENT_PROFILES);
        });
    }
    conversion
}

/// A profile's conversion to sRGB, ready to run over pixels.
#[derive(Clone)]
enum Conversion {
    /// Not applied: the pixels are taken as sRGB (an unusable profile, or another colour space).
    NotApplied,
    /// Within one level of sRGB everywhere (`is_identity`): nothing to do.
    Identity,
    Rgb(Transform),
    /// A grey profile: the grey channel (R = G = B) through it, to RGB.
    Gray(Transform),
    /// A CMYK profile, with its black point compensation.
    Cmyk(Transform, Arc<BlackPoint>),
}

fn prepare(profile: &ColorProfile) -> Conversion {
    let srgb = ColorProfile::new_srgb();
    match profile.color_space {
        DataColorSpace::Rgb => match profile.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgba, options(profile)) {
            Ok(transform) if is_identity(transform.as_ref()) => Conversion::Identity,
            Ok(transform) => Conversion::Rgb(transform),
            Err(_) => Conversion::NotApplied,
        },
        DataColorSpace::Gray => match profile.create_transform_8bit(Layout::Gray, &srgb, Layout::Rgb, options(profile)) {
            Ok(transform) => Conversion::Gray(transform),
            Err(_) => Conversion::NotApplied,
        },
        _ => Conversion::NotApplied,
    }
}

impl Conversion {
    /// Converts RGBA pixels in place (alpha untouched; CMYK: ink amounts to opaque RGBA). Ok(false) when not applied.
    fn apply(&self, rgba: &mut [u8]) -> Result<bool, String> {
        let failed = |e: moxcms::CmsError| format!("colour transform: {e:?}");
        match self {
            Conversion::NotApplied => Ok(false),
            Conversion::Identity => Ok(true),
            Conversion::Rgb(transform) => {
                let mut out = vec![0u8; CHUNK_PIXELS * 4];
                for chunk in rgba.chunks_mut(CHUNK_PIXELS * 4) {
                    let out = &mut out[..chunk.len()];
                    transform.transform(chunk, out).map_err(failed)?;
                    chunk.copy_from_slice(out);
                }
                Ok(true)
            }
            Conversion::Gray(transform) => {
                // A grey JPEG or PNG arrives widened to R = G = B: transform the grey channel.
                let mut grey = vec![0u8; CHUNK_PIXELS];
                let mut out = vec![0u8; CHUNK_PIXELS * 3];
                for chunk in rgba.chunks_mut(CHUNK_PIXELS * 4) {
                    let n = chunk.len() / 4;
                    for (g, px) in grey[..n].iter_mut().zip(chunk.chunks_exact(4)) {
                        *g = px[0];
                    }
                    transform.transform(&grey[..n], &mut out[..n * 3]).map_err(failed)?;
                    for (px, rgb) in chunk.chunks_exact_mut(4).zip(out.chunks_exact(3)) {
                        px[..3].copy_from_slice(rgb);
                    }
                }
                Ok(true)
            }
            Conversion::Cmyk(transform, bpc) => {
                let mut out = vec![0u8; CHUNK_PIXELS * 3];
                for chunk in rgba.chunks_mut(CHUNK_PIXELS * 4) {
                    let n = chunk.len() / 4;
                    transform.transform(chunk, &mut out[..n * 3]).map_err(failed)?;
                    for (px, rgb) in chunk.chunks_exact_mut(4).zip(out.chunks_exact(3)) {
                        let [r, g, b] = bpc.apply([rgb[0], rgb[1], rgb[2]]);
                        px.copy_from_slice(&[r, g, b, 255]);
                    }
                }
                Ok(true)
            }
        }
    }
}

/// A PNG's gAMA exponent as written (×100000) for the sRGB curve's usual stand-in, 1/2.2.
const PNG_GAMMA_SRGB: u32 = 45455;

/// The colour space a PNG's gAMA and cHRM chunks describe (`gama`: the encoding exponent
/// ×100000; `chrm`: white, red, green, blue x/y), for a PNG with neither iCCP nor sRGB chunks,
/// as browsers read it: cHRM's primaries (sRGB's without it) and a pure power curve of
/// 1/gAMA, except that gAMA 1/2.2 (45455, what most writers put next to sRGB pixels) means
/// the sRGB curve. None when that is sRGB itself, or the chunks are unusable.
pub fn png_chunks_profile(gama: Option<u32>, chrm: Option<[(f32, f32); 4]>) -> Option<ColorProfile> {
    let gamma = gama.filter(|&g| g > 0 && g.abs_diff(PNG_GAMMA_SRGB) > 100);
    if gamma.is_none() && chrm.is_none() {
        return None;
    }
    let mut profile = ColorProfile::new_srgb();
    profile.cicp = None;
    if let Some([white, red, green, blue]) = chrm {
        let valid = [white, red, green, blue].iter().all(|&(x, y)| x > 0.0 && y > 0.0 && x + y <= 1.0);
        if !valid {
            return None;
        }
        let c = |(x, y): (f32, f32)| Chromaticity::new(x, y);
        profile.update_rgb_colorimetry(c(white).to_xyyb(), ColorPrimaries { red: c(red), green: c(green), blue: c(blue) });
    }
    if let Some(g) = gamma {
        let curve = ToneReprCurve::Parametric(vec![100_000.0 / g as f32]);
        profile.red_trc = Some(curve.clone());
        profile.green_trc = Some(curve.clone());
        profile.blue_trc = Some(curve);
    }
    Some(profile)
}

/// The colour space an AVIF's CICP (`colr` box of type `nclx`, no ICC profile) names, when it
/// is not sRGB and is cheap to convert: primaries other than BT.709 (Display P3, BT.2020, …)
/// with an SDR curve. BT.709, BT.601 and BT.2020's SDR curves and "unspecified" are taken as
/// the sRGB curve (how browsers show SDR AVIFs); PQ and HLG (HDR: tone mapping) are left alone.
pub fn cicp_profile(primaries: u8, transfer: u8) -> Option<ColorProfile> {
    if matches!(primaries, 1 | 2) || matches!(transfer, 16 | 18) {
        return None;
    }
    let transfer = if matches!(transfer, 1 | 2 | 6 | 14 | 15) { 13 } else { transfer };
    let primaries_code = CicpColorPrimaries::try_from(primaries).ok()?;
    let xy = ColorPrimaries::try_from(primaries_code).ok()?;
    let curve = ToneReprCurve::try_from(TransferCharacteristics::try_from(transfer).ok()?).ok()?;
    // H.273 primaries are on D65 but DCI-P3 (11), on the DCI white (and BT.470M, 4, on illuminant
    // C, taken as D65 here); XYZ (10) has no primaries.
    let white = if primaries == 11 { Chromaticity::new(0.314, 0.351) } else { Chromaticity::D65 };
    // The pixels are RGB already (libavif applied the matrix): colorants and curves only.
    let mut profile = ColorProfile::new_srgb();
    profile.cicp = None;
    profile.update_rgb_colorimetry(white.to_xyyb(), xy);
    profile.red_trc = Some(curve.clone());
    profile.green_trc = Some(curve.clone());
    profile.blue_trc = Some(curve);
    Some(profile)
}

/// Converts RGBA pixels (alpha untouched) in `profile`'s colour space to sRGB in place.
pub fn profile_to_srgb(profile: &ColorProfile, rgba: &mut [u8]) -> Result<bool, String> {
    prepare(profile).apply(rgba)
}

/// What a CMYK JPEG without a profile is taken to be in: the profile libvips and sharp assume,
/// Argyll's public-domain "Chemical proof", cut to the tags used here
/// (scripts/make-default-cmyk-profile.mjs).
static DEFAULT_CMYK: &[u8] = include_bytes!("default-cmyk.icc");

/// A CMYK profile's conversion (kept per profile as RGB ones are), None when `icc` is not a usable CMYK profile.
fn cmyk_conversion(icc: &[u8]) -> Option<Conversion> {
    let conversion = recent(&RECENT_CMYK, icc, || {
        let Some(profile) = ColorProfile::new_from_slice(icc).ok().filter(|p| p.color_space == DataColorSpace::Cmyk) else { return Conversion::NotApplied };
        let Ok(transform) = profile.create_transform_8bit(Layout::Rgba, &ColorProfile::new_srgb(), Layout::Rgb, options(&profile)) else { return Conversion::NotApplied };
        // The profile's black (all inks at 100%) as moxcms renders it, for black point compensation.
        let mut black = [0u8; 3];
        if transform.transform(&[255, 255, 255, 255], &mut black).is_err() {
            return Conversion::NotApplied;
        }
        Conversion::Cmyk(transform, Arc::new(BlackPoint::new(black)))
    });
    matches!(conversion, Conversion::Cmyk(..)).then_some(conversion)
}

/// Whether `transform` leaves every colour of a 16-step RGB grid within one level: an sRGB
/// profile (most cameras and many apps embed one) or a near-copy of it. Then the pass over
/// the pixels is skipped: 4,096 probe colours instead of millions.
fn is_identity(transform: &moxcms::Transform8BitExecutor) -> bool {
    let steps: Vec<u8> = (0..16).map(|i| (i * 17) as u8).collect();
    let mut grid = Vec::with_capacity(16 * 16 * 16 * 4);
    for &r in &steps {
        for &g in &steps {
            for &b in &steps {
                grid.extend_from_slice(&[r, g, b, 255]);
            }
        }
    }
    let mut out = vec![0u8; grid.len()];
    transform.transform(&grid, &mut out).is_ok() && grid.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 1)
}

/// CMYK (ink amounts, 0 = no ink, 4 bytes a pixel) → opaque sRGB RGBA in place, by the file's
/// CMYK profile, or the default one when it has none (or one that fails).
pub fn cmyk_to_srgb(icc: Option<&[u8]>, pixels: &mut [u8]) -> Result<(), String> {
    let conversion = icc.and_then(cmyk_conversion).or_else(|| cmyk_conversion(DEFAULT_CMYK)).ok_or("the default CMYK profile does not load")?;
    conversion.apply(pixels)?;
    Ok(())
}

/// Black point compensation for CMYK sources, which moxcms 0.9 leaves out (its `bpc.rs`
/// returns no black point for a CMYK profile) and lcms2 applies to a perceptual CMYK → RGB
/// transform: a press's black (~L* 15) is mapped to the display's black, and the rest of the
/// range scaled linearly in XYZ between it and white (lcms2's cmsDetectBlackPoint "darker
/// colorant" and BPC scaling). Without it, solid black renders as (37, 37, 37) where sharp
/// (lcms2) gives (11, 8, 0), and a CMYK photo differs from sharp's by 11–18 levels on average.
/// The scaling is affine in XYZ and so in linear sRGB: one 3×3 matrix and an offset.
struct BlackPoint {
    matrix: [[f32; 3]; 3],
    offset: [f32; 3],
    to_linear: [f32; 256],
    to_srgb: Vec<u8>,
}

/// Linear light → sRGB table size: fine enough near black (slope 12.92) to stay within ±0.5.
const ENCODE_STEPS: usize = 16384;

const RGB_TO_XYZ: [[f32; 3]; 3] = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]];
const XYZ_TO_RGB: [[f32; 3]; 3] = [[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]];

fn mul(m: &[[f32; 3]; 3], v: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

fn srgb_to_linear(v: u8) -> f32 {
    let c = v as f32 / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

impl BlackPoint {
    fn new(black: [u8; 3]) -> BlackPoint {
        let to_linear: [f32; 256] = std::array::from_fn(|v| srgb_to_linear(v as u8));
        let to_srgb = (0..=ENCODE_STEPS)
            .map(|i| {
                let c = i as f32 / ENCODE_STEPS as f32;
                let v = if c <= 0.0031308 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
                (v * 255.0).round().clamp(0.0, 255.0) as u8
            })
            .collect();
        let white = mul(&RGB_TO_XYZ, [1.0; 3]);
        let bp = mul(&RGB_TO_XYZ, black.map(|v| to_linear[v as usize]));
        // XYZ' = (XYZ − bp) · white / (white − bp), per component; in linear RGB:
        // rgb' = XYZ_TO_RGB · S · RGB_TO_XYZ · rgb − XYZ_TO_RGB · S · bp.
        let scale: [f32; 3] = [0, 1, 2].map(|i| if white[i] - bp[i] > 0.01 { white[i] / (white[i] - bp[i]) } else { 1.0 });
        let scaled: [[f32; 3]; 3] = std::array::from_fn(|i| RGB_TO_XYZ[i].map(|v| v * scale[i]));
        let matrix = std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| XYZ_TO_RGB[i][k] * scaled[k][j]).sum()));
        let shift = mul(&XYZ_TO_RGB, [0, 1, 2].map(|i| scale[i] * bp[i]));
        BlackPoint { matrix, offset: shift.map(|v| -v), to_linear, to_srgb }
    }

    fn apply(&self, rgb: [u8; 3]) -> [u8; 3] {
        let lin = rgb.map(|v| self.to_linear[v as usize]);
        let out = mul(&self.matrix, lin);
        [0, 1, 2].map(|i| {
            let c = (out[i] + self.offset[i]).clamp(0.0, 1.0);
            self.to_srgb[(c * ENCODE_STEPS as f32 + 0.5) as usize]
        })
    }
}
