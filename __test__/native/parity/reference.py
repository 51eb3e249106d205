"""Plain-PyTorch reference for man-fer's parity suite (test-only, not shipped).

Reads a request JSON (argv[1]) naming man-fer's own files (a trainer checkpoint
with both networks, the exact views man-fer trains on) and writes what the MAN
reference computes for them (argv[2]: safetensors, argv[3]: JSON):
  - logits of network 1 in eval and in train mode on the test views,
  - each MAN loss on given float64 logits,
  - one full co-division training step with torch.optim.Adam (updated
    parameters, BatchNorm statistics and Adam moments of both networks),
  - the co-division of given predictions.
The networks and losses live in man_reference.py (plain torch.nn).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from man_reference import co_divide, codivision_loss, consistency_loss, kl_loss, load_net, mutual_loss  # noqa: E402


def main():
    req = json.load(open(sys.argv[1]))
    torch.use_deterministic_algorithms(True)
    ckpt = load_file(req["checkpoint"])
    views = load_file(req["views"])
    classes = req["numClasses"]
    out, info = {}, {}

    # Logits of network 1, eval and train mode, on the test views.
    net = load_net(ckpt, "net1.", classes)
    x = views["test"]
    with torch.no_grad():
        net.eval()
        out["logits_eval"] = net(x).contiguous()
        net.train()
        out["logits_train"] = net(x).contiguous()

    # The losses on given float64 logits.
    L = req["losses"]
    a = torch.tensor(L["a"], dtype=torch.float64)
    b = torch.tensor(L["b"], dtype=torch.float64)
    y = torch.tensor(L["labels"], dtype=torch.int64)
    info["losses"] = {
        "crossEntropy": F.cross_entropy(a, y).item(),
        "kl": kl_loss(a, b).item(),
        "mutual": mutual_loss(a, b, y, L["lambda"]).item(),
        "consistency": consistency_loss(a, b).item(),
    }

    # Co-division of given predictions.
    D = req["coDivision"]
    info["codes"] = co_divide(*(torch.tensor(D[k], dtype=torch.int64) for k in ("pred1", "pred2", "labels"))).tolist()

    # One co-division training step of both networks with torch.optim.Adam.
    S = req["step"]
    m1, m2 = load_net(ckpt, "net1.", classes), load_net(ckpt, "net2.", classes)
    m1.train()
    m2.train()
    params = list(m1.named_parameters(prefix="net1")) + list(m2.named_parameters(prefix="net2"))
    opt = torch.optim.Adam([p for _, p in params], lr=S["lr"], betas=(S["beta1"], S["beta2"]), eps=S["eps"],
                           weight_decay=S["weightDecay"])
    weak, strong = views["weak"], views.get("strong")
    y = torch.tensor(S["labels"], dtype=torch.int64)
    codes = torch.tensor(S["codes"], dtype=torch.int64)
    loss, lc, la, ln = codivision_loss(m1, m2, weak, strong, y, codes, S["lambda"], S["omega"], S["gamma"])
    opt.zero_grad()
    loss.backward()
    opt.step()
    info["step"] = {"loss": loss.item(), "lossClean": lc.item(), "lossAmbiguous": la.item(), "lossNoisy": ln.item()}
    for prefix, m in (("net1.", m1), ("net2.", m2)):
        for k, v in m.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                out[prefix + k] = v.detach().contiguous()
    for name, p in params:
        st = opt.state[p]
        out["adam.exp_avg." + name] = st["exp_avg"].contiguous()
        out["adam.exp_avg_sq." + name] = st["exp_avg_sq"].contiguous()

    save_file(out, sys.argv[2])
    json.dump(info, open(sys.argv[3], "w"))


if __name__ == "__main__":
    main()
