"""The PyTorch baseline of `npm run bench`'s epochs at real batch sizes: a
warm-up epoch, a co-division prediction pass and a co-division epoch on the
very views man-fer trained on (written by the benchmark), the way the
reference code runs them (plain torch.nn ResNet-18s, torch.optim.Adam), with
the same threads and batches. Batches are read from the file one at a time
(no memory map), so the peak RSS is the training loop's own. Prints one JSON line.

usage: python reference_epochs.py REQUEST.json
  request: {views: file.safetensors (weak N, strong M, test N), labels, codes,
            batch, evalBatch, repeats, threads, numClasses, lambda, omega, gamma, device}
  strong holds the strong views of the samples whose code is 2, in sample order.
"""
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "__test__", "native", "parity"))
from man_reference import ResNet18, codivision_loss, warmup_loss  # noqa: E402


class Views:
    """Row ranges of a float32 safetensors file, read into fresh tensors."""

    def __init__(self, path):
        self.file = open(path, "rb")
        n = int.from_bytes(self.file.read(8), "little")
        header = json.loads(self.file.read(n))
        self.base = 8 + n
        self.tensors = {k: v for k, v in header.items() if k != "__metadata__"}
        for k, v in self.tensors.items():
            if v["dtype"] != "F32":
                raise SystemExit(f"reference_epochs: {path}: {k} is {v['dtype']}, expected F32")

    def rows(self, name, start, end):
        t = self.tensors[name]
        shape = t["shape"]
        row = 4
        for d in shape[1:]:
            row *= d
        out = torch.empty([end - start] + shape[1:], dtype=torch.float32)
        self.file.seek(self.base + t["data_offsets"][0] + start * row)
        self.file.readinto(out.numpy().data.cast("B"))
        return out


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main():
    req = json.load(open(sys.argv[1]))
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    device = torch.device(req.get("device", "cpu"))
    views = Views(req["views"])
    y_all = torch.tensor(req["labels"], dtype=torch.int64)
    codes_all = torch.tensor(req["codes"], dtype=torch.int64)
    n, batch, eval_batch = len(req["labels"]), req["batch"], req["evalBatch"]
    # Where each batch's strong views start: the noisy samples before it.
    noisy_before = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(codes_all == 2, 0)])
    m1, m2 = ResNet18(req["numClasses"]).to(device).train(), ResNet18(req["numClasses"]).to(device).train()
    opt = torch.optim.Adam(list(m1.parameters()) + list(m2.parameters()), lr=1e-3, weight_decay=1e-4)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def batches(size):
        return [(s, min(n, s + size)) for s in range(0, n, size)]

    def warmup_epoch():
        m1.train(), m2.train()
        for s, e in batches(batch):
            x, y = views.rows("weak", s, e).to(device), y_all[s:e].to(device)
            opt.zero_grad()
            warmup_loss(m1, m2, x, y).backward()
            opt.step()
        sync()

    def predict_pass():
        m1.eval(), m2.eval()
        with torch.no_grad():
            for s, e in batches(eval_batch):
                x = views.rows("test", s, e).to(device)
                torch.stack([m1(x).argmax(1), m2(x).argmax(1)]).cpu()
        m1.train(), m2.train()

    def codivision_epoch():
        m1.train(), m2.train()
        for s, e in batches(batch):
            x, y, codes = views.rows("weak", s, e).to(device), y_all[s:e].to(device), codes_all[s:e].to(device)
            strong = views.rows("strong", int(noisy_before[s]), int(noisy_before[e])).to(device)
            opt.zero_grad()
            loss = codivision_loss(m1, m2, x, strong, y, codes, req["lambda"], req["omega"], req["gamma"])[0]
            loss.backward()
            opt.step()
        sync()

    def timed(f):
        t0 = time.perf_counter()
        f()
        return time.perf_counter() - t0

    runs = {"warmupEpochS": [], "predictS": [], "coDivisionEpochS": []}
    for _ in range(req["repeats"]):
        runs["warmupEpochS"].append(timed(warmup_epoch))
        runs["predictS"].append(timed(predict_pass))
        runs["coDivisionEpochS"].append(timed(codivision_epoch))
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "images": n, "batch": batch, "runs": runs}
    for k, v in runs.items():
        out[k] = statistics.median(v)
    out["peakRssMiB"] = round(peak_rss_mib(), 1)
    if device.type == "cuda":
        out["peakCudaAllocatedMiB"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
