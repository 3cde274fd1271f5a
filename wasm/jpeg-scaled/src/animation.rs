//! Every frame of an animated GIF or WebP, one at a time, each composited onto the full canvas
//! as a browser shows it (src/render/animation/render-animation.ts encodes them as an animated
//! WebP). Only the canvas (and, for a GIF frame disposed "to previous", one saved copy) is held
//! between frames, so memory does not grow with the number of frames.
//!
//! GIF compositing follows what browsers do: the canvas starts transparent (the background
//! colour index is ignored), a frame's transparent pixels leave the canvas as it was, and the
//! frame's disposal (keep, clear its rectangle to transparent, restore what was under it) is
//! applied before the next frame is drawn. Delays of 0 or 10 ms play as 100 ms, as in browsers.
//! Animated WebP frames are composited by image-webp (blend and dispose flags of each ANMF).

use gif::{ColorOutput, DecodeOptions, DisposalMethod, MemoryLimit, Repeat};
use image_webp::{LoopCount, WebPDecoder};
use std::io::Cursor;

pub struct Animation {
    source: Source,
    width: usize,
    height: usize,
    /// The composited canvas after the last frame, RGBA.
    canvas: Vec<u8>,
    /// The last frame's display time in milliseconds.
    pub delay_ms: u32,
}

enum Source {
    Gif(Box<GifState>),
    Webp(Box<WebPDecoder<Cursor<Vec<u8>>>>, Vec<u8>),
}

struct GifState {
    decoder: gif::Decoder<Cursor<Vec<u8>>>,
    /// What the last frame asks to be done before the next is drawn: its rectangle, and how.
    pending: Option<(DisposalMethod, usize, usize, usize, usize)>,
    /// The canvas before the last frame was drawn, when its disposal is "restore to previous".
    saved: Vec<u8>,
}

const MEMORY_LIMIT: u64 = 256 * 1024 * 1024;

fn alloc(size: usize, what: &str) -> Result<Vec<u8>, String> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(size).map_err(|_| format!("cannot allocate {size} bytes for {what}"))?;
    v.resize(size, 0);
    Ok(v)
}

