//! The `Dataset` class: man-core's image pipeline behind an Arc, so batches
//! are built on the libuv pool while JavaScript keeps the handle.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Float32Array, Uint32Array, Uint8Array};
use napi_derive::napi;

use man_core::data::{Dataset, FaceBox, ImageLimits, PipelineOptions};
use man_core::ManError;

use crate::args;
use crate::task::{run_sync, Compute};

/// How a dataset builds its views.
#[napi(object)]
pub struct BindingDatasetOptions {
    /// Output height and width of every view, in pixels.
    pub image_size: f64,
    /// Views are a pure function of (seed, epoch, sample index, view).
    pub seed: f64,
    /// Budget for decoded pixels kept in memory; beyond it images are decoded again.
    pub cache_bytes: f64,
    /// Pipeline worker threads; 0 = all cores.
    pub threads: f64,
    /// fromPaths only: a face box per image, 4 numbers each (x, y, width,
    /// height in pixels); width 0 keeps the whole image.
    pub crops: Option<Vec<u32>>,
    /// Bytes of one encoded image; default 64 MiB.
    pub max_image_bytes: Option<f64>,
    /// Width × height of one image, checked before decoding; default 40 megapixels.
    pub max_image_pixels: Option<f64>,
}

/// An image `scan` could not read.
#[napi(object)]
pub struct BindingDecodeFailure {
    pub index: u32,
    pub path: String,
    /// `ERR_MAN_IO: ...` or `ERR_MAN_DECODE: ...`
    pub message: String,
}

fn face_boxes(crops: &[u32], images: usize) -> man_core::Result<Vec<Option<FaceBox>>> {
    if crops.len() != images * 4 {
        return Err(ManError::Shape(format!(
            "crops has {} numbers for {images} images; it needs 4 per image (x, y, width, height)",
            crops.len()
        )));
    }
    Ok(crops
        .chunks_exact(4)
        .map(|c| (c[2] > 0).then_some(FaceBox { x: c[0], y: c[1], width: c[2], height: c[3] }))
        .collect())
}

fn pipeline_options(o: &BindingDatasetOptions) -> man_core::Result<PipelineOptions> {
    Ok(PipelineOptions {
        image_size: args::u32_arg("imageSize", o.image_size)?,
        seed: args::uint("seed", o.seed, (1u64 << 53) - 1)?,
        cache_bytes: args::uint("cacheBytes", o.cache_bytes, (1u64 << 53) - 1)? as usize,
        threads: args::u32_arg("threads", o.threads)? as usize,
    })
}

fn image_limits(o: &BindingDatasetOptions) -> man_core::Result<ImageLimits> {
    let defaults = ImageLimits::default();
    let max = (1u64 << 53) - 1;
    Ok(ImageLimits {
        max_file_bytes: o.max_image_bytes.map_or(Ok(defaults.max_file_bytes), |v| args::uint("maxImageBytes", v, max))?,
        max_pixels: o.max_image_pixels.map_or(Ok(defaults.max_pixels), |v| args::uint("maxImagePixels", v, max))?,
    })
}

/// Images held by the addon: paths (decoded lazily, cached) or encoded buffers.
#[napi(js_name = "Dataset")]
pub struct JsDataset {
    pub(crate) inner: Arc<Dataset>,
}

#[napi]
impl JsDataset {
    /// Images read from files, decoded on first use.
    #[napi(factory)]
    pub fn from_paths(paths: Vec<String>, options: BindingDatasetOptions) -> napi::Result<Self> {
        run_sync(|| {
            let opts = pipeline_options(&options)?;
            let limits = image_limits(&options)?;
            let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
            let inner = match &options.crops {
                Some(crops) => {
                    let boxes = face_boxes(crops, paths.len())?;
                    Dataset::from_cropped_paths(paths.into_iter().zip(boxes).collect(), opts)?
                }
                None => Dataset::from_paths(paths, opts)?,
            };
            Ok(JsDataset { inner: Arc::new(inner.with_limits(limits)) })
        })
    }

    /// Encoded images held in memory; `names` label each buffer in error messages.
    #[napi(factory)]
    pub fn from_buffers(
        // Uint8Array rather than Buffer: a Buffer is one, and the declarations then need no Node types.
        buffers: Vec<Uint8Array>,
        names: Vec<String>,
        options: BindingDatasetOptions,
    ) -> napi::Result<Self> {
        run_sync(|| {
            if buffers.len() != names.len() {
                return Err(ManError::Shape(format!(
                    "names has {} entries but buffers has {}; they must have the same length",
                    names.len(),
                    buffers.len()
                )));
            }
            if options.crops.is_some() {
                return Err(ManError::Config("crops applies to fromPaths only: crop encoded buffers before passing them".into()));
            }
            let opts = pipeline_options(&options)?;
            let limits = image_limits(&options)?;
            let items = names.into_iter().zip(buffers.iter().map(|b| b.to_vec())).collect();
            Ok(JsDataset { inner: Arc::new(Dataset::from_buffers(items, opts)?.with_limits(limits)) })
        })
    }

    /// Number of images.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Images decoded so far (cache misses): equal to `length` after a run
    /// that decoded every image once.
    #[napi(getter)]
    pub fn decode_count(&self) -> f64 {
        self.inner.decode_count() as f64
    }

    /// Decodes every image once (filling the cache); lists the ones that failed instead of throwing.
    #[napi(ts_return_type = "Promise<BindingDecodeFailure[]>")]
    pub fn scan(&self) -> AsyncTask<Compute<Vec<BindingDecodeFailure>>> {
        let ds = Arc::clone(&self.inner);
        AsyncTask::new(Compute::new(move || {
            Ok(ds
                .scan()
                .into_iter()
                .map(|f| BindingDecodeFailure {
                    index: f.index as u32,
                    path: f.path,
                    message: format!("{}: {}", f.error.code(), f.error),
                })
                .collect())
        }))
    }

    /// Normalised float32 NCHW pixels of the given samples (length =
    /// indices.length × 3 × imageSize × imageSize). For tests and benchmarks.
    #[napi(ts_return_type = "Promise<Float32Array>")]
    pub fn views(
        &self,
        indices: Uint32Array,
        #[napi(ts_arg_type = "'test' | 'weak' | 'strong'")] view: String,
        epoch: f64,
    ) -> AsyncTask<Compute<Float32Array>> {
        let ds = Arc::clone(&self.inner);
        let indices = indices.to_vec();
        AsyncTask::new(Compute::new(move || {
            let view = args::view(&view)?;
            let epoch = args::u32_arg("epoch", epoch)?;
            man_core::train::check_indices("indices", &indices, ds.len())?;
            Ok(Float32Array::new(ds.batch(&indices, view, epoch, 0)?))
        }))
    }
}
