//! Decoded pixels and the decoder. Every image becomes 8-bit RGB, row-major,
//! interleaved (HWC), whatever its file format or colour type.

use crate::{ManError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb8 {
    pub width: usize,
    pub height: usize,
    /// width * height * 3 bytes.
    pub data: Vec<u8>,
}

impl Rgb8 {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Self {
        debug_assert_eq!(data.len(), width * height * 3);
        Rgb8 { width, height, data }
    }

    pub fn byte_len(&self) -> usize {
        self.data.len()
    }
}

/// Decodes an encoded JPEG/PNG; `name` labels the error.
pub fn decode_rgb8(name: &str, bytes: &[u8]) -> Result<Rgb8> {
    let img = image::load_from_memory(bytes).map_err(|e| ManError::decode(name, e))?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w == 0 || h == 0 {
        return Err(ManError::decode(name, "image has no pixels"));
    }
    Ok(Rgb8::new(w, h, rgb.into_raw()))
}
