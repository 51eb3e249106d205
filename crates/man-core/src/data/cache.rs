//! Where encoded images come from, and the budgeted store of decoded pixels.
//! Policy: keep every decoded image while the budget lasts, then stop caching
//! (later images are decoded again on each use). Simple, and with RAF-DB-sized
//! sets the whole dataset fits in well under a gigabyte.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::image::{crop_rgb8, decode_rgb8, FaceBox, ImageLimits, Rgb8};
use crate::files::{format_bytes, read_regular_file};
use crate::{ManError, Result};

pub enum Source {
    Path(PathBuf),
    /// An image file of which only the face box is kept (AffectNet's originals).
    CroppedPath(PathBuf, FaceBox),
    Buffer { name: String, bytes: Vec<u8> },
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Path(p) | Source::CroppedPath(p, _) => p.display().to_string(),
            Source::Buffer { name, .. } => name.clone(),
        }
    }

    fn decode(&self, limits: &ImageLimits) -> Result<Rgb8> {
        match self {
            Source::Path(p) => {
                let bytes = read_regular_file(p, limits.max_file_bytes, "per image file (maxImageMB)")?;
                decode_rgb8(&p.display().to_string(), &bytes, limits.max_pixels)
            }
            Source::Buffer { name, bytes } => {
                if bytes.len() as u64 > limits.max_file_bytes {
                    return Err(ManError::decode(
                        name,
                        format!(
                            "{} is over the limit of {} per image file (maxImageMB)",
                            format_bytes(bytes.len() as u64),
                            format_bytes(limits.max_file_bytes)
                        ),
                    ));
                }
                decode_rgb8(name, bytes, limits.max_pixels)
            }
            Source::CroppedPath(p, face) => {
                let bytes = read_regular_file(p, limits.max_file_bytes, "per image file (maxImageMB)")?;
                let name = p.display().to_string();
                crop_rgb8(&name, &decode_rgb8(&name, &bytes, limits.max_pixels)?, *face)
            }
        }
    }
}

pub struct ImageStore {
    sources: Vec<Source>,
    /// One lock per image: concurrent requests for the same image wait for a
    /// single decode instead of decoding twice.
    slots: Vec<Mutex<Option<Arc<Rgb8>>>>,
    budget: usize,
    limits: ImageLimits,
    used: AtomicUsize,
    decodes: AtomicU64,
}

impl ImageStore {
    pub fn new(sources: Vec<Source>, budget: usize) -> Self {
        let slots = sources.iter().map(|_| Mutex::new(None)).collect();
        ImageStore {
            sources,
            slots,
            budget,
            limits: ImageLimits::default(),
            used: AtomicUsize::new(0),
            decodes: AtomicU64::new(0),
        }
    }

    pub fn set_limits(&mut self, limits: ImageLimits) {
        self.limits = limits;
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn name(&self, index: usize) -> String {
        self.sources[index].name()
    }

    /// Decoded pixels of image `index`, from the cache when present.
    pub fn get(&self, index: usize) -> Result<Arc<Rgb8>> {
        // A panic while decoding cannot leave the slot half-written (it is
        // only ever assigned a finished image), so a poisoned lock is usable.
        let mut slot = self.slots[index].lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(img) = slot.as_ref() {
            return Ok(Arc::clone(img));
        }
        self.decodes.fetch_add(1, Ordering::Relaxed);
        let img = Arc::new(self.sources[index].decode(&self.limits)?);
        if self.reserve(img.byte_len()) {
            *slot = Some(Arc::clone(&img));
        }
        Ok(img)
    }

    fn reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.budget)
            })
            .is_ok()
    }

    /// Decodes performed so far (cache misses), for tests and diagnostics.
    pub fn decode_count(&self) -> u64 {
        self.decodes.load(Ordering::Relaxed)
    }

    pub fn cached_bytes(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}
