//! This crate contains a JPEG decoder.
//!
//! # Examples
//!
//! ```
//! use jpeg_decoder::Decoder;
//! use std::fs::File;
//! use std::io::BufReader;
//!
//! let file = File::open("tests/reftest/images/extraneous-data.jpg").expect("failed to open file");
//! let mut decoder = Decoder::new(BufReader::new(file));
//! let pixels = decoder.decode().expect("failed to decode image");
//! let metadata = decoder.info().unwrap();
//! ```
//!
//! Get metadata from a file without decoding it:
//!
//! ```
//! use jpeg_decoder::Decoder;
//! use std::fs::File;
//! use std::io::BufReader;
//!
//! let file = File::open("tests/reftest/images/extraneous-data.jpg").expect("failed to open file");
//! let mut decoder = Decoder::new(BufReader::new(file));
//! decoder.read_info().expect("failed to read metadata");
//! let metadata = decoder.info().unwrap();
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(feature = "platform_independent", forbid(unsafe_code))]

extern crate alloc;
extern crate core;

#[cfg(feature = "rayon")]
extern crate rayon;

pub use decoder::{ColorTransform, Decoder, ImageInfo, PixelFormat};
pub use error::{Error, UnsupportedFeature};
pub use parser::CodingProcess;

use std::io;

#[cfg(not(feature = "platform_independent"))]
mod arch;
mod decoder;
mod error;
mod huffman;
mod idct;
mod marker;
mod parser;
mod upsampler;
mod worker;

/// avatar-edge: what the decoder reads from. A reader that holds the whole file in memory (the
/// only one here: `&[u8]`) lends its unread bytes, so the entropy decoder can take up to eight
/// at a time instead of one `read_exact` per byte (src/huffman.rs `read_bits`). Any other
/// reader implements it with the defaults and is read byte by byte as before.
pub trait JpegRead: io::Read {
    /// The bytes not yet read; empty when the reader cannot lend them.
    fn unread(&self) -> &[u8] {
        &[]
    }
    /// Marks the first `count` bytes of `unread()` as read.
    fn consume(&mut self, count: usize) {
        debug_assert_eq!(count, 0);
    }
}

impl JpegRead for &[u8] {
    #[inline]
    fn unread(&self) -> &[u8] {
        self
    }
    #[inline]
    fn consume(&mut self, count: usize) {
        *self = &self[count..];
    }
}

fn read_u8<R: io::Read>(reader: &mut R) -> io::Result<u8> {
    let mut buf = [0];
    reader.read_exact(&mut buf)?;
    Ok(buf[0])
}

fn read_u16_from_be<R: io::Read>(reader: &mut R) -> io::Result<u16> {
    let mut buf = [0, 0];
    reader.read_exact(&mut buf)?;
    Ok(u16::from_be_bytes(buf))
}
