//! face-api's tiny face detector network (TinyYolov2 with separable convolutions) on one image,
//! for src/render/focal/face-net.ts, which decodes the boxes. The same layers as face-api's
//! `runMobilenet`: conv0 (3 × 3, 3 → 16, valid) and five depthwise-separable convolutions
//! (3 × 3 depthwise with a zero border, 1 × 1 pointwise, bias), each followed by face-api's
//! leaky ReLU (`max(x, 0.1x)`); 2 × 2 max-pools with stride 2 after conv0 to conv4, one with
//! stride 1 after conv5 ('same' padding: windows cut at the right and bottom edges); then a
//! 1 × 1 convolution to 5 anchors × [x, y, w, h, score].
//!
//! 1. `weights_alloc(count)` → pointer; the caller writes the weights there as f32, in the
//!    order of `Net::from_flat`, then calls `weights_load()` (0 on success). Once per instance.
//! 2. The image, either way:
//!    - `input_alloc(len)` → pointer; the caller copies an RGB image there (3 bytes a pixel);
//!    - or the detection copy of a decoded RGBA image, made here: `shrink_begin(width, height,
//!      factor, orientation)`, then every row in order through `strip_alloc` and
//!      `shrink_rows`, then `shrink_end()`; the upright copy is `shrunk_width` ×
//!      `shrunk_height` RGBA at `shrunk_ptr`.
//! 3. `detect(source, width, height, net_width, net_height, padded_width, padded_height, mean_r,
//!    mean_g, mean_b)` (source 0 the RGB input, 1 the copy): (value − mean) / 255, scaled
//!    bilinearly to net_width × net_height (TensorFlow.js's `resizeBilinear`: no corner
//!    alignment, no half-pixel centres), padded right and bottom with zeros to the padded size
//!    (multiples of 32), and run. 0 on success.
//! 4. `output_ptr/output_len`: the grid, (padded_height / 32) × (padded_width / 32) × 25 f32.
//!
//! Each 2 × 2 stride-2 pool is fused into the convolution before it: one step of the
//! multiply-add loop is one pool window (4 pixels × 8 outputs), so no convolution output before
//! its pool is ever held; the activations live in two buffers used in turn, sized by the
//! largest input (kept between calls: a caller gives at most 256 × 768 px, about 5.5 MB). All
//! kernels use WebAssembly SIMD (build with +simd128).

use core::arch::wasm32::*;

/// Channels: the input, then each layer's output (conv0, conv1…conv5).
const CHANNELS: [usize; 7] = [3, 16, 32, 64, 128, 256, 512];
/// The last layer's outputs, and the same padded to a multiple of 8 for the pointwise kernel.
const OUT: usize = 25;
const OUT_PADDED: usize = 32;
/// The network halves its input five times.
const STRIDE: usize = 32;
/// Bounds on one call (the caller sends ≤ 320 × 960 px, the net at most 256 × 768).
const MAX_INPUT_PIXELS: usize = 4 * 1024 * 1024;
const MAX_NET_SIDE: usize = 1024;
const MAX_NET_PIXELS: usize = 512 * 1024;
/// The largest source side the detection copy is made from (the largest JPEG or WebP).
const MAX_SOURCE_SIDE: usize = 65535;
/// The finder's largest network input (padded) and detection copy, and the strip of source rows
/// it sends at a time (src/render/focal/face-net.ts STRIP_BYTES): the buffers are made this
/// large at load.
const FINDER_NET: (usize, usize) = (768, 256);
const FINDER_COPY: (usize, usize) = (960, 320);
const STRIP_BYTES: usize = 256 * 1024;
/// The largest detection copy (the finder's is at most 320 × 960 px).
const MAX_SHRUNK_PIXELS: usize = 512 * 1024;

struct Separable {
    /// [3][3][c]
    depthwise: Vec<f32>,
    /// [c][co]
    pointwise: Vec<f32>,
    bias: Vec<f32>,
}

struct Net {
    /// [3][3][3][16]: row ky holds 9 contiguous (kx, ci) taps.
    conv0: Vec<f32>,
    conv0_bias: Vec<f32>,
    separable: Vec<Separable>,
    /// [512][32], outputs 25..32 zero.
    conv8: Vec<f32>,
    conv8_bias: Vec<f32>,
}

impl Net {
    /// The weights in face-api's manifest order: conv0 filters and bias; for conv1 to conv5 the
    /// depthwise filter, the pointwise filter and the bias; conv8 filters and bias.
    fn expected_len() -> usize {
        let mut n = 27 * 16 + 16;
        for l in 1..6 {
            let (ci, co) = (CHANNELS[l], CHANNELS[l + 1]);
            n += 9 * ci + ci * co + co;
        }
        n + 512 * OUT + OUT
    }

