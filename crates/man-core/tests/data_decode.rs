//! Decoding, errors that name the file, scan(), and the decoded-pixel cache.

mod data_support;

use data_support::{jpeg, opts, png, sample, textured, TempDir};
use man_core::data::{Dataset, View};

const S: u32 = 16;
const MB: usize = 1 << 20;

/// A JPEG start-of-image marker followed by nonsense.
fn corrupt_jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend((0..200u32).map(|i| (i * 31 % 251) as u8));
    bytes
}

#[test]
fn dataset_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<Dataset>();
}

#[test]
fn corrupt_jpeg_is_a_decode_error_naming_the_file() {
    let dir = TempDir::new("corrupt");
    let good = dir.write("good.jpg", &jpeg(&textured(12, 10, 1)));
    let bad = dir.write("bad.jpg", &corrupt_jpeg());
    let ds = Dataset::from_paths(vec![good, bad.clone()], opts(S, 2, MB)).unwrap();
    assert!(ds.batch(&[0], View::Test, 0, 0).is_ok());
    let err = ds.batch(&[0, 1], View::Weak, 0, 0).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_DECODE", "{err}");
    assert!(err.to_string().contains(&bad.display().to_string()), "{err}");
}

#[test]
fn truncated_jpeg_is_a_decode_error_not_a_grey_face() {
    let dir = TempDir::new("truncated");
    let whole = jpeg(&textured(64, 64, 4));
    let cut = dir.write("cut.jpg", &whole[..whole.len() * 2 / 3]);
    let full = dir.write("full.jpg", &whole);
    let ds = Dataset::from_paths(vec![full, cut.clone()], opts(S, 1, MB)).unwrap();
    assert!(ds.batch(&[0], View::Test, 0, 0).is_ok());
    let err = ds.batch(&[1], View::Test, 0, 0).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_DECODE", "{err}");
    assert!(err.to_string().contains(&cut.display().to_string()), "{err}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("nowhere.png");
    let ds = Dataset::from_paths(vec![missing.clone()], opts(S, 1, MB)).unwrap();
    let err = ds.batch(&[0], View::Strong, 0, 0).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_IO", "{err}");
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
}

#[test]
fn buffers_are_named_in_errors_and_the_first_failing_position_wins() {
    let items = vec![
        ("ok.png".to_string(), png(&textured(8, 8, 0))),
        ("broken-a.png".to_string(), b"not an image at all".to_vec()),
        ("broken-b.jpg".to_string(), corrupt_jpeg()),
    ];
    let ds = Dataset::from_buffers(items, opts(S, 4, MB)).unwrap();
    for _ in 0..5 {
        let err = ds.batch(&[0, 2, 0, 1], View::Test, 0, 0).unwrap_err();
        assert_eq!(err.code(), "ERR_MAN_DECODE");
        assert!(err.to_string().contains("broken-b.jpg"), "{err}");
    }
}

#[test]
fn scan_lists_every_failure_in_index_order() {
    let dir = TempDir::new("scan");
    let paths = vec![
        dir.write("a.png", &png(&textured(9, 7, 0))),
        dir.path().join("gone.jpg"),
        dir.write("b.jpg", &jpeg(&textured(9, 7, 1))),
        dir.write("c.jpg", &corrupt_jpeg()),
        dir.write("d.png", &png(&textured(5, 5, 2))),
    ];
    let ds = Dataset::from_paths(paths.clone(), opts(S, 3, MB)).unwrap();
    let failures = ds.scan();
    let seen: Vec<(usize, String, &str)> = failures.iter().map(|f| (f.index, f.path.clone(), f.error.code())).collect();
    assert_eq!(
        seen,
        vec![(1, paths[1].display().to_string(), "ERR_MAN_IO"), (3, paths[3].display().to_string(), "ERR_MAN_DECODE"),]
    );
    // The good images were decoded and cached by the scan.
    let decoded = ds.decode_count();
    assert_eq!(decoded, 5);
    ds.batch(&[0, 2, 4], View::Strong, 0, 0).unwrap();
    assert_eq!(ds.decode_count(), decoded);
}

#[test]
fn cache_decodes_each_image_once() {
    let items: Vec<(String, Vec<u8>)> = (0..5).map(|i| (format!("{i}.jpg"), jpeg(&textured(10, 12, i)))).collect();
    let ds = Dataset::from_buffers(items, opts(S, 4, MB)).unwrap();
    let idx = [4u32, 0, 1, 2, 3, 0, 0];
    let first = ds.batch(&idx, View::Test, 0, 0).unwrap();
    assert_eq!(ds.decode_count(), 5, "duplicates in a batch share one decode");
    assert_eq!(ds.cached_bytes(), 5 * 10 * 12 * 3);
    let second = ds.batch(&idx, View::Test, 0, 0).unwrap();
    ds.batch(&idx, View::Weak, 1, 0).unwrap();
    ds.batch(&idx, View::Strong, 1, 0).unwrap();
    assert_eq!(ds.decode_count(), 5);
    assert_eq!(first, second);
}

#[test]
fn zero_budget_decodes_every_time_and_gives_the_same_pixels() {
    let items: Vec<(String, Vec<u8>)> = (0..4).map(|i| (format!("{i}.png"), png(&textured(11, 9, i)))).collect();
    let cached = Dataset::from_buffers(items.clone(), opts(S, 2, MB)).unwrap();
    let uncached = Dataset::from_buffers(items, opts(S, 2, 0)).unwrap();
    let idx = [0u32, 1, 2, 3];
    for (round, view) in [View::Test, View::Weak, View::Strong].into_iter().enumerate() {
        assert_eq!(cached.batch(&idx, view, 2, 0).unwrap(), uncached.batch(&idx, view, 2, 0).unwrap(), "{view:?}");
        assert_eq!(uncached.decode_count(), 4 * (round as u64 + 1));
    }
    assert_eq!(uncached.cached_bytes(), 0);
}

#[test]
fn partial_budget_caches_what_fits() {
    let one = 10 * 10 * 3;
    let items: Vec<(String, Vec<u8>)> = (0..4).map(|i| (format!("{i}.png"), png(&textured(10, 10, i)))).collect();
    let ds = Dataset::from_buffers(items, opts(S, 1, 2 * one + 1)).unwrap();
    ds.batch(&[0, 1, 2, 3], View::Test, 0, 0).unwrap();
    assert_eq!(ds.cached_bytes(), 2 * one);
    ds.batch(&[0, 1, 2, 3], View::Test, 0, 0).unwrap();
    assert_eq!(ds.decode_count(), 4 + 2);
}

#[test]
fn paths_and_buffers_agree_and_greyscale_becomes_rgb() {
    let dir = TempDir::new("agree");
    let bytes = jpeg(&textured(14, 9, 3));
    let path = dir.write("x.jpg", &bytes);
    let grey = image::GrayImage::from_fn(6, 6, |x, _| image::Luma([(x * 40) as u8]));
    let mut grey_png = std::io::Cursor::new(Vec::new());
    grey.write_to(&mut grey_png, image::ImageFormat::Png).unwrap();
    let from_path = Dataset::from_paths(vec![path], opts(S, 1, MB)).unwrap();
    let from_mem =
        Dataset::from_buffers(vec![("x.jpg".into(), bytes), ("g.png".into(), grey_png.into_inner())], opts(S, 1, MB))
            .unwrap();
    assert_eq!(from_path.batch(&[0], View::Strong, 5, 0).unwrap(), from_mem.batch(&[0], View::Strong, 5, 0).unwrap());
    let g = from_mem.batch(&[1], View::Test, 0, 0).unwrap();
    let s = S as usize;
    for p in 0..s * s {
        // Equal raw channel values normalise differently; undo the per-channel normalisation.
        let raw: Vec<f32> = (0..3)
            .map(|c| g[c * s * s + p] * man_core::data::IMAGENET_STD[c] + man_core::data::IMAGENET_MEAN[c])
            .collect();
        assert!((raw[0] - raw[1]).abs() < 1e-5 && (raw[1] - raw[2]).abs() < 1e-5, "pixel {p}: {raw:?}");
    }
    assert_eq!(sample(&g, 0, s).len(), 3 * s * s);
}

#[test]
fn bad_options_and_indices_are_config_errors() {
    let items = vec![("a.png".to_string(), png(&textured(8, 8, 0)))];
    let err = Dataset::from_buffers(items.clone(), opts(0, 1, MB)).err().expect("size 0 must be refused");
    assert_eq!(err.code(), "ERR_MAN_CONFIG");
    let ds = Dataset::from_buffers(items, opts(S, 1, MB)).unwrap();
    let err = ds.batch(&[0, 1], View::Test, 0, 0).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_CONFIG");
    assert!(err.to_string().contains("index 1"), "{err}");
    assert!(ds.batch(&[], View::Weak, 0, 0).unwrap().is_empty());
    assert_eq!((ds.len(), ds.is_empty(), ds.image_size()), (1, false, S));
}
