//! PNG → 8-bit RGBA, row by row into the one output buffer: no second image-sized buffer
//! (16-bit samples are stripped per row, palettes and tRNS expanded per row), and a file whose
//! image data ends early or is corrupt is an error, never a partly filled image.

use png::{ColorType, Decoder, Limits, Transformations};

pub fn decode(data: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
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
    let stride = (width as usize).checked_mul(4).ok_or("image too wide")?;
    let size = stride.checked_mul(height as usize).ok_or("image too large")?;
    let mut rgba: Vec<u8> = Vec::new();
    rgba.try_reserve_exact(size).map_err(|_| format!("cannot allocate {size} bytes for {width}×{height}"))?;
    // Interlaced passes write scattered pixels, so start from transparent black; every pixel
    // is written by some pass of a complete file, and an incomplete one is an error.
    rgba.resize(size, 0);
    let mut row_rgba: Vec<u8> = Vec::new();
    let mut rows = 0u64;
    while let Some(row) = reader.next_interlaced_row().map_err(|e| e.to_string())? {
        let data = row.data();
        let pixels = data.len() / channels;
        row_rgba.clear();
        row_rgba.reserve(pixels * 4);
        for px in data.chunks_exact(channels) {
            let rgba_px = match channels {
                1 => [px[0], px[0], px[0], 255],
                2 => [px[0], px[0], px[0], px[1]],
                3 => [px[0], px[1], px[2], 255],
                _ => [px[0], px[1], px[2], px[3]],
            };
            row_rgba.extend_from_slice(&rgba_px);
        }
        match row.interlace() {
            png::InterlaceInfo::Null(_) => {
                let at = (rows as usize) * stride;
                let dest = rgba.get_mut(at..at + stride).ok_or("more rows than the header declares")?;
                if row_rgba.len() != stride {
                    return Err(format!("row of {} bytes, expected {stride}", row_rgba.len()));
                }
                dest.copy_from_slice(&row_rgba);
            }
            png::InterlaceInfo::Adam7(info) => png::expand_interlaced_row(&mut rgba, stride, &row_rgba, info, 32),
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
    Ok((width, height, rgba))
}
