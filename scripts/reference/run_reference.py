"""Runs the MAN authors' training loop (github.com/zzzzzzyang/MAN at df07e3f) on a
RAF-DB-layout folder and prints one JSON object per epoch.

The authors' code is not part of man-fer: pass the folder of a checkout
(`--man-repo`). It is read, patched in memory only as far as needed to run on
the CPU with current PyTorch and small inputs, and executed; nothing of it is
written anywhere. The patches, each asserted to apply exactly once:

- the device (`cuda:0` hard-coded) comes from `--device`;
- `RandomAffine(resample=)` (removed from torchvision) becomes `interpolation=`;
- Posterize's `np.uint8(255 << 4)` overflows under NumPy 2: the mask is taken
  modulo 256, which is what NumPy 1 computed;
- the input size 224 becomes `--image-size`;
- a subset of a batch holding one sample is skipped (train-mode BatchNorm cannot
  take one value per channel at <= 32 px, where PyTorch raises; man-fer skips it
  too);
- the seed (`setup_seed(0)`) comes from `--seed`; saving checkpoints above 90.2% is off;
- instrumentation: the per-batch losses, the partition of every epoch and the
  test accuracies of both networks and the ensemble are recorded.

Usage: python run_reference.py --man-repo DIR --data DIR --classes K
         [--epochs 10] [--warmup 3] [--batch-size 64] [--image-size 32]
         [--seed 0] [--threads 2] [--flipped FILE.json]
"""
import argparse
import json
import os
import sys
import time


