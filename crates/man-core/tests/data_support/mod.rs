//! Fixtures for the image-pipeline tests: a self-deleting temp dir and tiny
//! JPEG/PNG images encoded with the `image` crate.
#![allow(dead_code)] // each test file uses a different subset

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use image::{ImageFormat, RgbImage};
use man_core::data::{PipelineOptions, IMAGENET_MEAN, IMAGENET_STD};

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("man-data-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn image(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)))
}

pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode fixture");
    out.into_inner()
}

/// A colourful, non-symmetric pattern that every augmentation visibly changes.
pub fn textured(w: u32, h: u32, seed: u32) -> RgbImage {
    image(w, h, |x, y| {
        let v = x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed.wrapping_mul(2_654_435_761);
        [(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, (v % 256) as u8]
    })
}

pub fn png(img: &RgbImage) -> Vec<u8> {
    encode(img, ImageFormat::Png)
}

pub fn jpeg(img: &RgbImage) -> Vec<u8> {
    encode(img, ImageFormat::Jpeg)
}

pub fn opts(image_size: u32, threads: usize, cache_bytes: usize) -> PipelineOptions {
    PipelineOptions { image_size, seed: 42, cache_bytes, threads }
}

/// The normalised value of an 8-bit channel value, computed the textbook way.
pub fn normalised(v: u8, channel: usize) -> f32 {
    (f32::from(v) / 255.0 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
}

/// Pixel (x, y) of image `n` in an NCHW batch of side `s`.
pub fn pixel(batch: &[f32], n: usize, s: usize, x: usize, y: usize) -> [f32; 3] {
    let base = n * 3 * s * s;
    [0, 1, 2].map(|c| batch[base + c * s * s + y * s + x])
}

pub fn sample(batch: &[f32], n: usize, s: usize) -> &[f32] {
    &batch[n * 3 * s * s..(n + 1) * 3 * s * s]
}
