//! Box pre-shrink and lanczos3 of RGBA with alpha, premultiplied in f32 (fit.rs `fit_alpha`),
//! as two separable passes whose every tap is one four-lane multiply-add: a pixel's four
//! premultiplied channels are one WebAssembly SIMD vector. fast_image_resize has no WebAssembly
//! kernel for four f32 channels (its portable one sums each channel in f64), and it needed the
//! whole premultiplied image as floats, after a box pre-shrink in JavaScript: a 1537² crop to
//! 512² took ~170 ms of CPU and 38 MB of floats. Here the rows are premultiplied (and
//! box-averaged) one at a time, and only the rows of the horizontal pass that the next output
//! row reads are kept: ~30 ms, and 16 bytes × window × target width of floats.
//!
//! The weights are fast_image_resize's (`precompute_coefficients`: lanczos3 widened by the
//! scale, computed in f64 and normalised to sum 1), applied in f32: an output differs from the
//! f64 sums by at most one level where alpha ≥ 32 (test/render/alpha-resize.test.ts).

use core::f64::consts::PI;

#[cfg(target_arch = "wasm32")]
mod lanes {
    use core::arch::wasm32::*;
    #[derive(Clone, Copy)]
    pub struct F4(v128);
    impl F4 {
        #[inline(always)]
        pub fn zero() -> F4 {
            F4(f32x4_splat(0.0))
        }
        /// `self + w × x`.
        #[inline(always)]
        pub fn add_mul(self, w: f32, x: F4) -> F4 {
            F4(f32x4_add(self.0, f32x4_mul(f32x4_splat(w), x.0)))
        }
        #[inline(always)]
        pub fn add(self, x: F4) -> F4 {
            F4(f32x4_add(self.0, x.0))
        }
        /// One RGBA pixel's channels as floats, the colours premultiplied by alpha/255.
        #[inline(always)]
        pub fn premultiplied(px: &[u8]) -> F4 {
            let word = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
            let f = f32x4_convert_u32x4(u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(u32x4(word, 0, 0, 0))));
            let k = f32x4_div(i32x4_shuffle::<3, 3, 3, 3>(f, f), f32x4_splat(255.0));
            // Alpha itself is kept, not multiplied: lane 3 of the factor is 1.
            F4(f32x4_mul(f, i32x4_shuffle::<0, 1, 2, 7>(k, f32x4_splat(1.0))))
        }
        #[inline(always)]
        pub fn lanes(self) -> [f32; 4] {
            [f32x4_extract_lane::<0>(self.0), f32x4_extract_lane::<1>(self.0), f32x4_extract_lane::<2>(self.0), f32x4_extract_lane::<3>(self.0)]
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod lanes {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);
    impl F4 {
        pub fn zero() -> F4 {
            F4([0.0; 4])
        }
        pub fn add_mul(self, w: f32, x: F4) -> F4 {
            F4([self.0[0] + w * x.0[0], self.0[1] + w * x.0[1], self.0[2] + w * x.0[2], self.0[3] + w * x.0[3]])
        }
        pub fn add(self, x: F4) -> F4 {
            F4([self.0[0] + x.0[0], self.0[1] + x.0[1], self.0[2] + x.0[2], self.0[3] + x.0[3]])
        }
        pub fn premultiplied(px: &[u8]) -> F4 {
            let a = px[3] as f32;
            let k = a / 255.0;
            F4([px[0] as f32 * k, px[1] as f32 * k, px[2] as f32 * k, a])
        }
        pub fn lanes(self) -> [f32; 4] {
            self.0
        }
    }
}

use lanes::F4;

/// For each output pixel along one axis: the first input pixel it reads and its weights.
struct Taps {
    starts: Vec<usize>,
    /// `window` weights per output pixel (unused ones are 0).
    weights: Vec<f32>,
    window: usize,
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * PI;
        x.sin() / x
    }
}

