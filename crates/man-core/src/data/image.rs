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

/// What one image may cost before it is decoded: a 190 KB PNG can declare
/// 14000×14000 pixels (560 MB decoded), and a listed "image" can be a 20 GB
/// sparse file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Bytes of one encoded image file.
    pub max_file_bytes: u64,
    /// Width × height, read from the header before anything is decoded.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    /// 64 MiB per file and 40 megapixels (a 7300×5500 photo; 120 MB as RGB):
    /// far beyond any face crop, far below what hurts a training machine.
    fn default() -> Self {
        ImageLimits { max_file_bytes: 64 << 20, max_pixels: 40_000_000 }
    }
}

/// Decodes an encoded JPEG/PNG; `name` labels the error. The image's size is
/// read from its header and checked against `max_pixels` before decoding.
pub fn decode_rgb8(name: &str, bytes: &[u8], max_pixels: u64) -> Result<Rgb8> {
    if is_truncated_jpeg(bytes) {
        return Err(ManError::decode(name, "truncated JPEG (no end-of-image marker after the last scan)"));
    }
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| ManError::decode(name, e))
    };
    let (w, h) = reader()?.into_dimensions().map_err(|e| ManError::decode(name, e))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(ManError::decode(
            name,
            format!(
                "{w}×{h} pixels ({:.1} megapixels) is over the limit of {:.1} megapixels per image (maxImagePixels); \
                 not decoded",
                pixels as f64 / 1e6,
                max_pixels as f64 / 1e6
            ),
        ));
    }
    let mut limits = image::Limits::default();
    // The header's size, so a decoder cannot be talked into more; room for an
    // RGBA or 16-bit intermediate and the decoder's own buffers.
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(pixels.saturating_mul(8).saturating_add(16 << 20));
    let mut decoder = reader()?;
    decoder.limits(limits);
    let img = decoder.decode().map_err(|e| ManError::decode(name, e))?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w == 0 || h == 0 {
        return Err(ManError::decode(name, "image has no pixels"));
    }
    Ok(Rgb8::new(w, h, rgb.into_raw()))
}

/// A face rectangle in pixels of the encoded image: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The part of `img` inside `face`, clipped to the image: manifests give boxes
/// from a detector, which may reach past an edge. A box with nothing inside the
/// image is an error naming the file, not a silently empty face.
pub fn crop_rgb8(name: &str, img: &Rgb8, face: FaceBox) -> Result<Rgb8> {
    let (x0, y0) = (face.x as usize, face.y as usize);
    let x1 = (x0 + face.width as usize).min(img.width);
    let y1 = (y0 + face.height as usize).min(img.height);
    if x0 >= x1 || y0 >= y1 {
        return Err(ManError::decode(
            name,
            format!(
                "face box x={} y={} width={} height={} lies outside the {}x{} image",
                face.x, face.y, face.width, face.height, img.width, img.height
            ),
        ));
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut data = Vec::with_capacity(w * h * 3);
    for row in y0..y1 {
        let start = (row * img.width + x0) * 3;
        data.extend_from_slice(&img.data[start..start + w * 3]);
    }
    Ok(Rgb8::new(w, h, data))
}

/// The JPEG decoder fills a cut-off scan with grey and reports success; PIL
/// (and so the reference) refuses such files, and silently training on a
/// half-grey face is worse than an error. Entropy-coded data never contains
/// FF D9 or FF DA (an FF there is stuffed), so a complete file has an
/// end-of-image marker after its last start-of-scan, even with an embedded
/// thumbnail earlier on.
fn is_truncated_jpeg(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let last = |marker: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == marker);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi < sos,
        (Some(_), None) => true,
        // No scan at all: the decoder reports that itself.
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_keeps_the_box_clipped_to_the_image() {
        // 4x3 image whose red channel is 10*row + column.
        let data: Vec<u8> = (0..3).flat_map(|r| (0..4).flat_map(move |c| [10 * r + c, 0, 0])).collect();
        let img = Rgb8::new(4, 3, data);
        let face = crop_rgb8("a.jpg", &img, FaceBox { x: 1, y: 1, width: 2, height: 5 }).unwrap();
        assert_eq!((face.width, face.height), (2, 2));
        assert_eq!(face.data.iter().step_by(3).copied().collect::<Vec<_>>(), vec![11, 12, 21, 22]);
        let err = crop_rgb8("a.jpg", &img, FaceBox { x: 4, y: 0, width: 3, height: 3 }).unwrap_err();
        assert!(err.to_string().contains("a.jpg"), "{err}");
        assert!(err.to_string().contains("outside the 4x3 image"), "{err}");
    }

    #[test]
    fn truncation_needs_an_eoi_after_the_last_scan() {
        assert!(!is_truncated_jpeg(b"\x89PNG"));
        assert!(!is_truncated_jpeg(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9]));
        assert!(!is_truncated_jpeg(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 0xFF, 0xD9, 0, 0]));
        assert!(is_truncated_jpeg(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 3]));
        // A thumbnail's EOI before the main scan does not count.
        assert!(is_truncated_jpeg(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2]));
    }
}
