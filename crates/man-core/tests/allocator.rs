//! `runtime.allocator`: 'lean' maps a block of 1 MiB or more on its own,
//! 'fast' serves it from the heap. A binary of its own: the setting is
//! process-wide.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn lean_maps_large_blocks_and_fast_keeps_them_in_the_heap() {
    use man_core::runtime::{set_allocator, Allocator};

    /// Bytes in mapped blocks while a block of `mib` MiB is held, over those without it.
    fn mapped_while_holding(mib: usize) -> usize {
        let before = unsafe { libc::mallinfo2() }.hblkhd;
        let block = vec![1u8; mib << 20];
        let during = unsafe { libc::mallinfo2() }.hblkhd;
        drop(std::hint::black_box(block));
        during.saturating_sub(before)
    }

    assert!(std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none(), "unset MALLOC_MMAP_THRESHOLD_ to run this test");
    assert!(set_allocator(Allocator::Lean));
    assert!(mapped_while_holding(4) >= 4 << 20);
    assert!(set_allocator(Allocator::Fast));
    assert_eq!(mapped_while_holding(4), 0);
    // Back to lean: the heap may still serve a block from what 'fast' freed into it, not a larger one.
    assert!(set_allocator(Allocator::Lean));
    assert!(mapped_while_holding(16) >= 16 << 20);
}

#[test]
fn an_unknown_allocator_is_a_config_error_naming_the_choices() {
    use man_core::runtime::Allocator;
    assert_eq!(Allocator::parse("fast").unwrap(), Allocator::Fast);
    let e = Allocator::parse("huge").unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_CONFIG");
    assert!(e.to_string().contains("'lean' or 'fast'"), "{e}");
}