fn lanczos3(x: f64) -> f64 {
    if (-3.0..3.0).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

fn taps(in_size: u32, out_size: u32) -> Result<Taps, String> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let radius = 3.0 * filter_scale;
    let window = radius.ceil() as usize * 2 + 1;
    let mut starts = Vec::new();
    let mut weights = Vec::new();
    starts.try_reserve_exact(out_size as usize).map_err(|_| "cannot allocate resize weights".to_string())?;
    weights.try_reserve_exact(out_size as usize * window).map_err(|_| "cannot allocate resize weights".to_string())?;
    let mut row = vec![0f64; window];
    for out in 0..out_size {
        let in_center = (out as f64 + 0.5) * scale;
        let min = (in_center - radius).floor().max(0.0) as u32;
        let max = (in_center + radius).ceil().min(in_size as f64) as u32;
        let center = in_center - 0.5;
        let mut n = 0;
        let mut sum = 0.0;
        // Zero weights at the ends are kept (fast_image_resize trims them): starts then never
        // decrease, which the vertical pass's ring of rows relies on.
        for x in min..max {
            let w = lanczos3((x as f64 - center) / filter_scale);
            row[n] = w;
            n += 1;
            sum += w;
        }
        starts.push(min as usize);
        for (i, w) in row.iter_mut().enumerate() {
            let v = if i < n && sum != 0.0 { *w / sum } else { 0.0 };
            weights.push(v as f32);
            *w = 0.0;
        }
    }
    Ok(Taps { starts, weights, window })
}

/// Where the resize's input rows come from: `input` (`width`×`height` RGBA) premultiplied, or
/// with `factor` ≥ 2 box-averaged by `factor`×`factor` blocks after premultiplying (the alpha
/// weighting of src/render/pre-shrink.ts: a transparent pixel's hidden colour counts for
/// nothing), over the region trimmed as fit.rs `box_grid` trims it.
struct Rows<'a> {
    input: &'a [u8],
    width: usize,
    factor: usize,
    x0: usize,
    y0: usize,
    /// The rows' size.
    out_width: usize,
    out_height: usize,
}

impl Rows<'_> {
    fn new(input: &[u8], width: u32, height: u32, factor: u32) -> Rows<'_> {
        let (k, grid) = match crate::fit::box_grid(width, height, factor) {
            Some(grid) => (factor, grid),
            None => (1, crate::fit::BoxGrid { width, height, x0: 0, y0: 0 }),
        };
        let u = |v: u32| v as usize;
        Rows { input, width: u(width), factor: u(k), x0: u(grid.x0), y0: u(grid.y0), out_width: u(grid.width), out_height: u(grid.height) }
    }

    /// Row `y` (of `out_height`) into `row` (`out_width` pixels).
    fn read(&self, y: usize, row: &mut [F4]) {
        let k = self.factor;
        let pixels = |sy: usize| {
            let from = (sy * self.width + self.x0) * 4;
            self.input[from..from + self.out_width * k * 4].chunks_exact(4)
        };
        if k == 1 {
            for (p, px) in row.iter_mut().zip(pixels(self.y0 + y)) {
                *p = F4::premultiplied(px);
            }
            return;
        }
        row.fill(F4::zero());
        for sy in self.y0 + y * k..self.y0 + (y + 1) * k {
            let mut src = pixels(sy);
            for p in row.iter_mut() {
                let mut sum = *p;
                for px in src.by_ref().take(k) {
                    sum = sum.add(F4::premultiplied(px));
                }
                *p = sum;
            }
        }
        let area = 1.0 / (k * k) as f32;
        for p in row.iter_mut() {
            *p = F4::zero().add_mul(area, *p);
        }
    }
}

/// A premultiplied pixel back to RGBA: colours divided by the alpha before it is clamped;
/// a pixel whose alpha rounds to 0 is 0 (its colour, divided by almost nothing, would be noise).
fn unpremultiply(p: F4, out: &mut Vec<u8>) {
    let channel = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let [r, g, b, alpha] = p.lanes();
    if channel(alpha) > 0 {
        let k = 255.0 / alpha;
        out.extend_from_slice(&[channel(r * k), channel(g * k), channel(b * k), channel(alpha)]);
    } else {
        out.extend_from_slice(&[0, 0, 0, 0]);
    }
}