    fn from_flat(w: &[f32]) -> Net {
        let mut at = 0;
        let mut take = |n: usize| {
            let s = &w[at..at + n];
            at += n;
            s
        };
        let conv0 = pack(take(27 * 16), 27, 16);
        let conv0_bias = take(16).to_vec();
        let mut separable = Vec::new();
        for l in 1..6 {
            let (ci, co) = (CHANNELS[l], CHANNELS[l + 1]);
            separable.push(Separable {
                depthwise: take(9 * ci).to_vec(),
                pointwise: pack(take(ci * co), ci, co),
                bias: take(co).to_vec(),
            });
        }
        // conv8's 25 outputs padded to 32 with zero filters, then packed.
        let filters = take(512 * OUT);
        let mut conv8 = vec![0f32; 512 * OUT_PADDED];
        for k in 0..512 {
            conv8[k * OUT_PADDED..k * OUT_PADDED + OUT]
                .copy_from_slice(&filters[k * OUT..(k + 1) * OUT]);
        }
        let mut conv8_bias = take(OUT).to_vec();
        conv8_bias.resize(OUT_PADDED, 0.0);
        Net {
            conv0,
            conv0_bias,
            separable,
            conv8: pack(&conv8, 512, OUT_PADDED),
            conv8_bias,
        }
    }
}

/// A [ci][co] filter as [co / 8][ci][8]: the 8 outputs of a block for one input side by side,
/// and a block's inputs one after another, the order `pointwise` reads them.
fn pack(filter: &[f32], ci: usize, co: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(ci * co);
    for o in (0..co).step_by(8) {
        for k in 0..ci {
            out.extend_from_slice(&filter[k * co + o..k * co + o + 8]);
        }
    }
    out
}

static mut WEIGHTS: Vec<f32> = Vec::new();
static mut NET: Option<Net> = None;
static mut INPUT: Vec<u8> = Vec::new();
static mut OUTPUT: Vec<f32> = Vec::new();
static mut PING: Vec<f32> = Vec::new();
static mut PONG: Vec<f32> = Vec::new();
static mut ROWS: Vec<f32> = Vec::new();
static mut SHRINK: Option<Shrink> = None;
static mut STRIP: Vec<u8> = Vec::new();
static mut SUMS: Vec<u32> = Vec::new();
static mut SMALL: Vec<u8> = Vec::new();
static mut SMALL_SIZE: (usize, usize) = (0, 0);

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn weights_alloc(count: usize) -> *mut f32 {
    unsafe {
        WEIGHTS = vec![0f32; count];
        WEIGHTS.as_mut_ptr()
    }
}

/// 0 when the weights had the expected count, 1 otherwise.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn weights_load() -> i32 {
    unsafe {
        let w = core::mem::take(&mut WEIGHTS);
        if w.len() != Net::expected_len() {
            return 1;
        }
        let net = Net::from_flat(&w);
        drop(w);
        NET = Some(net);
        // Every buffer at once, sized for the largest input the finder gives: inputs up to
        // that never grow the memory, whatever their order (growing one buffer at a time left
        // the smaller ones' space behind).
        let [ping, pong, rows] = buffer_needs(FINDER_NET);
        at_least(&mut PING, ping);
        at_least(&mut PONG, pong);
        at_least(&mut ROWS, rows);
        exactly(&mut SMALL, FINDER_COPY.0 * FINDER_COPY.1 * 4);
        exactly(&mut SUMS, FINDER_COPY.0 * 4);
        exactly(&mut STRIP, STRIP_BYTES);
        0
    }
}

