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
//! 2. `input_alloc(len)` → pointer; the caller copies the RGB image there (3 bytes a pixel).
//! 3. `detect(width, height, net_width, net_height, padded_width, padded_height, mean_r, mean_g,
//!    mean_b)`: (value − mean) / 255, scaled bilinearly to net_width × net_height (TensorFlow.js's
//!    `resizeBilinear`: no corner alignment, no half-pixel centres), padded right and bottom
//!    with zeros to the padded size (multiples of 32), and run. 0 on success.
//! 4. `output_ptr/output_len`: the grid, (padded_height / 32) × (padded_width / 32) × 25 f32.
//!
//! Each pool is fused into the convolution before it (rows are computed two at a time and
//! pooled at once), so no full-resolution activation is ever held; the activations live in two
//! buffers used in turn, sized by the largest input (kept between calls: a caller gives at most
//! 256 × 768 px, about 5.5 MB). All kernels use WebAssembly SIMD (build with +simd128).

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
            let s = w[at..at + n].to_vec();
            at += n;
            s
        };
        let conv0 = take(27 * 16);
        let conv0_bias = take(16);
        let mut separable = Vec::new();
        for l in 1..6 {
            let (ci, co) = (CHANNELS[l], CHANNELS[l + 1]);
            separable.push(Separable {
                depthwise: take(9 * ci),
                pointwise: take(ci * co),
                bias: take(co),
            });
        }
        let filters = take(512 * OUT);
        let mut conv8 = vec![0f32; 512 * OUT_PADDED];
        for k in 0..512 {
            conv8[k * OUT_PADDED..k * OUT_PADDED + OUT]
                .copy_from_slice(&filters[k * OUT..(k + 1) * OUT]);
        }
        let mut conv8_bias = take(OUT);
        conv8_bias.resize(OUT_PADDED, 0.0);
        Net {
            conv0,
            conv0_bias,
            separable,
            conv8,
            conv8_bias,
        }
    }
}

static mut WEIGHTS: Vec<f32> = Vec::new();
static mut NET: Option<Net> = None;
static mut INPUT: Vec<u8> = Vec::new();
static mut OUTPUT: Vec<f32> = Vec::new();
static mut PING: Vec<f32> = Vec::new();
static mut PONG: Vec<f32> = Vec::new();
static mut ROWS: Vec<f32> = Vec::new();

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
        NET = Some(Net::from_flat(&w));
        0
    }
}

#[allow(static_mut_refs)]
#[no_mangle]
pub extern "C" fn input_alloc(len: usize) -> *mut u8 {
    unsafe {
        INPUT = vec![0u8; len];
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

/// 0 on success; 1 without weights; 2 for sizes out of bounds or an input of the wrong length.
#[allow(static_mut_refs, clippy::too_many_arguments)]
#[no_mangle]
pub extern "C" fn detect(
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
        let Some(net) = NET.as_ref() else { return 1 };
        let sizes_ok = width > 0
            && height > 0
            && width * height <= MAX_INPUT_PIXELS
            && INPUT.len() == width * height * 3
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
            (width, height),
            (net_width, net_height),
            (padded_width, padded_height),
            [mean_r, mean_g, mean_b],
        );
        0
    }
}

