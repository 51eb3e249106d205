//! The MAN trainer: a pair of ResNet-18s, the losses of METHOD.md, Adam,
//! warm-up / co-division steps, prediction, checkpoints.
//!
//! STUB: being written (issue: native core).