def patch(source, old, new, name):
    count = source.count(old)
    if count != 1:
        raise SystemExit(f"run_reference: patch '{name}' expected its anchor once, found it {count} times")
    return source.replace(old, new)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--man-repo', required=True)
    p.add_argument('--data', required=True, help='RAF-DB layout: Image/aligned/*_aligned.jpg, EmoLabel/{train,test}_label.txt')
    p.add_argument('--classes', type=int, required=True)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--image-size', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--workers', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--flipped', help='JSON list of the training indices (label-file order) whose label was flipped')
    a = p.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    repo = os.path.abspath(a.man_repo)
    sys.path.insert(0, repo)

    # Posterize overflow under NumPy 2, in the module main.py imports.
    import types
    ra_src = open(os.path.join(repo, 'randaugument.py')).read()
    ra_src = patch(ra_src, 'np.uint8(255 << (8 - bits))', 'np.uint8((255 << (8 - bits)) & 0xFF)', 'posterize')
    randaug = types.ModuleType('randaugument')
    randaug.__file__ = os.path.join(repo, 'randaugument.py')
    exec(compile(ra_src, randaug.__file__, 'exec'), randaug.__dict__)
    sys.modules['randaugument'] = randaug

    src = open(os.path.join(repo, 'main.py')).read()
    s = a.image_size
    src = patch(src, "device = torch.device('cuda:0')", f"device = torch.device({a.device!r})", 'device')
    src = patch(src, 'resample=Image.BILINEAR', 'interpolation=transforms.InterpolationMode.BILINEAR', 'affine')
    src = patch(src, 'transforms.Resize((224, 224)),\n        transforms.ToTensor(),\n        transforms.Normalize(mean=[0.485, 0.456, 0.406],\n                                 std=[0.229, 0.224, 0.225]),\n        transforms.RandomErasing',
                f'transforms.Resize(({s}, {s})),\n        transforms.ToTensor(),\n        transforms.Normalize(mean=[0.485, 0.456, 0.406],\n                                 std=[0.229, 0.224, 0.225]),\n        transforms.RandomErasing', 'weak size')
    src = patch(src, 'T.Resize((224, 224)),\n        T.PadandRandomCrop(border=4, cropsize=(224, 224))',
                f'T.Resize(({s}, {s})),\n        T.PadandRandomCrop(border=4, cropsize=({s}, {s}))', 'strong size')
    src = patch(src, "transforms.ToPILImage(),\n        transforms.Resize((224, 224)),",
                f"transforms.ToPILImage(),\n        transforms.Resize(({s}, {s})),", 'test size')
    for subset in ('clean_idx', 'noise_idx', 'ambiguous_idx'):
        src = patch(src, f'if {subset}.shape[0] != 0:', f'if {subset}.shape[0] > 1:', f'skip one-sample {subset}')
    src = patch(src, 'setup_seed(0)', f'setup_seed({a.seed})', 'seed')
    src = patch(src, 'if best_acc >= 90.2:', 'if False:', 'no checkpoint files')
    # Instrumentation.
    src = patch(src, '    return acc\n', '    _RECORD["test"].append((acc1, acc2, acc))\n    return acc\n', 'record test')
    src = patch(src, "        if (batch_idx + 1) % args.print_freq == 0:\n            print('Epoch [%d/%d], Iter",
                "        _RECORD['losses'].append((labels.size(0), float(L.item()), float(loss_c_item), float(loss_a_item) / args.w_omiga, float(loss_n_item) / args.w_gamma))\n"
                "        if (batch_idx + 1) % args.print_freq == 0:\n            print('Epoch [%d/%d], Iter", 'record losses')
    src = patch(src, "        L = 0.5 * (loss1 + loss2)\n",
                "        L = 0.5 * (loss1 + loss2)\n        _RECORD['losses'].append((labels.size(0), float(L.item()), float(L.item()), 0.0, 0.0))\n", 'record warm-up losses')
    src = patch(src, "    tripart.concat()   \n    return tripart",
                "    tripart.concat()   \n    _RECORD['partition'] = tripart\n    return tripart", 'record partition')

    label_dir = os.path.join(a.data, 'EmoLabel')
    sys.argv = [
        'main.py',
        '--raf_path', a.data,
        '--train_label_path', os.path.join(label_dir, 'train_label.txt'),
        '--test_label_path', os.path.join(label_dir, 'test_label.txt'),
        '--pretrained_backbone_path', '',
        '--batch_size', str(a.batch_size),
        '--epochs', str(a.epochs),
        '--warmup', str(a.warmup),
        '--num_workers', str(a.workers),
        '--num_class', str(a.classes),
        '--print_freq', '1000000',
    ]
    record = {'test': [], 'losses': [], 'partition': None}
    ns = {'__name__': 'man_reference_main', '__file__': os.path.join(repo, 'main.py'), '_RECORD': record}
    exec(compile(src, ns['__file__'], 'exec'), ns)

    flipped = set(json.load(open(a.flipped))) if a.flipped else None
    stdout = sys.stdout
    epoch_start = [time.time()]

    # One JSON line per epoch, written after the epoch's test: wrap `test`.
    original_test = ns['test']

    def test_and_report(epoch, net1, net2, test_loader):
        acc = original_test(epoch, net1, net2, test_loader)
        acc1, acc2, acc_e = record['test'][-1]
        losses = record['losses']
        n = sum(l[0] for l in losses) or 1
        mean = lambda k: sum(l[0] * l[k] for l in losses) / n
        line = {
            'epoch': epoch,
            'phase': 'warmup' if epoch <= a.warmup else 'co-division',
            'acc1': acc1 / 100, 'acc2': acc2 / 100, 'acc': acc_e / 100,
            'loss': {'total': mean(1), 'clean': mean(2), 'ambiguous': mean(3), 'noisy': mean(4)},
            'seconds': time.time() - epoch_start[0],
        }
        part = record['partition']
        if part is not None and epoch > a.warmup:
            sets = {k: set(int(i) for i in t.cpu().tolist()) for k, t in
                    (('clean', part.clean_t), ('ambiguous', part.ambiguous_t), ('noisy', part.noise_t))}
            line['partition'] = {k: len(v) for k, v in sets.items()}
            if flipped is not None:
                line['flippedIn'] = {k: len(v & flipped) for k, v in sets.items()}
                line['noisyPrecision'] = len(sets['noisy'] & flipped) / max(1, len(sets['noisy']))
                line['noisyRecall'] = len(sets['noisy'] & flipped) / max(1, len(flipped))
        stdout.write(json.dumps(line) + '\n')
        stdout.flush()
        record['losses'].clear()
        epoch_start[0] = time.time()
        return acc

    ns['test'] = test_and_report
    sys.stdout = sys.stderr  # the authors' prints go to stderr, the JSON lines to stdout
    try:
        ns['train']()
    finally:
        sys.stdout = stdout


if __name__ == '__main__':
    main()
