//! What keeps the ranks' trainers the same model: joining, broadcasting
//! rank 0's state, and a checksum that shows they did not drift apart.

use std::sync::Arc;

use tch::{Device, Kind, Tensor};

use super::{DataParallel, GradientBuckets, ProcessGroup};
use crate::train::Trainer;
use crate::Result;

impl Trainer {
    /// Joins `group` for gradient averaging and takes rank 0's weights,
    /// BatchNorm statistics and Adam state (so call it after rank 0 has
    /// loaded a checkpoint or pretrained weights, on every rank at once).
    pub fn join_data_parallel(&mut self, group: Arc<ProcessGroup>, bucket_bytes: usize) -> Result<()> {
        let params: Vec<Tensor> = self.adam.params().iter().map(|p| p.param.shallow_clone()).collect();
        let buckets = GradientBuckets::new(&params, bucket_bytes, group.world_size())?;
        self.data_parallel = Some(DataParallel { group, buckets });
        self.broadcast_state()
    }

    pub fn process_group(&self) -> Option<&Arc<ProcessGroup>> {
        self.data_parallel.as_ref().map(|dp| &dp.group)
    }

    /// Buckets the gradients are averaged in (0 when not data-parallel).
    pub fn gradient_buckets(&self) -> usize {
        self.data_parallel.as_ref().map_or(0, |dp| dp.buckets.len())
    }

    /// Every variable of both networks and Adam's moments and step count, from rank 0.
    pub fn broadcast_state(&mut self) -> Result<()> {
        let Some(group) = self.process_group().cloned() else { return Ok(()) };
        // Detached: c10d writes into the storage; autograd must not see an in-place op on a leaf.
        let mut tensors: Vec<Tensor> = Vec::new();
        for k in 0..2 {
            tensors.extend(self.variables(k).into_iter().map(|(_, t)| t.detach()));
        }
        for p in self.adam.params() {
            tensors.push(p.exp_avg.detach());
            tensors.push(p.exp_avg_sq.detach());
        }
        group.broadcast(&tensors, 0)?;
        let step = Tensor::from_slice(&[self.adam.step_count()]);
        group.broadcast(std::slice::from_ref(&step), 0)?;
        self.adam.set_step_count(step.int64_value(&[0]))
    }

    /// Rank 0's BatchNorm running statistics on every rank, before a
    /// prediction pass or a save: every rank then predicts with the model
    /// rank 0 writes.
    pub fn sync_buffers(&self) -> Result<()> {
        let Some(group) = self.process_group() else { return Ok(()) };
        let mut buffers: Vec<Tensor> = Vec::new();
        for k in 0..2 {
            buffers.extend(self.variables(k).into_iter().filter(|(_, t)| !t.requires_grad()).map(|(_, t)| t.detach()));
        }
        group.broadcast(&buffers, 0)?;
        Ok(())
    }

    /// A 64-bit hash (FNV-1a over 32-bit words) of every trained parameter
    /// of both networks: equal on every rank while the replicas agree bit for bit.
    pub fn replica_checksum(&self) -> Result<u64> {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for p in self.adam.params() {
            let values = p.param.f_detach()?.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?.f_flatten(0, -1)?;
            for v in Vec::<f32>::try_from(&values)? {
                h = (h ^ u64::from(v.to_bits())).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Ok(h)
    }
}
