//! PNG → 8-bit RGBA, row by row into the one output buffer: no second image-sized buffer
//! (16-bit samples are stripped per row, palettes and tRNS expanded per row), and a file whose
//! image data ends early or is corrupt is an error, never a partly filled image.
//!
//! At 1/`denominator` (2, 4 or 8; a non-interlaced file only) each d×d block of source pixels
//! is averaged into one output pixel as its rows are decoded, ⌈width/d⌉ × ⌈height/d⌉ (edge
//! blocks average the pixels they have), so the full-size image never exists: libvips'
//! shrink-on-load for PNG. Colour is averaged weighted by alpha (a transparent pixel's colour
//! does not bleed into its neighbours), as src/render/pre-shrink.ts does.

use png::{ColorType, Decoder, Limits, Transformations};

/// Sums of one output row's blocks: colour weighted by alpha, and alpha (for an opaque image,
/// grey or RGB: plain colour sums, weighted by 255 when emitted).
struct BlockRow {
    d: usize,
    /// Of the decoded rows: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    channels: usize,
    sums: Vec<u32>,
    rows: usize,
}

impl BlockRow {
    fn new(width: usize, d: usize, channels: usize) -> Self {
        let out_w = width.div_ceil(d);
        BlockRow { d, channels, sums: vec![0; out_w * 4], rows: 0 }
    }

    fn opaque(&self) -> bool {
        matches!(self.channels, 1 | 3)
    }

    /// Adds one decoded row (`widened`: a buffer for widening a grey+alpha row to RGBA).
    fn add_row(&mut self, row: &[u8], widened: &mut Vec<u8>) {
        if self.opaque() {
            self.add_opaque(row);
        } else if self.channels == 4 {
            self.add(row);
        } else {
            widen(row, self.channels, widened);
            self.add(widened);
        }
    }

    /// Adds one source row of grey (1 channel) or RGB (3) samples, all opaque: the same sums
    /// `add` makes of the row widened to RGBA, without the widening or a product per sample.
    fn add_opaque(&mut self, row: &[u8]) {
        let (d, channels) = (self.d, self.channels);
        for (block, sum) in row.chunks(d * channels).zip(self.sums.chunks_exact_mut(4)) {
            let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
            if channels == 1 {
                for &v in block {
                    r += v as u32;
                }
                (g, b) = (r, r);
            } else {
                for px in block.chunks_exact(3) {
                    r += px[0] as u32;
                    g += px[1] as u32;
                    b += px[2] as u32;
                }
            }
            sum[0] += r;
            sum[1] += g;
            sum[2] += b;
        }
        self.rows += 1;
    }

    /// Adds one source row of RGBA.
    fn add(&mut self, row: &[u8]) {
        let d = self.d;
        for (block, sum) in row.chunks(d * 4).zip(self.sums.chunks_exact_mut(4)) {
            let (mut r, mut g, mut b, mut a) = (0u32, 0u32, 0u32, 0u32);
            for px in block.chunks_exact(4) {
                let alpha = px[3] as u32;
                r += px[0] as u32 * alpha;
                g += px[1] as u32 * alpha;
                b += px[2] as u32 * alpha;
                a += alpha;
            }
            sum[0] += r;
            sum[1] += g;
            sum[2] += b;
            sum[3] += a;
        }
        self.rows += 1;
    }

    /// Writes the averaged output row and starts the next one.
    fn emit(&mut self, width: usize, out: &mut [u8]) {
        let opaque = self.opaque();
        for (x, (sum, px)) in self.sums.chunks_exact_mut(4).zip(out.chunks_exact_mut(4)).enumerate() {
            let cols = (width - x * self.d).min(self.d) as u32;
            let n = cols * self.rows as u32;
            if opaque {
                // What `add` would have summed: every colour × 255, alpha 255 × n.
                sum[0] *= 255;
                sum[1] *= 255;
                sum[2] *= 255;
                sum[3] = 255 * n;
            }
            let a = sum[3];
            if a == 0 {
                px.copy_from_slice(&[0, 0, 0, 0]);
            } else {
                // Rounded: colour = Σ(c·α)/Σα, alpha = Σα/n.
                px[0] = ((sum[0] + a / 2) / a) as u8;
                px[1] = ((sum[1] + a / 2) / a) as u8;
                px[2] = ((sum[2] + a / 2) / a) as u8;
                px[3] = ((a + n / 2) / n) as u8;
            }
            sum.copy_from_slice(&[0, 0, 0, 0]);
        }
        self.rows = 0;
    }
}

