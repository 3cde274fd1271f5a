//! An animated WebP's first frame as 8-bit RGBA on the canvas (image-rs's image-webp). The
//! libwebp build in @jsquash decodes still images only; as JPEG, PNG or AVIF an animated avatar
//! renders as its first frame, like an animated GIF (gif_rgba.rs), and the later frames are
//! never decoded. WebP output decodes every frame: animation.rs.

use image_webp::WebPDecoder;
use std::io::Cursor;

pub fn decode(data: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let mut decoder = WebPDecoder::new(Cursor::new(data)).map_err(|e| e.to_string())?;
    if !decoder.is_animated() {
        return Err("not an animated WebP".into());
    }
    decoder.set_memory_limit(256 * 1024 * 1024);
    // Transparent where the first frame does not cover the canvas, as browsers show it.
    decoder.set_background_color([0, 0, 0, 0]).map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions();
    let size = decoder.output_buffer_size().ok_or("image too large")?;
    let count = width as usize * height as usize;
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(count * 4).map_err(|_| format!("cannot allocate {} bytes for {width}×{height}", count * 4))?;
    buf.resize(size, 0);
    decoder.read_frame(&mut buf).map_err(|e| e.to_string())?;
    if size == count * 3 {
        // Widen RGB to RGBA in place, last pixel first.
        buf.resize(count * 4, 255);
        for i in (0..count).rev() {
            let (r, g, b) = (buf[i * 3], buf[i * 3 + 1], buf[i * 3 + 2]);
            buf[i * 4..i * 4 + 4].copy_from_slice(&[r, g, b, 255]);
        }
    } else if size != count * 4 {
        return Err(format!("{size} bytes for {width}×{height}"));
    }
    Ok((width, height, buf))
}