/// What `run` takes of PING, PONG and ROWS (f32 values) for a padded network input.
fn buffer_needs((pw, ph): (usize, usize)) -> [usize; 3] {
    let (mut h, mut w) = ((ph - 2).div_ceil(2), (pw - 2).div_ceil(2));
    // The network input in PING, conv0's pooled output in PONG.
    let mut need = [pw * ph * 3 + 1, h * w * 16, 0];
    // conv1…conv4 write PING, PONG, PING, PONG; ROWS holds two depthwise rows.
    for l in 1..5 {
        let (ci, co) = (CHANNELS[l], CHANNELS[l + 1]);
        need[2] = need[2].max(2 * w * ci);
        (h, w) = (h.div_ceil(2), w.div_ceil(2));
        let dst = (l + 1) % 2;
        need[dst] = need[dst].max(h * w * co);
    }
    // conv5 into PING, its pool into PONG; ROWS holds a depthwise row, then conv8's grid.
    let (ci, co) = (CHANNELS[5], CHANNELS[6]);
    need[0] = need[0].max(h * w * co);
    need[1] = need[1].max(h * w * co);
    need[2] = need[2].max(w * ci).max(h * w * OUT_PADDED);
    need
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn input_alloc(len: usize) -> *mut u8 {
    unsafe {
        exactly(&mut INPUT, len);
        INPUT.as_mut_ptr()
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn output_ptr() -> *const f32 {
    unsafe { OUTPUT.as_ptr() }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn output_len() -> usize {
    unsafe { OUTPUT.len() }
}

/// A box-shrink under way (`shrink_begin` … `shrink_end`).
struct Shrink {
    width: usize,
    height: usize,
    k: usize,
    /// The kept region: `size` × k px from (x0, y0), centred (find-focal.ts, pre-shrink.ts).
    x0: usize,
    y0: usize,
    size: (usize, usize),
    orientation: usize,
    /// Source rows received so far.
    row: usize,
}

/// Starts the detection copy of a width × height RGBA image: box-shrunk by the integer factor
/// `k` (the region a multiple of k, centred; each channel's mean rounded half to even, opaque
/// unless k is 1), then turned upright for the EXIF `orientation`. The pixels of
/// render/pre-shrink.ts `cropAndShrink(…, hasAlpha false)` then render/orientation.ts
/// `applyOrientation`. The caller then sends every row in order (`strip_alloc`, `shrink_rows`)
/// and calls `shrink_end`. 0, or 2 for sizes out of bounds.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn shrink_begin(width: usize, height: usize, k: usize, orientation: usize) -> i32 {
    unsafe {
        SHRINK = None;
        // k ≤ 255 keeps every sum exact in f32, and its mean's rounding the same as in f64.
        if width == 0 || height == 0 || width > MAX_SOURCE_SIDE || height > MAX_SOURCE_SIDE {
            return 2;
        }
        if !(1..=255).contains(&k) || !(1..=8).contains(&orientation) {
            return 2;
        }
        let size = (width / k, height / k);
        if size.0 == 0 || size.1 == 0 || size.0 * size.1 > MAX_SHRUNK_PIXELS {
            return 2;
        }
        exactly(&mut SUMS, size.0 * 4);
        exactly(&mut SMALL, size.0 * size.1 * 4);
        SMALL_SIZE = (0, 0);
        SHRINK = Some(Shrink {
            width,
            height,
            k,
            x0: (width - size.0 * k) / 2,
            y0: (height - size.1 * k) / 2,
            size,
            orientation,
            row: 0,
        });
        0
    }
}

/// Room for `len` bytes of source rows (whole rows, width × 4 bytes each).
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn strip_alloc(len: usize) -> *mut u8 {
    unsafe {
        exactly(&mut STRIP, len);
        STRIP.as_mut_ptr()
    }
}

/// The next `count` source rows, from the strip. 0, or 2 without a shrink under way, for more
/// rows than the strip or the image holds.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn shrink_rows(count: usize) -> i32 {
    unsafe {
        let Some(s) = SHRINK.as_mut() else { return 2 };
        let row_bytes = s.width * 4;
        if count * row_bytes > STRIP.len() || s.row + count > s.height {
            return 2;
        }
        for i in 0..count {
            let y = s.row + i;
            if y < s.y0 || y >= s.y0 + s.size.1 * s.k {
                continue;
            }
            let src = &STRIP[i * row_bytes + s.x0 * 4..i * row_bytes + row_bytes];
            add_row(src, s.k, s.size.0, &mut SUMS);
            if (y - s.y0 + 1).is_multiple_of(s.k) {
                let oy = (y - s.y0) / s.k;
                mean_row(&mut SUMS, s.k, oy, s.size, s.orientation, &mut SMALL);
            }
        }
        s.row += count;
        0
    }
}

/// Ends the shrink once every row came: the upright copy's size is then `shrunk_width` ×
/// `shrunk_height`, its RGBA at `shrunk_ptr`, and `detect` (source 1) runs on it. 0, or 2 when
/// rows are missing.
#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn shrink_end() -> i32 {
    unsafe {
        let Some(s) = SHRINK.take() else { return 2 };
        if s.row != s.height {
            return 2;
        }
        SMALL_SIZE = if s.orientation >= 5 { (s.size.1, s.size.0) } else { s.size };
        0
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn shrunk_ptr() -> *const u8 {
    unsafe { SMALL.as_ptr() }
}

#[no_mangle]
pub extern "C" fn shrunk_width() -> usize {
    unsafe { SMALL_SIZE.0 }
}

#[no_mangle]
pub extern "C" fn shrunk_height() -> usize {
    unsafe { SMALL_SIZE.1 }
}

/// Adds one source row (from the region's left edge) to the sums of its `ow` output pixels,
/// k source pixels each: [ow][r, g, b, a].
fn add_row(src: &[u8], k: usize, ow: usize, sums: &mut [u32]) {
    assert!(src.len() >= ow * k * 4 && sums.len() >= ow * 4);
    unsafe {
        let (sp, dp) = (src.as_ptr(), sums.as_mut_ptr());
        for c in 0..ow {
            let d = dp.add(c * 4) as *mut v128;
            let mut acc = v128_load(d);
            for x in c * k..(c + 1) * k {
                let px = v128_load32_zero(sp.add(x * 4) as *const u32);
                acc = i32x4_add(acc, u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(px)));
            }
            v128_store(d, acc);
        }
    }
}

/// `v` holding exactly `n` zeros (its memory grown to `n` exactly, never by doubling).
fn exactly<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    v.clear();
    v.reserve_exact(n);
    v.resize(n, T::default());
}

/// Row `oy` of the shrunk copy (`size`, before orientation) from the k × k sums: each
/// channel's mean as a byte (alpha 255 unless k is 1), written where the EXIF `orientation`
/// puts it in the upright copy `out`, as render/orientation.ts does. The sums are zeroed.
fn mean_row(sums: &mut [u32], k: usize, oy: usize, (w, h): (usize, usize), orientation: usize, out: &mut [u8]) {
    assert!(sums.len() >= w * 4 && out.len() >= w * h * 4 && oy < h);
    // Where pixel (x, oy) goes: at + x · step, in pixels of the upright copy.
    let (flip_x, flip_y) = (w - 1, h - 1 - oy);
    let (at, step): (isize, isize) = match orientation {
        1 => ((oy * w) as isize, 1),
        2 => ((oy * w + flip_x) as isize, -1),
        3 => ((flip_y * w + flip_x) as isize, -1),
        4 => ((flip_y * w) as isize, 1),
        // Transposed: the upright copy is h wide; (x, oy) goes to (oy, x) and so on.
        5 => (oy as isize, h as isize),
        6 => (flip_y as isize, h as isize),
        7 => ((flip_x * h + flip_y) as isize, -(h as isize)),
        _ => ((flip_x * h + oy) as isize, -(h as isize)),
    };
    let area = f32x4_splat((k * k) as f32);
    let magic = f32x4_splat(8_388_608.0);
    let opaque = if k > 1 { 0xff00_0000u32 } else { 0 };
    unsafe {
        let (sp, op) = (sums.as_mut_ptr(), out.as_mut_ptr() as *mut u32);
        for x in 0..w {
            let d = sp.add(x * 4) as *mut v128;
            // The mean plus 2^23 is rounded half to even to a whole number (the f32 spacing
            // there is 1), which is then the float's low mantissa bits.
            let mean = f32x4_add(f32x4_div(f32x4_convert_u32x4(v128_load(d)), area), magic);
            let v = i32x4_sub(mean, magic);
            let bytes = u8x16_narrow_i16x8(i16x8_narrow_i32x4(v, v), i16x8_splat(0));
            let px = i32x4_extract_lane::<0>(bytes) as u32 | opaque;
            op.offset(at + x as isize * step).write_unaligned(px);
            v128_store(d, i32x4_splat(0));
        }
    }
}

/// Runs the network on `input_alloc`'s RGB image (`source` 0) or on the upright copy
/// `shrink_end` made (`source` 1, RGBA; width and height are the copy's). 0 on success; 1
/// without weights; 2 for sizes out of bounds or an input of the wrong length.
#[allow(static_mut_refs, clippy::too_many_arguments)]
#[no_mangle]
pub extern "C" fn detect(
    source: usize,
    width: usize,
    height: usize,
    net_width: usize,
    net_height: usize,
    padded_width: usize,
    padded_height: usize,
    mean_r: f32,
    mean_g: f32,
    mean_b: f32,
) -> i32 {
    unsafe {
        let (image, bpp) = match source {
            0 => (&INPUT, 3),
            1 if SMALL_SIZE == (width, height) => (&SMALL, 4),
            _ => return 2,
        };
        if image.len() != width * height * bpp {
            return 2;
        }
        let net_size = (net_width, net_height);
        let padded = (padded_width, padded_height);
        let mean = [mean_r, mean_g, mean_b];
        checked_run(image, bpp, (width, height), net_size, padded, mean)
    }
}

#[allow(static_mut_refs)]
unsafe fn checked_run(
    image: &[u8],
    bpp: usize,
    (width, height): (usize, usize),
    (net_width, net_height): (usize, usize),
    (padded_width, padded_height): (usize, usize),
    mean: [f32; 3],
) -> i32 {
    let Some(net) = NET.as_ref() else { return 1 };
    let sizes_ok = width > 0
        && height > 0
        && width * height <= MAX_INPUT_PIXELS
        && net_width > 0
        && net_height > 0
        && padded_width >= net_width
        && padded_height >= net_height
        && padded_width.is_multiple_of(STRIDE)
        && padded_height.is_multiple_of(STRIDE)
        && padded_width <= MAX_NET_SIDE
        && padded_height <= MAX_NET_SIDE
        && padded_width * padded_height <= MAX_NET_PIXELS;
    if !sizes_ok {
        return 2;
    }
    run(
        net,
        (image, bpp),
        (width, height),
        (net_width, net_height),
        (padded_width, padded_height),
        mean,
    );
    0
}

/// A buffer at least `n` long (grown, never shrunk: the next call needs as much).
fn at_least(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        // Exactly: doubling would hold up to twice the largest input's need.
        v.reserve_exact(n - v.len());
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

#[allow(static_mut_refs)]
unsafe fn run(
    net: &Net,
    image: (&[u8], usize),
    size: (usize, usize),
    net_size: (usize, usize),
    padded: (usize, usize),
    mean: [f32; 3],
) {
    let (pw, ph) = padded;
    // One more value: `prepare` stores four lanes per pixel of three.
    let input = at_least(&mut PING, pw * ph * 3 + 1);
    prepare(image, size, net_size, padded, mean, input);

    // conv0 (valid) with its pool.
    let (mut h, mut w) = (ph - 2, pw - 2);
    let (ho, wo) = (h.div_ceil(2), w.div_ceil(2));
    let a = at_least(&mut PONG, ho * wo * 16);
    let input = &PING[..pw * ph * 3];
    for r in 0..ho {
        let out = &mut a[r * wo * 16..(r + 1) * wo * 16];
        conv0_pool(input, pw, ph, r, &net.conv0, &net.conv0_bias, out);
    }
    (h, w) = (ho, wo);

    // conv1…conv4, each with its pool; the buffers swap roles every layer.
    let mut from_pong = true;
    for l in 1..5 {
        let (ci, co) = (CHANNELS[l], CHANNELS[l + 1]);
        let (ho, wo) = (h.div_ceil(2), w.div_ceil(2));
        let rows = at_least(&mut ROWS, 2 * w * ci);
        let (upper, lower) = rows.split_at_mut(w * ci);
        let (src, dst) = if from_pong {
            (&PONG[..h * w * ci], at_least(&mut PING, ho * wo * co))
        } else {
            (&PING[..h * w * ci], at_least(&mut PONG, ho * wo * co))
        };
        let s = &net.separable[l - 1];
        for r in 0..ho {
            depthwise_row(src, h, w, ci, 2 * r, &s.depthwise, upper);
            let lower: &[f32] = if 2 * r + 1 < h {
                depthwise_row(src, h, w, ci, 2 * r + 1, &s.depthwise, lower);
                lower
            } else {
                upper
            };
            let out = &mut dst[r * wo * co..(r + 1) * wo * co];
            pointwise_pool(upper, lower, w, ci, co, &s.pointwise, &s.bias, out);
        }
        (h, w) = (ho, wo);
        from_pong = !from_pong;
    }

    // conv5 without a stride-2 pool, then the stride-1 pool, then conv8.
    let (ci, co) = (CHANNELS[5], CHANNELS[6]);
    let rows = at_least(&mut ROWS, w * ci);
    let (src, dst) = if from_pong {
        (&PONG[..h * w * ci], at_least(&mut PING, h * w * co))
    } else {
        (&PING[..h * w * ci], at_least(&mut PONG, h * w * co))
    };
    separable_rows(src, h, w, ci, co, &net.separable[4], dst, rows);
    let (conv5, pooled) = if from_pong {
        (&PING[..h * w * co], at_least(&mut PONG, h * w * co))
    } else {
        (&PONG[..h * w * co], at_least(&mut PING, h * w * co))
    };
    pool_stride1(conv5, h, w, co, pooled);
    let grid = at_least(&mut ROWS, h * w * OUT_PADDED);
    pointwise(pooled, h * w, co, OUT_PADDED, &net.conv8, grid);
    OUTPUT.clear();
    OUTPUT.reserve(h * w * OUT);
    for p in 0..h * w {
        for o in 0..OUT {
            OUTPUT.push(grid[p * OUT_PADDED + o] + net.conv8_bias[o]);
        }
    }
}

/// The normalized, scaled and padded network input, [ph][pw][3], from `image` (`bpp` bytes a
/// pixel, RGB first). One f32x4 a pixel (the fourth lane is overwritten by the next pixel's
/// red, or by the padding's zero); `out` has one value more than the input.
#[inline(never)]
fn prepare(
    (image, bpp): (&[u8], usize),
    (w, h): (usize, usize),
    (nw, nh): (usize, usize),
    (pw, ph): (usize, usize),
    mean: [f32; 3],
    out: &mut [f32],
) {
    assert!(
        image.len() >= w * h * bpp
            && (bpp == 3 || bpp == 4)
            && out.len() > pw * ph * 3
            && nw <= pw
            && nh <= ph
            && w > 0
            && h > 0
    );
    let mean = f32x4(mean[0], mean[1], mean[2], 0.0);
    let scale = f32x4_splat(255.0);
    let ip = image.as_ptr();
    // (value − mean) / 255 of pixel i, [r, g, b, ·].
    let norm = |i: usize| unsafe {
        let p = ip.add(i * bpp);
        let v = if bpp == 4 {
            // RGBA: one load, widened; the alpha lane is never kept.
            u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(v128_load32_zero(p as *const u32)))
        } else {
            u32x4(*p as u32, *p.add(1) as u32, *p.add(2) as u32, 0)
        };
        f32x4_div(f32x4_sub(f32x4_convert_u32x4(v), mean), scale)
    };
    let op = out.as_mut_ptr();
    let (sy, sx) = (h as f32 / nh as f32, w as f32 / nw as f32);
    for oy in 0..nh {
        let row = unsafe { op.add(oy * pw * 3) };
        if nw == w && nh == h {
            for x in 0..w {
                unsafe { st(row.add(x * 3), norm(oy * w + x)) };
            }
        } else {
            let fy = oy as f32 * sy;
            let y0 = fy.floor() as usize;
            let y1 = (fy.ceil() as usize).min(h - 1);
            let ly = f32x4_splat(fy - y0 as f32);
            for ox in 0..nw {
                let fx = ox as f32 * sx;
                let x0 = fx.floor() as usize;
                let x1 = (fx.ceil() as usize).min(w - 1);
                let lx = f32x4_splat(fx - x0 as f32);
                let (tl, tr) = (norm(y0 * w + x0), norm(y0 * w + x1));
                let (bl, br) = (norm(y1 * w + x0), norm(y1 * w + x1));
                let top = f32x4_add(tl, f32x4_mul(f32x4_sub(tr, tl), lx));
                let bottom = f32x4_add(bl, f32x4_mul(f32x4_sub(br, bl), lx));
                let v = f32x4_add(top, f32x4_mul(f32x4_sub(bottom, top), ly));
                unsafe { st(row.add(ox * 3), v) };
            }
        }
        out[(oy * pw + nw) * 3..(oy + 1) * pw * 3].fill(0.0);
    }
    out[nh * pw * 3..].fill(0.0);
}

#[inline(always)]
fn leaky(v: v128) -> v128 {
    f32x4_pmax(v, f32x4_mul(v, f32x4_splat(0.1)))
}

#[inline(always)]
unsafe fn ld(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn st(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

/// Row y of the 3 × 3 depthwise convolution (zero border) of `input` [h][w][c] into `out` [w][c].
/// Channel groups outside, pixels inside: a group's nine taps stay in registers along the row.
#[inline(never)]
fn depthwise_row(
    input: &[f32],
    h: usize,
    w: usize,
    c: usize,
    y: usize,
    filter: &[f32],
    out: &mut [f32],
) {
    assert!(
        input.len() >= h * w * c
            && out.len() >= w * c
            && filter.len() >= 9 * c
            && c.is_multiple_of(4)
            && w >= 1
    );
    unsafe {
        let (ip, fp, op) = (input.as_ptr(), filter.as_ptr(), out.as_mut_ptr());
        let row = |dy: usize| ip.add((y + dy - 1) * w * c);
        let (has_up, has_down) = (y > 0, y + 1 < h);
        for ch in (0..c).step_by(4) {
            let f: [v128; 9] = core::array::from_fn(|t| ld(fp.add(t * c + ch)));
            // The taps of one pixel column (x) of the three rows, times filter column kx.
            let column = |x: usize, kx: usize| {
                let mut acc = f32x4_mul(ld(row(1).add(x * c + ch)), f[3 + kx]);
                if has_up {
                    acc = f32x4_add(acc, f32x4_mul(ld(row(0).add(x * c + ch)), f[kx]));
                }
                if has_down {
                    acc = f32x4_add(acc, f32x4_mul(ld(row(2).add(x * c + ch)), f[6 + kx]));
                }
                acc
            };
            if w == 1 {
                st(op.add(ch), column(0, 1));
                continue;
            }
            st(op.add(ch), f32x4_add(column(0, 1), column(1, 2)));
            if has_up && has_down {
                let (r0, r1, r2) = (row(0).add(ch), row(1).add(ch), row(2).add(ch));
                for x in 1..w - 1 {
                    let (a, b, d) = ((x - 1) * c, x * c, (x + 1) * c);
                    let mut acc = f32x4_mul(ld(r0.add(a)), f[0]);
                    acc = f32x4_add(acc, f32x4_mul(ld(r0.add(b)), f[1]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r0.add(d)), f[2]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r1.add(a)), f[3]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r1.add(b)), f[4]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r1.add(d)), f[5]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r2.add(a)), f[6]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r2.add(b)), f[7]));
                    acc = f32x4_add(acc, f32x4_mul(ld(r2.add(d)), f[8]));
                    st(op.add(x * c + ch), acc);
                }
            } else {
                for x in 1..w - 1 {
                    st(
                        op.add(x * c + ch),
                        f32x4_add(f32x4_add(column(x - 1, 0), column(x, 1)), column(x + 1, 2)),
                    );
                }
            }
            st(
                op.add((w - 1) * c + ch),
                f32x4_add(column(w - 2, 0), column(w - 1, 1)),
            );
        }
    }
}