impl Animation {
    /// Reads the header of an animated GIF or WebP (`data` is moved in: the decoder reads it as it goes).
    pub fn open(data: Vec<u8>) -> Result<Animation, String> {
        if data.starts_with(b"GIF8") {
            let mut options = DecodeOptions::new();
            options.set_color_output(ColorOutput::RGBA);
            options.set_memory_limit(MemoryLimit::Bytes(std::num::NonZeroU64::new(MEMORY_LIMIT).unwrap()));
            let decoder = options.read_info(Cursor::new(data)).map_err(|e| e.to_string())?;
            let (width, height) = (decoder.width() as usize, decoder.height() as usize);
            if width == 0 || height == 0 {
                return Err("zero-sized logical screen".into());
            }
            let canvas = alloc(width * height * 4, "the canvas")?;
            let state = GifState { decoder, pending: None, saved: Vec::new() };
            return Ok(Animation { source: Source::Gif(Box::new(state)), width, height, canvas, delay_ms: 0 });
        }
        let mut decoder = WebPDecoder::new(Cursor::new(data)).map_err(|e| e.to_string())?;
        if !decoder.is_animated() {
            return Err("not an animated WebP".into());
        }
        decoder.set_memory_limit(MEMORY_LIMIT as usize);
        decoder.set_background_color([0, 0, 0, 0]).map_err(|e| e.to_string())?;
        let (w, h) = decoder.dimensions();
        let (width, height) = (w as usize, h as usize);
        let size = decoder.output_buffer_size().ok_or("image too large")?;
        let frame = alloc(size, "a frame")?;
        let canvas = alloc(width * height * 4, "the canvas")?;
        Ok(Animation { source: Source::Webp(Box::new(decoder), frame), width, height, canvas, delay_ms: 0 })
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    pub fn canvas(&self) -> &[u8] {
        &self.canvas
    }

    /// Loop count with WebP's meaning (0 forever, else how many times it plays). A GIF's
    /// NETSCAPE count is how many times it repeats after the first play, and a GIF without
    /// one plays once (what gif2webp writes too).
    pub fn loop_count(&self) -> u32 {
        match &self.source {
            Source::Gif(state) => match state.decoder.repeat() {
                Repeat::Infinite => 0,
                Repeat::Finite(n) => (u32::from(n) + 1).min(65535),
            },
            Source::Webp(decoder, _) => match decoder.loop_count() {
                LoopCount::Forever => 0,
                LoopCount::Times(n) => u32::from(n.get()),
            },
        }
    }

    /// Composites the next frame onto the canvas; false when there are no more.
    pub fn next(&mut self) -> Result<bool, String> {
        let (width, height) = (self.width, self.height);
        match &mut self.source {
            Source::Gif(state) => next_gif(state, &mut self.canvas, width, height, &mut self.delay_ms),
            Source::Webp(decoder, frame) => {
                let duration = match decoder.read_frame(frame) {
                    Ok(d) => d,
                    Err(image_webp::DecodingError::NoMoreFrames) => return Ok(false),
                    Err(e) => return Err(e.to_string()),
                };
                self.delay_ms = duration;
                if frame.len() == self.canvas.len() {
                    self.canvas.copy_from_slice(frame);
                } else {
                    for (c, f) in self.canvas.chunks_exact_mut(4).zip(frame.chunks_exact(3)) {
                        c.copy_from_slice(&[f[0], f[1], f[2], 255]);
                    }
                }
                Ok(true)
            }
        }
    }
}

fn next_gif(state: &mut GifState, canvas: &mut [u8], width: usize, height: usize, delay_ms: &mut u32) -> Result<bool, String> {
    // The previous frame's disposal, now that another frame follows.
    if let Some((method, left, top, w, h)) = state.pending.take() {
        match method {
            DisposalMethod::Background => {
                for y in top..(top + h).min(height) {
                    let row = y * width;
                    let end = (left + w).min(width);
                    if left < end {
                        canvas[(row + left) * 4..(row + end) * 4].fill(0);
                    }
                }
            }
            DisposalMethod::Previous if state.saved.len() == canvas.len() => canvas.copy_from_slice(&state.saved),
            _ => {}
        }
    }
    let frame = match state.decoder.read_next_frame().map_err(|e| e.to_string())? {
        Some(frame) => frame,
        None => return Ok(false),
    };
    let (fw, fh) = (frame.width as usize, frame.height as usize);
    let (left, top) = (frame.left as usize, frame.top as usize);
    if frame.buffer.len() != fw * fh * 4 {
        return Err(format!("frame of {} bytes for {fw}×{fh}", frame.buffer.len()));
    }
    if frame.dispose == DisposalMethod::Previous {
        if state.saved.len() != canvas.len() {
            state.saved = alloc(canvas.len(), "the saved canvas")?;
        }
        state.saved.copy_from_slice(canvas);
    }
    state.pending = Some((frame.dispose, left, top, fw, fh));
    // Browsers play a delay of 0 or 10 ms as 100 ms.
    *delay_ms = if frame.delay <= 1 { 100 } else { u32::from(frame.delay) * 10 };
    // Clipped to the screen (some encoders write frames that reach past it; browsers clip).
    let cols = fw.min(width.saturating_sub(left));
    for y in 0..fh.min(height.saturating_sub(top)) {
        let src = &frame.buffer[y * fw * 4..(y * fw + cols) * 4];
        let at = ((top + y) * width + left) * 4;
        for (c, p) in canvas[at..at + cols * 4].chunks_exact_mut(4).zip(src.chunks_exact(4)) {
            if p[3] != 0 {
                c.copy_from_slice(p);
            }
        }
    }
    Ok(true)
}