/// A buffer at least `n` long (grown, never shrunk: the next call needs as much).
fn at_least(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

#[allow(static_mut_refs)]
unsafe fn run(
    net: &Net,
    size: (usize, usize),
    net_size: (usize, usize),
    padded: (usize, usize),
    mean: [f32; 3],
) {
    let (pw, ph) = padded;
    let input = at_least(&mut PING, pw * ph * 3);
    prepare(&INPUT, size, net_size, padded, mean, input);

    // conv0 (valid) and its pool.
    let (mut h, mut w) = (ph - 2, pw - 2);
    let rows = at_least(&mut ROWS, 2 * w * 16 + w * 27);
    let (pool_rows, patches) = rows.split_at_mut(2 * w * 16);
    let a = at_least(&mut PONG, h.div_ceil(2) * w.div_ceil(2) * 16);
    let input = &PING[..pw * ph * 3];
    pooled(h, w, 16, &net.conv0_bias, a, pool_rows, |y, row| {
        conv0_row(input, pw, y, &net.conv0, patches, row)
    });
    (h, w) = (h.div_ceil(2), w.div_ceil(2));

    // conv1…conv4, each with its pool; the buffers swap roles every layer.
    let mut from_pong = true;
    for l in 1..5 {
        let (ci, co) = (CHANNELS[l], CHANNELS[l + 1]);
        let (ho, wo) = (h.div_ceil(2), w.div_ceil(2));
        let rows = at_least(&mut ROWS, 2 * w * co + w * ci);
        let (pool_rows, dw) = rows.split_at_mut(2 * w * co);
        let (src, dst) = if from_pong {
            (&PONG[..h * w * ci], at_least(&mut PING, ho * wo * co))
        } else {
            (&PING[..h * w * ci], at_least(&mut PONG, ho * wo * co))
        };
        let s = &net.separable[l - 1];
        pooled(h, w, co, &s.bias, dst, pool_rows, |y, row| {
            depthwise_row(src, h, w, ci, y, &s.depthwise, dw);
            pointwise(dw, w, ci, co, &s.pointwise, row);
        });
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

/// The normalized, scaled and padded network input, [ph][pw][3].
#[inline(never)]
fn prepare(
    input: &[u8],
    (w, h): (usize, usize),
    (nw, nh): (usize, usize),
    (pw, _ph): (usize, usize),
    mean: [f32; 3],
    out: &mut [f32],
) {
    out.fill(0.0);
    let norm = |i: usize, c: usize| (input[i * 3 + c] as f32 - mean[c]) / 255.0;
    if nw == w && nh == h {
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    out[(y * pw + x) * 3 + c] = norm(y * w + x, c);
                }
            }
        }
        return;
    }
    let (sy, sx) = (h as f32 / nh as f32, w as f32 / nw as f32);
    for oy in 0..nh {
        let fy = oy as f32 * sy;
        let y0 = fy.floor() as usize;
        let y1 = (fy.ceil() as usize).min(h - 1);
        let ly = fy - y0 as f32;
        for ox in 0..nw {
            let fx = ox as f32 * sx;
            let x0 = fx.floor() as usize;
            let x1 = (fx.ceil() as usize).min(w - 1);
            let lx = fx - x0 as f32;
            for c in 0..3 {
                let (tl, tr) = (norm(y0 * w + x0, c), norm(y0 * w + x1, c));
                let (bl, br) = (norm(y1 * w + x0, c), norm(y1 * w + x1, c));
                let top = tl + (tr - tl) * lx;
                let bottom = bl + (br - bl) * lx;
                out[(oy * pw + ox) * 3 + c] = top + (bottom - top) * ly;
            }
        }
    }
}

#[inline(always)]
fn leaky(v: v128) -> v128 {
    f32x4_max(v, f32x4_mul(v, f32x4_splat(0.1)))
}