/// Four pixels (their `ci` inputs at `rows`) times eight outputs of a packed filter (`wp`: the
/// block's [ci][8]): eight accumulators, [pixel][outputs 0–3, 4–7], that stay in registers.
#[inline(always)]
unsafe fn block4x8(rows: [*const f32; 4], ci: usize, wp: *const f32) -> [v128; 8] {
    let mut acc = [f32x4_splat(0.0); 8];
    add4x8(&mut acc, rows, ci, wp);
    acc
}

/// `block4x8` added to `acc`.
#[inline(always)]
unsafe fn add4x8(acc: &mut [v128; 8], rows: [*const f32; 4], ci: usize, mut wp: *const f32) {
    for k in 0..ci {
        let (w0, w1) = (ld(wp), ld(wp.add(4)));
        wp = wp.add(8);
        for (q, row) in rows.iter().enumerate() {
            let s = f32x4_splat(*row.add(k));
            acc[2 * q] = f32x4_add(acc[2 * q], f32x4_mul(s, w0));
            acc[2 * q + 1] = f32x4_add(acc[2 * q + 1], f32x4_mul(s, w1));
        }
    }
}

/// The pool window of four pixels' outputs (`block4x8`'s), plus bias and leaky ReLU, stored.
#[inline(always)]
unsafe fn store_pooled(a: [v128; 8], bias: *const f32, dst: *mut f32) {
    let m0 = f32x4_pmax(f32x4_pmax(a[0], a[2]), f32x4_pmax(a[4], a[6]));
    let m1 = f32x4_pmax(f32x4_pmax(a[1], a[3]), f32x4_pmax(a[5], a[7]));
    st(dst, leaky(f32x4_add(m0, ld(bias))));
    st(dst.add(4), leaky(f32x4_add(m1, ld(bias.add(4)))));
}

