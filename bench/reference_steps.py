"""The PyTorch baseline for `npm run bench`: times the same warm-up and
co-division steps on the same batches (man-fer's own views, written by the
benchmark), with the same thread count, the way the reference code runs them
(plain torch.nn ResNet-18s, torch.optim.Adam). Prints one JSON line.

usage: python reference_steps.py REQUEST.json
  request: {views: file.safetensors (weak, strong), labels, codes, numClasses,
            steps, threads, lambda, omega, gamma}
"""
import json
import os
import sys
import time

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "__test__", "native", "parity"))
from man_reference import ResNet18, codivision_loss, warmup_loss  # noqa: E402


def timed(step, steps):
    step()  # one untimed step: allocator and kernel warm-up, as man-fer's benchmark does
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def main():
    req = json.load(open(sys.argv[1]))
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    device = torch.device(req.get("device", "cpu"))
    views = {k: v.to(device) for k, v in load_file(req["views"]).items()}
    y = torch.tensor(req["labels"], dtype=torch.int64, device=device)
    codes = torch.tensor(req["codes"], dtype=torch.int64, device=device)
    m1, m2 = ResNet18(req["numClasses"]).to(device).train(), ResNet18(req["numClasses"]).to(device).train()
    opt = torch.optim.Adam(list(m1.parameters()) + list(m2.parameters()), lr=1e-3, weight_decay=1e-4)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def warm():
        opt.zero_grad()
        warmup_loss(m1, m2, views["weak"], y).backward()
        opt.step()
        sync()

    def codiv():
        opt.zero_grad()
        loss = codivision_loss(m1, m2, views["weak"], views["strong"], y, codes, req["lambda"], req["omega"], req["gamma"])[0]
        loss.backward()
        opt.step()
        sync()

    n = len(req["labels"])
    out = {"threads": torch.get_num_threads(), "batch": n, "torch": torch.__version__}
    out["warmupSecPerStep"] = timed(warm, req["steps"])
    out["codivSecPerStep"] = timed(codiv, req["steps"])
    out["warmupImagesPerSec"] = n / out["warmupSecPerStep"]
    out["codivImagesPerSec"] = n / out["codivSecPerStep"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