/// `input` (`width`×`height` RGBA), box-shrunk by `factor` when ≥ 2 (see `Rows`), then lanczos3
/// to `target_width`×`target_height` unless the shrink already made that size; premultiplied
/// throughout. Returns the output's size and RGBA.
pub fn resize(input: &[u8], width: u32, height: u32, factor: u32, target_width: u32, target_height: u32) -> Result<(u32, u32, Vec<u8>), String> {
    let rows = Rows::new(input, width, height, factor);
    let (w, h, tw, th) = (rows.out_width, rows.out_height, target_width as usize, target_height as usize);
    let mut row = vec![F4::zero(); w];
    if w == tw && h == th {
        let mut out = Vec::new();
        out.try_reserve_exact(w * h * 4).map_err(|_| format!("cannot allocate {w}×{h} RGBA"))?;
        for y in 0..h {
            rows.read(y, &mut row);
            row.iter().for_each(|&p| unpremultiply(p, &mut out));
        }
        return Ok((w as u32, h as u32, out));
    }
    let horizontal = taps(w as u32, target_width)?;
    let vertical = taps(h as u32, target_height)?;
    // The horizontal pass's rows that output rows still need: a ring of `vertical.window` rows
    // of tw pixels (the rows one output row reads, as the starts never decrease), filled as the
    // output rows go down, instead of all h rows (9 MB for a 1155-row crop to 512 px).
    let ring = vertical.window.min(h);
    let mut across: Vec<F4> = Vec::new();
    across.try_reserve_exact(ring * tw).map_err(|_| format!("cannot allocate {tw}×{ring} floats"))?;
    across.resize(ring * tw, F4::zero());
    let mut next = 0;
    let mut out = Vec::new();
    out.try_reserve_exact(tw * th * 4).map_err(|_| format!("cannot allocate {target_width}×{target_height} RGBA"))?;
    let mut acc = vec![F4::zero(); tw];
    for y in 0..th {
        let start = vertical.starts[y];
        let end = (start + vertical.window).min(h);
        while next < end {
            rows.read(next, &mut row);
            horizontal_pass(&row, &horizontal, &mut across[(next % ring) * tw..(next % ring + 1) * tw]);
            next += 1;
        }
        acc.fill(F4::zero());
        let ws = &vertical.weights[y * vertical.window..(y + 1) * vertical.window];
        for (i, &k) in ws.iter().enumerate().take(end - start) {
            if k == 0.0 {
                continue;
            }
            let r = (start + i) % ring;
            for (a, &p) in acc.iter_mut().zip(&across[r * tw..(r + 1) * tw]) {
                *a = a.add_mul(k, p);
            }
        }
        acc.iter().for_each(|&p| unpremultiply(p, &mut out));
    }
    Ok((target_width, target_height, out))
}

/// One row (premultiplied) resampled to `out.len()` pixels.
fn horizontal_pass(row: &[F4], taps: &Taps, out: &mut [F4]) {
    for (x, o) in out.iter_mut().enumerate() {
        let start = taps.starts[x];
        let ws = &taps.weights[x * taps.window..(x + 1) * taps.window];
        let src = &row[start..(start + taps.window).min(row.len())];
        // Two sums, even and odd taps: half the chain of dependent additions.
        let (mut even, mut odd) = (F4::zero(), F4::zero());
        for (k, p) in ws.chunks_exact(2).zip(src.chunks_exact(2)) {
            even = even.add_mul(k[0], p[0]);
            odd = odd.add_mul(k[1], p[1]);
        }
        let n = src.len() & !1;
        if n < src.len() {
            even = even.add_mul(ws[n], src[n]);
        }
        *o = even.add(odd);
    }
}