/// Row r of conv0 (3 × 3, valid, 3 → 16) through its 2 × 2 stride-2 pool, bias and leaky ReLU,
/// from the network input [ph][pw][3] into `out` [⌈(pw − 2)/2⌉][16]. A position's 27 inputs
/// are three runs of 9 (one per filter row), read where they are.
#[inline(never)]
fn conv0_pool(input: &[f32], pw: usize, ph: usize, r: usize, filter: &[f32], bias: &[f32], out: &mut [f32]) {
    let (h, w) = (ph - 2, pw - 2);
    let wo = w.div_ceil(2);
    let (y0, y1) = (2 * r, (2 * r + 1).min(h - 1));
    assert!(input.len() >= pw * ph * 3 && y0 < h && out.len() >= wo * 16 && filter.len() >= 27 * 16 && bias.len() >= 16);
    unsafe {
        let (ip, fp, op) = (input.as_ptr(), filter.as_ptr(), out.as_mut_ptr());
        for c in 0..wo {
            // The window cut at the right or bottom edge repeats its one column or row.
            let (x0, x1) = (2 * c, (2 * c + 1).min(w - 1));
            let at = |y: usize, x: usize| ip.add((y * pw + x) * 3);
            for o in (0..16).step_by(8) {
                let mut acc = [f32x4_splat(0.0); 8];
                for ky in 0..3 {
                    let rows = [at(y0 + ky, x0), at(y0 + ky, x1), at(y1 + ky, x0), at(y1 + ky, x1)];
                    add4x8(&mut acc, rows, 9, fp.add(o * 27 + ky * 72));
                }
                store_pooled(acc, bias.as_ptr().add(o), op.add(c * 16 + o));
            }
        }
    }
}

