//! The dataset-level steps and predictions, on a few tiny PNGs made here,
//! and pretrained weights loaded into both networks.

mod train_support;

use man_core::data::{Dataset, PipelineOptions, View};
use man_core::model::ResNet18;
use man_core::train::{Batch, LossWeights};
use tch::{nn, Device, Tensor};
use train_support::trainer;

/// `n` 16×16 PNGs: even indices bright, odd ones dark.
fn dataset(n: usize) -> Dataset {
    let items = (0..n)
        .map(|i| {
            let v = if i % 2 == 0 { 220 } else { 30 };
            let img = image::RgbImage::from_pixel(16, 16, image::Rgb([v, v / 2 + (i as u8), v]));
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
            (format!("img{i}.png"), png)
        })
        .collect();
    let opts = PipelineOptions { image_size: 32, seed: 3, cache_bytes: 1 << 20, threads: 1 };
    Dataset::from_buffers(items, opts).unwrap()
}

const W: LossWeights = LossWeights::new(0.5, 0.6, 1.0);

fn batch<'a>(epoch: u32, indices: &'a [u32], labels: &'a [i32], codes: Option<&'a [u8]>) -> Batch<'a> {
    Batch { epoch, indices, labels, codes }
}

#[test]
fn steps_and_predictions_run_on_a_dataset() {
    let ds = dataset(6);
    let mut t = trainer(2, 1);
    let idx = [0u32, 1, 2, 3, 4, 5];
    let labels = [0, 1, 0, 1, 0, 1];
    let s = t.warmup_step(&ds, batch(1, &idx, &labels, None), None).unwrap();
    assert!(s.loss > 0.0 && s.loss.is_finite());
    let s = t.codivision_step(&ds, batch(2, &idx, &labels, Some(&[0, 0, 1, 1, 2, 2])), W, None).unwrap();
    assert!(s.loss_clean > 0.0 && s.loss_ambiguous > 0.0 && s.loss_noisy > 0.0);
    assert_eq!((s.clean, s.ambiguous, s.noisy), (2, 2, 2));

    let p = t.predict(&ds, &[5, 4, 3, 2, 1], View::Test, 2, 2, true).unwrap();
    assert_eq!(p.pred1.len(), 5);
    assert_eq!(p.probs.as_ref().unwrap().len(), 10);
    // Batching does not change the result: one batch of 5 agrees with batches of 2.
    let whole = t.predict(&ds, &[5, 4, 3, 2, 1], View::Test, 2, 5, true).unwrap();
    assert_eq!(p.pred1, whole.pred1);
    assert_eq!(p.pred2, whole.pred2);
    for (a, b) in p.probs.unwrap().iter().zip(whole.probs.unwrap()) {
        assert!((a - b).abs() < 1e-5);
    }
    // Random views of a prediction are a function of (epoch, sample).
    let w1 = t.predict(&ds, &idx, View::Weak, 3, 3, true).unwrap();
    let w2 = t.predict(&ds, &idx, View::Weak, 3, 3, true).unwrap();
    assert_eq!(w1, w2);
    assert!(t.predict(&ds, &[], View::Test, 1, 4, false).unwrap().pred1.is_empty());
}

#[test]
fn bad_indices_and_lengths_name_the_argument() {
    let ds = dataset(3);
    let mut t = trainer(2, 2);
    let e = t.warmup_step(&ds, batch(1, &[0, 9], &[0, 1], None), None).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_SHAPE");
    assert!(e.to_string().contains("indices[1] = 9"), "{e}");
    let e = t.warmup_step(&ds, batch(1, &[0, 1], &[0], None), None).unwrap_err();
    assert!(e.to_string().contains("labels has 1 entries"), "{e}");
    let e = t.codivision_step(&ds, batch(1, &[0, 1], &[0, 1], Some(&[0])), W, None).unwrap_err();
    assert!(e.to_string().contains("codes has 1 entries"), "{e}");
    let e = t.predict(&ds, &[0], View::Test, 1, 0, false).unwrap_err();
    assert!(e.to_string().contains("batchSize"), "{e}");
    assert_eq!(t.adam().step_count(), 0);
}

#[test]
fn pretrained_backbone_goes_into_both_networks() {
    let dir = std::env::temp_dir().join(format!("man-train-pre-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("backbone.safetensors");
    tch::manual_seed(123);
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = ResNet18::new(&vs.root(), 1000);
    let vars = vs.variables();
    let named: Vec<(String, &Tensor)> = vars.iter().map(|(k, v)| (k.clone(), v)).collect();
    Tensor::write_safetensors(&named, &path).unwrap();

    let mut t = trainer(7, 5);
    let report = t.load_pretrained(&path).unwrap();
    assert!(report.loaded.iter().any(|n| n == "conv1.weight"));
    assert!(!report.loaded.iter().any(|n| n.starts_with("fc.")));
    let mut skipped = report.skipped.clone();
    skipped.sort();
    assert_eq!(skipped, vec!["fc.bias", "fc.weight"]);
    assert_eq!(report.loaded.len(), vars.len() - 2);
    for k in 0..2 {
        let got = t.variables(k);
        let (_, conv) = got.iter().find(|(n, _)| n == "layer3.1.conv2.weight").unwrap();
        assert!(conv.equal(&vars["layer3.1.conv2.weight"]), "network {k} did not get the backbone");
    }

    std::fs::write(dir.join("bad.safetensors"), b"nope").unwrap();
    let e = t.load_pretrained(&dir.join("bad.safetensors")).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_WEIGHTS");
    std::fs::remove_dir_all(dir).unwrap();
}
