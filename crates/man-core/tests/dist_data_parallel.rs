//! Data-parallel trainers: two ranks (a thread each) over Gloo on loopback.

mod train_support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use man_core::dist::{JoinOptions, ProcessGroup, DEFAULT_BUCKET_BYTES};
use man_core::train::Trainer;
use train_support::{assert_same_state, images, state, trainer};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs `f(rank, trainer)` on two data-parallel ranks whose trainers start
/// from different seeds (rank 0's state must win) and returns both trainers.
fn two_ranks(bucket_bytes: usize, f: impl Fn(usize, &mut Trainer) + Send + Sync + Copy + 'static) -> (Trainer, Trainer) {
    let port = free_port();
    let handles: Vec<_> = (0..2)
        .map(|rank| {
            std::thread::spawn(move || {
                let group = ProcessGroup::join(&JoinOptions {
                    master_addr: "127.0.0.1".into(),
                    master_port: port,
                    rank,
                    world_size: 2,
                    local_rank: rank,
                    timeout: Duration::from_secs(120),
                    nccl: false,
                })
                .unwrap();
                let mut t = trainer(3, 11 + rank as i64);
                t.join_data_parallel(Arc::new(group), bucket_bytes).unwrap();
                f(rank, &mut t);
                t
            })
        })
        .collect();
    let mut out = handles.into_iter().map(|h| h.join().expect("rank thread"));
    (out.next().unwrap(), out.next().unwrap())
}

#[test]
fn replicas_stay_bit_identical_on_different_shards() {
    let (a, b) = two_ranks(4 * 1024 * 1024, |rank, t| {
        for step in 0..2 {
            let xs = images(3, 40, (rank * 10 + step) as f64);
            t.warmup_step_tensors(&xs, &[0, 1, (rank + step) as i32 % 3]).unwrap();
            let sums = t.process_group().unwrap().all_gather_bytes(&t.replica_checksum().unwrap().to_le_bytes()).unwrap();
            assert_eq!(sums[0], sums[1], "rank {rank}: checksums differ after step {step}");
        }
        // Running statistics are each rank's own until synchronised.
        t.sync_buffers().unwrap();
    });
    assert!(a.gradient_buckets() > 1, "4 MiB buckets split ResNet-18 × 2");
    assert_same_state(&a, &b);
}

#[test]
fn equal_shards_give_the_single_process_step_exactly() {
    // (g + g) / 2 == g in floating point: with the same data on both ranks,
    // data-parallel training must reproduce one process to the bit.
    let (a, _) = two_ranks(DEFAULT_BUCKET_BYTES, |_, t| {
        let xs = images(4, 40, 3.0);
        t.warmup_step_tensors(&xs, &[0, 1, 2, 1]).unwrap();
        t.warmup_step_tensors(&images(4, 40, 4.0), &[2, 2, 0, 1]).unwrap();
    });
    let mut single = trainer(3, 11);
    single.warmup_step_tensors(&images(4, 40, 3.0), &[0, 1, 2, 1]).unwrap();
    single.warmup_step_tensors(&images(4, 40, 4.0), &[2, 2, 0, 1]).unwrap();
    assert_same_state(&a, &single);
}

#[test]
fn an_idle_rank_still_steps_with_the_others() {
    let (a, b) = two_ranks(DEFAULT_BUCKET_BYTES, |rank, t| {
        if rank == 0 {
            t.warmup_step_tensors(&images(2, 40, 1.0), &[0, 2]).unwrap();
        } else {
            t.idle_step().unwrap();
        }
    });
    assert_eq!(a.adam().step_count(), 1);
    assert_eq!(b.adam().step_count(), 1);
    let start = state(&trainer(3, 11));
    let after = state(&a);
    assert!(start.iter().zip(&after).any(|(x, y)| x.1 != y.1), "the step changed the weights");
    let same_params = a.adam().params().iter().zip(b.adam().params()).all(|(p, q)| train_support::flat(&p.param) == train_support::flat(&q.param));
    assert!(same_params);
}