/// `out` [n][co] = `input` [n][ci] × `filter` (no bias; packed by `pack`). co a multiple of 8.
#[inline(never)]
fn pointwise(input: &[f32], n: usize, ci: usize, co: usize, filter: &[f32], out: &mut [f32]) {
    assert!(
        input.len() >= n * ci
            && out.len() >= n * co
            && filter.len() >= ci * co
            && co.is_multiple_of(8)
            && n > 0
    );
    unsafe {
        let (ip, fp, op) = (input.as_ptr(), filter.as_ptr(), out.as_mut_ptr());
        for p in (0..n).step_by(4) {
            // The last block repeats the last pixel where fewer than four are left.
            let rows: [*const f32; 4] = core::array::from_fn(|q| ip.add((p + q).min(n - 1) * ci));
            for o in (0..co).step_by(8) {
                let acc = block4x8(rows, ci, fp.add(o * ci));
                for q in 0..(n - p).min(4) {
                    let dst = op.add((p + q) * co + o);
                    st(dst, acc[2 * q]);
                    st(dst.add(4), acc[2 * q + 1]);
                }
            }
        }
    }
}

/// One row of a 1 × 1 convolution's output through the 2 × 2 stride-2 max-pool, bias and leaky
/// ReLU: `upper` and `lower` [w][ci] are the pool window's two input rows (the same row at the
/// bottom edge), `out` [⌈w/2⌉][co]. Each block of four pixels is one pool window, so the
/// convolution's own output is never stored.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn pointwise_pool(
    upper: &[f32],
    lower: &[f32],
    w: usize,
    ci: usize,
    co: usize,
    filter: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let wo = w.div_ceil(2);
    assert!(
        upper.len() >= w * ci
            && lower.len() >= w * ci
            && out.len() >= wo * co
            && filter.len() >= ci * co
            && bias.len() >= co
            && co.is_multiple_of(8)
            && w > 0
    );
    unsafe {
        let (up, lp, fp, bp, op) = (
            upper.as_ptr(),
            lower.as_ptr(),
            filter.as_ptr(),
            bias.as_ptr(),
            out.as_mut_ptr(),
        );
        for c in 0..wo {
            // The window cut at the right edge repeats its one column.
            let (x0, x1) = (2 * c, (2 * c + 1).min(w - 1));
            let rows = [up.add(x0 * ci), up.add(x1 * ci), lp.add(x0 * ci), lp.add(x1 * ci)];
            for o in (0..co).step_by(8) {
                let a = block4x8(rows, ci, fp.add(o * ci));
                store_pooled(a, bp.add(o), op.add(c * co + o));
            }
        }
    }
}

