//! The MAN trainer: a pair of ResNet-18s, the losses of docs/method.md, Adam,
//! warm-up / co-division steps, prediction, checkpoints.

pub mod adam;
pub mod autocast;
mod batches;
pub mod checkpoint;
pub mod loss_api;
pub mod losses;
mod partition;
mod per_network;
pub mod precision;
mod pretrained;
mod steps;
mod trainer;
mod validate;

pub use adam::{Adam, AdamConfig};
pub use partition::Partition;
pub use pretrained::PretrainedReport;
pub use batches::StepTiming;
pub use steps::{view_tensor, Batch, NextBatch};
pub use validate::indices as check_indices;
pub use trainer::{
    Backward, LossWeights, Prediction, StepStats, Trainer, TrainerOptions, AMBIGUOUS, CLEAN, NOISY,
};
