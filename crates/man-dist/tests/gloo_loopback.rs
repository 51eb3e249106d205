//! Two ranks in one process (a thread each) over loopback with Gloo: the
//! collectives give every rank the same result, and a rank that leaves makes
//! the other's next collective fail with an error instead of hanging.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use man_dist::{JoinOptions, ProcessGroup, ReduceOp};
use tch::{Kind, Tensor};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn options(port: u16, rank: usize, timeout: Duration) -> JoinOptions {
    JoinOptions {
        master_addr: "127.0.0.1".into(),
        master_port: port,
        rank,
        world_size: 2,
        local_rank: rank,
        timeout,
        nccl: false,
    }
}

/// Runs `f(group)` on ranks 0 and 1 at once and returns both results.
fn on_two_ranks<T: Send + 'static>(
    timeout: Duration,
    f: impl Fn(ProcessGroup) -> T + Send + Sync + Copy + 'static,
) -> (T, T) {
    let port = free_port();
    let handles: Vec<_> = (0..2)
        .map(|rank| {
            std::thread::spawn(move || {
                let group = ProcessGroup::join(&options(port, rank, timeout)).expect("join");
                f(group)
            })
        })
        .collect();
    let mut results = handles.into_iter().map(|h| h.join().expect("rank thread"));
    (results.next().unwrap(), results.next().unwrap())
}

#[test]
fn collectives_agree_across_ranks() {
    let (a, b) = on_two_ranks(Duration::from_secs(60), |g| {
        let r = g.rank() as f32;
        // Two buckets in flight at once, of different sizes.
        let grads = [Tensor::from_slice(&[1.0f32 + r, 2.0, 3.0 * r]), Tensor::from_slice(&[10.0f32 * (r + 1.0)])];
        g.all_reduce(&grads, ReduceOp::Sum).unwrap();
        let max = Tensor::from_slice(&[r, -r]);
        g.all_reduce(std::slice::from_ref(&max), ReduceOp::Max).unwrap();
        let weights = Tensor::from_slice(&[r + 5.0, r * 7.0]);
        g.broadcast(std::slice::from_ref(&weights), 1).unwrap();
        let gathered = g.all_gather(&Tensor::from_slice(&[g.rank() as i32 * 3, 9])).unwrap();
        let stats = g.all_reduce_f64(&[0.25 + r as f64, 1.0], ReduceOp::Sum).unwrap();
        g.barrier().unwrap();
        (
            Vec::<f32>::try_from(&grads[0]).unwrap(),
            Vec::<f32>::try_from(&grads[1]).unwrap(),
            Vec::<f32>::try_from(&max).unwrap(),
            Vec::<f32>::try_from(&weights).unwrap(),
            (gathered.size(), Vec::<i32>::try_from(&gathered.flatten(0, -1)).unwrap()),
            stats,
            g.backend(),
        )
    });
    assert_eq!(a, b, "every rank holds the same result");
    assert_eq!(a.0, vec![3.0, 4.0, 3.0]);
    assert_eq!(a.1, vec![30.0]);
    assert_eq!(a.2, vec![1.0, 0.0]);
    assert_eq!(a.3, vec![6.0, 7.0], "rank 1's values everywhere");
    assert_eq!(a.4, (vec![2, 2], vec![0, 9, 3, 9]), "rank order");
    assert_eq!(a.5, vec![1.5, 2.0]);
    assert_eq!(a.6, "gloo");
}

#[test]
fn bytes_of_unequal_lengths() {
    let (a, b) = on_two_ranks(Duration::from_secs(60), |g| {
        let mine: Vec<u8> = (0..(3 + 4 * g.rank() as u8)).collect();
        let gathered = g.all_gather_bytes(&mine).unwrap();
        let from_root = g.broadcast_bytes(if g.rank() == 1 { b"run meta" } else { b"ignored!!" }, 1).unwrap();
        let empty = g.broadcast_bytes(b"", 0).unwrap();
        (gathered, from_root, empty)
    });
    assert_eq!(a, b);
    assert_eq!(a.0, vec![vec![0, 1, 2], vec![0, 1, 2, 3, 4, 5, 6]]);
    assert_eq!(a.1, b"run meta".to_vec());
    assert!(a.2.is_empty());
}

#[test]
fn a_rank_that_leaves_fails_the_others_collective() {
    let started = Instant::now();
    let (survivor, _) = on_two_ranks(Duration::from_secs(20), |g| {
        let t = Tensor::ones([4], (Kind::Float, tch::Device::Cpu));
        g.all_reduce(std::slice::from_ref(&t), ReduceOp::Sum).unwrap();
        if g.rank() == 1 {
            drop(g);
            return None;
        }
        std::thread::sleep(Duration::from_millis(300));
        Some(g.all_reduce(std::slice::from_ref(&t), ReduceOp::Sum).map_err(|e| e.to_string()))
    });
    let err = survivor.expect("rank 0 reports").expect_err("the collective must fail once rank 1 has left");
    assert!(err.starts_with("all-reduce failed on rank 0 of 2: "), "{err}");
    assert!(started.elapsed() < Duration::from_secs(40), "failed after {:?}", started.elapsed());
}

#[test]
fn a_missing_master_is_a_join_error() {
    let mut o = options(free_port(), 1, Duration::from_millis(1500));
    o.world_size = 2;
    let err = ProcessGroup::join(&o).err().expect("nobody serves the store").to_string();
    assert!(err.starts_with("joining the process group failed on rank 1 of 2"), "{err}");
    assert!(err.contains("MASTER_PORT="), "{err}");
}
