//! GIF → 8-bit RGBA: the first frame, placed on the logical screen (transparent where it does
//! not cover it). An animated GIF renders as its first frame in JPEG, PNG and AVIF (README,
//! "Animated sources"); the rest of the file is never decoded, so a long animation costs no
//! more than a still. WebP output decodes every frame: animation.rs.

use gif::{ColorOutput, DecodeOptions, MemoryLimit};

pub fn decode(data: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let mut options = DecodeOptions::new();
    options.set_color_output(ColorOutput::RGBA);
    // Covers the decoder's own frame buffer (the screen size is limited before this runs).
    options.set_memory_limit(MemoryLimit::Bytes(std::num::NonZeroU64::new(256 * 1024 * 1024).unwrap()));
    let mut decoder = options.read_info(data).map_err(|e| e.to_string())?;
    let (width, height) = (decoder.width() as usize, decoder.height() as usize);
    if width == 0 || height == 0 {
        return Err("zero-sized logical screen".into());
    }
    let frame = decoder.read_next_frame().map_err(|e| e.to_string())?.ok_or("no image in the file")?;
    let size = width.checked_mul(height).and_then(|n| n.checked_mul(4)).ok_or("image too large")?;
    let mut rgba: Vec<u8> = Vec::new();
    rgba.try_reserve_exact(size).map_err(|_| format!("cannot allocate {size} bytes for {width}×{height}"))?;
    rgba.resize(size, 0);
    let (fw, fh) = (frame.width as usize, frame.height as usize);
    let (left, top) = (frame.left as usize, frame.top as usize);
    if frame.buffer.len() != fw * fh * 4 {
        return Err(format!("frame of {} bytes for {fw}×{fh}", frame.buffer.len()));
    }
    // Clip a frame that reaches past the screen (some encoders write those; browsers clip).
    let cols = fw.min(width.saturating_sub(left));
    for y in 0..fh.min(height.saturating_sub(top)) {
        let src = &frame.buffer[y * fw * 4..(y * fw + cols) * 4];
        let at = ((top + y) * width + left) * 4;
        rgba[at..at + cols * 4].copy_from_slice(src);
    }
    Ok((width as u32, height as u32, rgba))
}