/// A separable convolution with bias and leaky ReLU, no pool: [h][w][ci] → [h][w][co].
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn separable_rows(
    input: &[f32],
    h: usize,
    w: usize,
    ci: usize,
    co: usize,
    s: &Separable,
    out: &mut [f32],
    rows: &mut [f32],
) {
    assert!(out.len() >= h * w * co && co.is_multiple_of(4));
    for y in 0..h {
        depthwise_row(input, h, w, ci, y, &s.depthwise, rows);
        let row = &mut out[y * w * co..(y + 1) * w * co];
        pointwise(rows, w, ci, co, &s.pointwise, row);
        unsafe {
            let bp = s.bias.as_ptr();
            for x in 0..w {
                let o = row.as_mut_ptr().add(x * co);
                for k in (0..co).step_by(4) {
                    st(o.add(k), leaky(f32x4_add(ld(o.add(k)), ld(bp.add(k)))));
                }
            }
        }
    }
}

/// The 2 × 2 stride-1 'same' max-pool: each value with its right, lower and lower-right neighbours.
#[inline(never)]
fn pool_stride1(input: &[f32], h: usize, w: usize, c: usize, out: &mut [f32]) {
    assert!(input.len() >= h * w * c && out.len() >= h * w * c && c.is_multiple_of(4));
    unsafe {
        let (ip, op) = (input.as_ptr(), out.as_mut_ptr());
        for y in 0..h {
            for x in 0..w {
                for k in (0..c).step_by(4) {
                    let mut m = ld(ip.add((y * w + x) * c + k));
                    if x + 1 < w {
                        m = f32x4_pmax(m, ld(ip.add((y * w + x + 1) * c + k)));
                    }
                    if y + 1 < h {
                        m = f32x4_pmax(m, ld(ip.add(((y + 1) * w + x) * c + k)));
                        if x + 1 < w {
                            m = f32x4_pmax(m, ld(ip.add(((y + 1) * w + x + 1) * c + k)));
                        }
                    }
                    st(op.add((y * w + x) * c + k), m);
                }
            }
        }
    }
}
