//! Checkpoints restore the trainer exactly and refuse files that do not fit.

mod train_support;

use train_support::{assert_same_state, images, trainer};

fn tmp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("man-train-ckpt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_checkpoint_round_trip_continues_bit_identically() {
    let (x1, x2) = (images(4, 32, 1.0), images(4, 32, 2.0));
    let labels = [0, 1, 1, 0];
    let dir = tmp_dir("roundtrip");
    let path = dir.join("last.safetensors");

    let mut straight = trainer(2, 11);
    straight.warmup_step_tensors(&x1, &labels).unwrap();
    straight.set_lr(3e-4).unwrap();
    let want = straight.warmup_step_tensors(&x2, &labels).unwrap();

    let mut first = trainer(2, 11);
    first.warmup_step_tensors(&x1, &labels).unwrap();
    first.set_lr(3e-4).unwrap();
    man_core::train::checkpoint::save(&first, &path, r#"{"epoch":1}"#).unwrap();
    let mut resumed = trainer(2, 99);
    let meta = man_core::train::checkpoint::load(&mut resumed, &path).unwrap();
    assert_eq!(meta, r#"{"epoch":1}"#);
    assert_eq!(resumed.lr(), 3e-4);
    assert_eq!(resumed.adam().step_count(), 1);
    assert_same_state(&first, &resumed);
    let got = resumed.warmup_step_tensors(&x2, &labels).unwrap();
    assert_eq!(got.loss, want.loss);
    assert_same_state(&straight, &resumed);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("last.safetensors")]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn another_class_count_is_a_weights_error_naming_tensor_and_file() {
    let dir = tmp_dir("classes");
    let path = dir.join("seven.safetensors");
    man_core::train::checkpoint::save(&trainer(7, 1), &path, "{}").unwrap();
    let mut t = trainer(3, 1);
    let before = train_support::state(&t);
    let e = man_core::train::checkpoint::load(&mut t, &path).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_WEIGHTS");
    let msg = e.to_string();
    assert!(msg.contains("seven.safetensors") && msg.contains("fc."), "{msg}");
    assert!(before == train_support::state(&t), "a failed load changed the trainer");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_tensors_and_foreign_files_are_weights_errors() {
    let dir = tmp_dir("missing");
    let partial = dir.join("partial.safetensors");
    let t = trainer(2, 1);
    let vars = t.variables(0);
    let (name, tensor) = &vars[0];
    tch::Tensor::write_safetensors(&[(format!("net1.{name}"), tensor)], &partial).unwrap();
    let mut target = trainer(2, 2);
    let e = man_core::train::checkpoint::load(&mut target, &partial).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_WEIGHTS");
    assert!(e.to_string().contains("partial.safetensors"), "{e}");

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint at all").unwrap();
    let e = man_core::train::checkpoint::load(&mut target, &garbage).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_WEIGHTS");
    assert!(e.to_string().contains("garbage.safetensors"), "{e}");

    let e = man_core::train::checkpoint::load(&mut target, &dir.join("absent.safetensors")).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_IO");
    let e = man_core::train::checkpoint::save(&target, &dir.join("x.safetensors"), "not json").unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_CONFIG");
    let e = man_core::train::checkpoint::save(&target, &dir.join("no-such-dir/x.safetensors"), "{}").unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_IO");
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}
