//! Where this process stands in a job, from the variables torchrun, Slurm
//! and `man-fer train --nproc` set.

use crate::DistError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistEnv {
    pub rank: usize,
    pub world_size: usize,
    /// This process's index on its machine: its GPU when there are several.
    pub local_rank: usize,
    pub master_addr: String,
    pub master_port: u16,
    /// `torchrun` (RANK/WORLD_SIZE) or `slurm` (SLURM_PROCID/SLURM_NTASKS).
    pub source: &'static str,
}

fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, DistError> {
    value
        .trim()
        .parse()
        .map_err(|_| DistError::env(format!("{name}={value:?} is not a valid number")))
}

impl DistEnv {
    /// `get` reads one variable. None when neither RANK/WORLD_SIZE nor
    /// SLURM_PROCID/SLURM_NTASKS are set: the process is not part of a job.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<DistEnv>, DistError> {
        let (rank_var, world_var, local_var, source) = if get("WORLD_SIZE").is_some() || get("RANK").is_some() {
            ("RANK", "WORLD_SIZE", "LOCAL_RANK", "torchrun")
        } else if get("SLURM_NTASKS").is_some() || get("SLURM_PROCID").is_some() {
            ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "slurm")
        } else {
            return Ok(None);
        };
        let need = |name: &str| get(name).ok_or_else(|| DistError::env(format!("{name} is not set ({source} environment)")));
        let rank: usize = parse(rank_var, &need(rank_var)?)?;
        let world_size: usize = parse(world_var, &need(world_var)?)?;
        if world_size == 0 || rank >= world_size {
            return Err(DistError::env(format!("{rank_var}={rank} must be below {world_var}={world_size}")));
        }
        let local_rank = match get(local_var) {
            Some(v) => parse(local_var, &v)?,
            None => 0,
        };
        let master_addr = need("MASTER_ADDR")?;
        if master_addr.trim().is_empty() {
            return Err(DistError::env("MASTER_ADDR is empty".into()));
        }
        let master_port: u16 = parse("MASTER_PORT", &need("MASTER_PORT")?)?;
        if master_port == 0 {
            return Err(DistError::env("MASTER_PORT must not be 0".into()));
        }
        Ok(Some(DistEnv { rank, world_size, local_rank, master_addr: master_addr.trim().to_string(), master_port, source }))
    }

    pub fn from_env() -> Result<Option<DistEnv>, DistError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }
}

/// Gloo's sockets bind to the loopback interface when the job is local;
/// otherwise c10d chooses (GLOO_SOCKET_IFNAME, else this host's address).
pub(crate) fn gloo_host(master_addr: &str) -> &'static str {
    match master_addr {
        "localhost" | "::1" => "127.0.0.1",
        a if a.starts_with("127.") => "127.0.0.1",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<Option<DistEnv>, DistError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        DistEnv::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn torchrun_variables() {
        let e = env(&[("RANK", "3"), ("WORLD_SIZE", "4"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "node7"), ("MASTER_PORT", "29500")])
            .unwrap()
            .unwrap();
        assert_eq!((e.rank, e.world_size, e.local_rank, e.master_port, e.source), (3, 4, 1, 29500, "torchrun"));
        assert_eq!(e.master_addr, "node7");
    }

    #[test]
    fn slurm_variables() {
        let e = env(&[("SLURM_PROCID", "5"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "1"), ("MASTER_ADDR", "n1"), ("MASTER_PORT", "1234")])
            .unwrap()
            .unwrap();
        assert_eq!((e.rank, e.world_size, e.local_rank, e.source), (5, 8, 1, "slurm"));
    }

    #[test]
    fn no_job() {
        assert_eq!(env(&[("MASTER_ADDR", "x")]).unwrap(), None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = env(&[("RANK", "2"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "a"), ("MASTER_PORT", "1")]).unwrap_err();
        assert!(e.to_string().contains("RANK=2 must be below WORLD_SIZE=2"), "{e}");
        let e = env(&[("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "a")]).unwrap_err();
        assert!(e.to_string().contains("MASTER_PORT is not set"), "{e}");
        let e = env(&[("RANK", "x"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "a"), ("MASTER_PORT", "1")]).unwrap_err();
        assert!(e.to_string().contains("RANK=\"x\""), "{e}");
    }

    #[test]
    fn loopback_masters_bind_gloo_to_loopback() {
        assert_eq!(gloo_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(gloo_host("localhost"), "127.0.0.1");
        assert_eq!(gloo_host("10.0.0.2"), "");
    }
}
