//! Hostile inputs cost a bounded amount and fail with an error naming them:
//! pixel bombs, FIFOs, devices, oversized files, zip bombs, NaN weights.

mod data_support;
mod train_support;
mod weights_support;

use std::path::Path;

use data_support::{jpeg, opts, textured, TempDir};
use man_core::data::{Dataset, ImageLimits, View};
use man_core::weights::{apply_tensors, read_tensors, DType, RawTensor};
use weights_support::{fresh_dir, run_python};

const MB: usize = 1 << 20;

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend(kind);
    out.extend(data);
    let crc = crc32(&out[start..]);
    out.extend(crc.to_be_bytes());
}

/// A PNG whose header declares `w`×`h` greyscale pixels (the data is never reached).
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn a_pixel_bomb_is_refused_from_its_header_naming_the_file() {
    let dir = TempDir::new("bomb");
    let bomb = dir.write("bomb.png", &png_declaring(14_000, 14_000));
    let good = dir.write("good.jpg", &jpeg(&textured(12, 10, 1)));
    let ds = Dataset::from_paths(vec![good, bomb.clone()], opts(16, 1, MB)).unwrap();
    let failures = ds.scan();
    assert_eq!(failures.len(), 1);
    let err = &failures[0].error;
    assert_eq!((failures[0].index, err.code()), (1, "ERR_MAN_DECODE"), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&bomb.display().to_string()) && msg.contains("14000×14000"), "{msg}");
    assert!(msg.contains("over the limit of 40.0 megapixels"), "{msg}");
}

#[test]
fn the_pixel_limit_is_the_callers() {
    let dir = TempDir::new("pixels");
    let img = dir.write("img.jpg", &jpeg(&textured(20, 10, 2)));
    let limits = |max_pixels| ImageLimits { max_pixels, ..ImageLimits::default() };
    let tight = Dataset::from_paths(vec![img.clone()], opts(16, 1, MB)).unwrap().with_limits(limits(199));
    assert!(tight.batch(&[0], View::Test, 0, 0).unwrap_err().to_string().contains("20×10"));
    let enough = Dataset::from_paths(vec![img], opts(16, 1, MB)).unwrap().with_limits(limits(200));
    assert!(enough.batch(&[0], View::Test, 0, 0).is_ok());
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let dir = TempDir::new("huge");
    let huge = dir.path().join("huge.jpg");
    // Sparse: 20 GB long, no disk used.
    std::fs::File::create(&huge).unwrap().set_len(20 << 30).unwrap();
    let ds = Dataset::from_paths(vec![huge.clone()], opts(16, 1, MB)).unwrap();
    let err = ds.batch(&[0], View::Test, 0, 0).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_IO", "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&huge.display().to_string()) && msg.contains("20 GiB is over the limit of 64 MiB"), "{msg}");
}

#[test]
fn a_fifo_and_a_link_to_dev_zero_are_refused_without_blocking() {
    let dir = TempDir::new("special");
    let fifo = dir.path().join("pipe.jpg");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let zero = dir.path().join("zero.jpg");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let ds = Dataset::from_paths(vec![fifo.clone(), zero.clone(), dir.path().to_path_buf()], opts(16, 1, MB)).unwrap();
    let failures = ds.scan();
    let messages: Vec<String> = failures.iter().map(|f| f.error.to_string()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("pipe.jpg: a named pipe (FIFO), not a regular file"), "{}", messages[0]);
    assert!(messages[1].contains("zero.jpg: a character device, not a regular file"), "{}", messages[1]);
    assert!(messages[2].contains("a directory, not a regular file"), "{}", messages[2]);
}

#[test]
fn a_zip_bomb_storage_is_refused_once_it_inflates_past_its_declared_size() {
    let dir = fresh_dir("bomb");
    // A real torch.save archive whose storage entry is rewritten as 128 MB
    // of deflated zeros (128 KB on disk) while its pickle declares 4 floats.
    run_python(
        "import os, sys, torch\ntorch.save({'conv1.weight': torch.zeros(4)}, os.path.join(sys.argv[1], 'small.pt'))\n",
        &dir,
    );
    let bomb = dir.join("bomb.pth");
    rewrite_storage_deflated(&dir.join("small.pt"), &bomb, 128 * MB);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 * MB as u64);
    let err = read_tensors(&bomb).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_WEIGHTS", "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&bomb.display().to_string()) && msg.contains("zip bomb"), "{msg}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Copies the torch archive `src` to `dst` with its storage `data/0` deflated
/// and `extra` zero bytes appended to it.
fn rewrite_storage_deflated(src: &Path, dst: &Path, extra: usize) {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        let deflated = name.ends_with("/data/0");
        let method = if deflated { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
        let options = zip::write::FileOptions::default().compression_method(method).large_file(deflated);
        zout.start_file(name, options).unwrap();
        zout.write_all(&data).unwrap();
        if deflated {
            let zeros = vec![0u8; MB];
            for _ in 0..extra / MB {
                zout.write_all(&zeros).unwrap();
            }
        }
    }
    zout.finish().unwrap();
}

#[test]
fn a_weights_file_that_is_a_device_is_refused() {
    let dir = fresh_dir("device");
    let link = dir.join("zero.pth");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let err = read_tensors(&link).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_IO", "{err}");
    assert!(err.to_string().contains("zero.pth: a character device"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn nan_weights_are_refused_and_change_nothing() {
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let w = vs.root().var("w", &[3], tch::nn::Init::Const(0.5));
    let bad = RawTensor {
        name: "w".into(),
        dtype: DType::F32,
        shape: vec![3],
        data: [1.0f32, f32::NAN, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
    };
    let err = apply_tensors(&vs, &[bad]).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_WEIGHTS", "{err}");
    assert!(err.to_string().contains("w holds NaN or infinite values"), "{err}");
    assert_eq!(Vec::<f32>::try_from(&w).unwrap(), vec![0.5; 3]);
}

#[test]
fn a_diverged_trainer_is_not_saved_over_a_good_checkpoint() {
    let dir = fresh_dir("diverged");
    let path = dir.join("last.safetensors");
    let mut t = train_support::trainer(2, 3);
    man_core::train::checkpoint::save(&t, &path, "{}").unwrap();
    let good = std::fs::read(&path).unwrap();
    t.set_lr(1e30).unwrap();
    let xs = train_support::images(4, 32, 1.0);
    for _ in 0..3 {
        t.warmup_step_tensors(&xs, &[0, 1, 1, 0]).unwrap();
    }
    let err = man_core::train::checkpoint::save(&t, &path, "{}").unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_DIVERGED", "{err}");
    assert!(err.to_string().contains("NaN or infinite"), "{err}");
    assert!(std::fs::read(&path).unwrap() == good, "the good checkpoint was replaced");
    std::fs::remove_dir_all(dir).unwrap();
}