#[inline(always)]
unsafe fn ld(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn st(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

/// Row y of conv0 (3 × 3, valid) as a matrix product: each position's 27 inputs side by side
/// (`patches` [w0][27]) times the filters [27][16], into `out` [w0][16] (no bias).
fn conv0_row(
    input: &[f32],
    pw: usize,
    y: usize,
    filters: &[f32],
    patches: &mut [f32],
    out: &mut [f32],
) {
    let w0 = pw - 2;
    for x in 0..w0 {
        for ky in 0..3 {
            let at = ((y + ky) * pw + x) * 3;
            patches[x * 27 + ky * 9..x * 27 + ky * 9 + 9].copy_from_slice(&input[at..at + 9]);
        }
    }
    pointwise(patches, w0, 27, 16, filters, out);
}

/// Rows of a convolution (`conv_row(y, row)` writes row y, [w][co], without bias) through the
/// 2 × 2 stride-2 pool, bias and leaky ReLU: [⌈h/2⌉][⌈w/2⌉][co]. Two rows at a time, so the
/// convolution's full output is never held. `rows` holds two of its rows.
fn pooled(
    h: usize,
    w: usize,
    co: usize,
    bias: &[f32],
    out: &mut [f32],
    rows: &mut [f32],
    mut conv_row: impl FnMut(usize, &mut [f32]),
) {
    let (ho, wo) = (h.div_ceil(2), w.div_ceil(2));
    let (mx, row) = rows.split_at_mut(w * co);
    assert!(
        out.len() >= ho * wo * co
            && row.len() >= w * co
            && bias.len() >= co
            && co.is_multiple_of(4)
    );
    for r in 0..ho {
        conv_row(2 * r, mx);
        if 2 * r + 1 < h {
            conv_row(2 * r + 1, row);
            unsafe {
                for i in (0..w * co).step_by(4) {
                    st(
                        mx.as_mut_ptr().add(i),
                        f32x4_max(ld(mx.as_ptr().add(i)), ld(row.as_ptr().add(i))),
                    );
                }
            }
        }
        unsafe {
            let (mp, bp) = (mx.as_ptr(), bias.as_ptr());
            for c in 0..wo {
                let x = 2 * c;
                let o = out.as_mut_ptr().add((r * wo + c) * co);
                for k in (0..co).step_by(4) {
                    let mut m = ld(mp.add(x * co + k));
                    if x + 1 < w {
                        m = f32x4_max(m, ld(mp.add((x + 1) * co + k)));
                    }
                    st(o.add(k), leaky(f32x4_add(m, ld(bp.add(k)))));
                }
            }
        }
    }
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

/// `out` [n][co] = `input` [n][ci] × `filter` [ci][co] (no bias). co a multiple of 8.
#[inline(never)]
fn pointwise(input: &[f32], n: usize, ci: usize, co: usize, filter: &[f32], out: &mut [f32]) {
    assert!(
        input.len() >= n * ci
            && out.len() >= n * co
            && filter.len() >= ci * co
            && co.is_multiple_of(8)
    );
    unsafe {
        let (ip, fp, op) = (input.as_ptr(), filter.as_ptr(), out.as_mut_ptr());
        let mut p = 0;
        while p + 4 <= n {
            let rows: [*const f32; 4] = core::array::from_fn(|q| ip.add((p + q) * ci));
            for o in (0..co).step_by(8) {
                // 4 pixels × 8 outputs: eight accumulators stay in registers.
                let mut acc = [f32x4_splat(0.0); 8];
                let mut wp = fp.add(o);
                for k in 0..ci {
                    let (w0, w1) = (ld(wp), ld(wp.add(4)));
                    wp = wp.add(co);
                    for (q, row) in rows.iter().enumerate() {
                        let s = f32x4_splat(*row.add(k));
                        acc[2 * q] = f32x4_add(acc[2 * q], f32x4_mul(s, w0));
                        acc[2 * q + 1] = f32x4_add(acc[2 * q + 1], f32x4_mul(s, w1));
                    }
                }
                for q in 0..4 {
                    let dst = op.add((p + q) * co + o);
                    st(dst, acc[2 * q]);
                    st(dst.add(4), acc[2 * q + 1]);
                }
            }
            p += 4;
        }
        while p < n {
            let i0 = ip.add(p * ci);
            for o in (0..co).step_by(8) {
                let (mut a, mut b) = (f32x4_splat(0.0), f32x4_splat(0.0));
                let mut wp = fp.add(o);
                for k in 0..ci {
                    let s = f32x4_splat(*i0.add(k));
                    a = f32x4_add(a, f32x4_mul(s, ld(wp)));
                    b = f32x4_add(b, f32x4_mul(s, ld(wp.add(4))));
                    wp = wp.add(co);
                }
                st(op.add(p * co + o), a);
                st(op.add(p * co + o + 4), b);
            }
            p += 1;
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
                        m = f32x4_max(m, ld(ip.add((y * w + x + 1) * c + k)));
                    }
                    if y + 1 < h {
                        m = f32x4_max(m, ld(ip.add(((y + 1) * w + x) * c + k)));
                        if x + 1 < w {
                            m = f32x4_max(m, ld(ip.add(((y + 1) * w + x + 1) * c + k)));
                        }
                    }
                    st(op.add((y * w + x) * c + k), m);
                }
            }
        }
    }
}