/// Widens one decoded row (1–4 channels of 8 bits) to RGBA.
fn widen(data: &[u8], channels: usize, out: &mut Vec<u8>) {
    out.clear();
    match channels {
        1 => out.extend(data.iter().flat_map(|&v| [v, v, v, 255])),
        2 => out.extend(data.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]])),
        3 => out.extend(data.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255])),
        _ => out.extend_from_slice(data),
    }
}

pub fn decode_scaled(data: &[u8], denominator: u32) -> Result<(u32, u32, Vec<u8>), String> {
    let mut decoder = Decoder::new(data);
    decoder.set_transformations(Transformations::normalize_to_color8());
    // Text chunks are not used; the limit covers the decoder's own buffers (and an iCCP profile).
    decoder.set_ignore_text_chunk(true);
    decoder.set_limits(Limits { bytes: 64 * 1024 * 1024 });
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let (width, height) = (reader.info().width, reader.info().height);
    let (color, _) = reader.output_color_type();
    let channels = match color {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        other => return Err(format!("unexpected output colour type {other:?}")),
    };
    let d = denominator.max(1) as usize;
    if d > 1 && reader.info().interlaced {
        return Err("an interlaced PNG decodes at full size only".into());
    }
    let (out_w, out_h) = ((width as usize).div_ceil(d), (height as usize).div_ceil(d));
    let stride = out_w.checked_mul(4).ok_or("image too wide")?;
    let size = stride.checked_mul(out_h).ok_or("image too large")?;
    let mut rgba: Vec<u8> = Vec::new();
    rgba.try_reserve_exact(size).map_err(|_| format!("cannot allocate {size} bytes for {out_w}×{out_h}"))?;
    // Interlaced passes write scattered pixels, so start from transparent black; every pixel
    // is written by some pass of a complete file, and an incomplete one is an error.
    rgba.resize(size, 0);
    let mut row_rgba: Vec<u8> = Vec::new();
    let mut blocks = (d > 1).then(|| BlockRow::new(width as usize, d, channels));
    let mut rows = 0u64;
    while let Some(row) = reader.next_interlaced_row().map_err(|e| e.to_string())? {
        if matches!(row.interlace(), png::InterlaceInfo::Null(_)) && row.data().len() != (width as usize) * channels {
            return Err(format!("row of {} bytes, expected {}", row.data().len(), width as usize * channels));
        }
        match (row.interlace(), blocks.as_mut()) {
            (png::InterlaceInfo::Null(_), Some(b)) => {
                if rows as usize >= height as usize {
                    return Err("more rows than the header declares".into());
                }
                // Opaque grey and RGB rows are summed as they come, without widening (BlockRow).
                b.add_row(row.data(), &mut row_rgba);
                if (rows as usize + 1) % d == 0 || rows as usize + 1 == height as usize {
                    let at = (rows as usize / d) * stride;
                    b.emit(width as usize, &mut rgba[at..at + stride]);
                }
            }
            (png::InterlaceInfo::Null(_), None) => {
                let at = (rows as usize) * stride;
                let dest = rgba.get_mut(at..at + stride).ok_or("more rows than the header declares")?;
                widen(row.data(), channels, &mut row_rgba);
                dest.copy_from_slice(&row_rgba);
            }
            (png::InterlaceInfo::Adam7(info), _) => {
                widen(row.data(), channels, &mut row_rgba);
                png::expand_interlaced_row(&mut rgba, stride, &row_rgba, info, 32);
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err("no image rows".into());
    }
    // An iCCP profile (decompressed by the decoder) describes these pixels: to sRGB (colour.rs).
    // Without one (and without an sRGB chunk), gAMA and cHRM may say they are not sRGB.
    let info = reader.info();
    if let Some(icc) = info.icc_profile.as_deref() {
        crate::colour::rgba_to_srgb(icc, &mut rgba)?;
    } else if info.srgb.is_none() {
        let xy = |(x, y): (png::ScaledFloat, png::ScaledFloat)| (x.into_value(), y.into_value());
        let chrm = info.chrm_chunk.map(|c| [xy(c.white), xy(c.red), xy(c.green), xy(c.blue)]);
        if let Some(profile) = crate::colour::png_chunks_profile(info.gama_chunk.map(|g| g.into_scaled()), chrm) {
            crate::colour::profile_to_srgb(&profile, &mut rgba)?;
        }
    }
    Ok((out_w as u32, out_h as u32, rgba))
}
