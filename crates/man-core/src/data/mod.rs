//! The image pipeline: decode once, cache decoded pixels, produce test / weak /
//! strong views (docs/method.md) as normalised f32 NCHW batches, in parallel.
//! Every view is a pure function of (seed, epoch, sample index, view, salt).

mod cache;
mod enhance;
mod geometry;
mod image;
mod normalise;
mod resize;
mod rng;
mod tone;
mod views;

use std::path::PathBuf;

use rayon::prelude::*;

use crate::{ManError, Result};
use cache::{ImageStore, Source};
pub use image::ImageLimits;
use normalise::Normaliser;
pub use image::FaceBox;
pub use normalise::{IMAGENET_MEAN, IMAGENET_STD};
use views::Scratch;

/// Which augmentation pipeline of docs/method.md produces a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Test,
    Weak,
    Strong,
}

impl View {
    /// Stable tag mixed into the per-sample seed.
    fn tag(self) -> u64 {
        match self {
            View::Test => 0,
            View::Weak => 1,
            View::Strong => 2,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Output height and width.
    pub image_size: u32,
    pub seed: u64,
    /// Budget for decoded pixels kept in memory.
    pub cache_bytes: usize,
    /// Worker threads; 0 = all cores.
    pub threads: usize,
}

#[derive(Debug)]
pub struct DecodeFailure {
    pub index: usize,
    pub path: String,
    pub error: ManError,
}

thread_local! {
    /// Working buffers of each pool thread, kept across batches so that a
    /// warm pipeline allocates nothing but its output.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Smallest and largest output side: the strong view's reflect padding needs
/// a few pixels, and beyond 4096 a batch would not fit in memory anyway.
const MIN_SIDE: u32 = 8;
const MAX_SIDE: u32 = 4096;

/// Source of `Dataset::id`: distinct for every dataset of the process.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub struct Dataset {
    id: u64,
    store: ImageStore,
    opts: PipelineOptions,
    norm: Normaliser,
    pool: rayon::ThreadPool,
}

impl Dataset {
    pub fn from_paths(paths: Vec<PathBuf>, opts: PipelineOptions) -> Result<Self> {
        Self::new(paths.into_iter().map(Source::Path).collect(), opts)
    }

    /// Image files each cut to its face box after decoding (None: the whole image).
    pub fn from_cropped_paths(items: Vec<(PathBuf, Option<FaceBox>)>, opts: PipelineOptions) -> Result<Self> {
        let sources = items
            .into_iter()
            .map(|(path, face)| match face {
                Some(face) => Source::CroppedPath(path, face),
                None => Source::Path(path),
            })
            .collect();
        Self::new(sources, opts)
    }

    /// Encoded images held in memory; `name` labels each in error messages.
    pub fn from_buffers(items: Vec<(String, Vec<u8>)>, opts: PipelineOptions) -> Result<Self> {
        Self::new(items.into_iter().map(|(name, bytes)| Source::Buffer { name, bytes }).collect(), opts)
    }

    fn new(sources: Vec<Source>, opts: PipelineOptions) -> Result<Self> {
        if !(MIN_SIDE..=MAX_SIDE).contains(&opts.image_size) {
            return Err(ManError::Config(format!(
                "image_size must be between {MIN_SIDE} and {MAX_SIDE} (got {})",
                opts.image_size
            )));
        }
        if u32::try_from(sources.len()).is_err() {
            return Err(ManError::Config(format!("too many images ({}): at most 2^32 - 1", sources.len())));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .thread_name(|i| format!("man-data-{i}"))
            .build()
            .map_err(|e| ManError::Config(format!("cannot start {} image threads: {e}", opts.threads)))?;
        let store = ImageStore::new(sources, opts.cache_bytes);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Dataset { id, store, opts, norm: Normaliser::imagenet(), pool })
    }

    /// Replaces the default [`ImageLimits`] (before any image is read).
    pub fn with_limits(mut self, limits: ImageLimits) -> Self {
        self.store.set_limits(limits);
        self
    }

    /// Tells datasets apart (a batch prepared ahead for one is not used for another).
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    pub fn image_size(&self) -> u32 {
        self.opts.image_size
    }

    /// Worker threads actually running (resolves `threads: 0`).
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Images decoded so far; a cache hit does not count.
    pub fn decode_count(&self) -> u64 {
        self.store.decode_count()
    }

    /// Bytes of decoded pixels held in the cache.
    pub fn cached_bytes(&self) -> usize {
        self.store.cached_bytes()
    }

    /// Decodes every image once (filling the cache as far as the budget
    /// allows); returns the ones that failed, in index order.
    pub fn scan(&self) -> Vec<DecodeFailure> {
        self.pool.install(|| {
            (0..self.len())
                .into_par_iter()
                .filter_map(|index| {
                    self.store.get(index).err().map(|error| DecodeFailure {
                        index,
                        path: self.store.name(index),
                        error,
                    })
                })
                .collect()
        })
    }

    /// Normalised f32 NCHW pixels (len = n·3·S·S) of `indices`. `salt`
    /// separates independent random draws of the same view in one epoch
    /// (0 for training batches).
    pub fn batch(&self, indices: &[u32], view: View, epoch: u32, salt: u64) -> Result<Vec<f32>> {
        let mut out = vec![0f32; indices.len() * self.sample_len()];
        self.batch_into(indices, view, epoch, salt, &mut out)?;
        Ok(out)
    }

    /// As [`Dataset::batch`], into a caller-owned buffer of exactly
    /// n·3·S·S values. Reusing one buffer spares the page faults of a fresh
    /// multi-megabyte allocation per batch, a large share of the cost at 224 px.
    pub fn batch_into(&self, indices: &[u32], view: View, epoch: u32, salt: u64, out: &mut [f32]) -> Result<()> {
        if let Some(&bad) = indices.iter().find(|&&i| i as usize >= self.len()) {
            return Err(ManError::Config(format!(
                "image index {bad} out of range: the dataset has {} images",
                self.len()
            )));
        }
        let per_image = self.sample_len();
        if out.len() != indices.len() * per_image {
            return Err(ManError::Shape(format!(
                "batch buffer holds {} values, {} images of 3x{s}x{s} need {}",
                out.len(),
                indices.len(),
                indices.len() * per_image,
                s = self.opts.image_size
            )));
        }
        if indices.is_empty() {
            return Ok(());
        }
        let results: Vec<Result<()>> = self.pool.install(|| {
            out.par_chunks_mut(per_image)
                .zip(indices.par_iter())
                .map(|(dst, &index)| {
                    SCRATCH.with(|cell| match cell.try_borrow_mut() {
                        Ok(mut scratch) => self.write_view(index, view, epoch, salt, dst, &mut scratch),
                        // Only reachable if a view re-entered the pool; stay correct anyway.
                        Err(_) => self.write_view(index, view, epoch, salt, dst, &mut Scratch::default()),
                    })
                })
                .collect()
        });
        // The lowest failing position, whatever order the workers finished in.
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    /// Runs `background` on the image threads while `foreground` runs on the
    /// calling thread, and returns both results once both are done (None for
    /// a background job that panicked). No thread is started per call, so a
    /// long run does not churn threads (and their allocator arenas).
    pub fn alongside<A, B: Send>(
        &self,
        background: impl FnOnce() -> B + Send,
        foreground: impl FnOnce() -> A,
    ) -> (A, Option<B>) {
        let mut out = None;
        let slot = &mut out;
        let a = self.pool.in_place_scope(|scope| {
            scope.spawn(move |_| {
                *slot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(background)).ok();
            });
            foreground()
        });
        (a, out)
    }

    /// Values of one sample's view: 3·S·S.
    pub fn sample_len(&self) -> usize {
        let side = self.opts.image_size as usize;
        3 * side * side
    }

    fn write_view(
        &self,
        index: u32,
        view: View,
        epoch: u32,
        salt: u64,
        dst: &mut [f32],
        s: &mut Scratch,
    ) -> Result<()> {
        let img = self.store.get(index as usize)?;
        let side = self.opts.image_size as usize;
        let mut rng = rng::Rng::new(rng::sample_seed(self.opts.seed, epoch, index, view.tag(), salt));
        match view {
            View::Test => views::test_view(&img, side, &self.norm, dst, s),
            View::Weak => views::weak_view(&img, side, &self.norm, &mut rng, dst, s),
            View::Strong => views::strong_view(&img, side, &self.norm, &mut rng, dst, s),
        }
        Ok(())
    }
}
