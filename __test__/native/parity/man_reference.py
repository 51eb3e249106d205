"""The MAN method in plain PyTorch, as the authors' code computes it: a
torchvision-topology ResNet-18 written with torch.nn alone, the losses, the
co-division and one training step. Test and benchmark code only (the parity
suite and `npm run bench` compare man-fer against it); not shipped.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c_in = 64
        for i, c_out in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1)))
            c_in = c_out
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# The MAN losses, as in the authors' code.
def kl_loss(pred, soft_targets):
    kl = F.kl_div(F.log_softmax(pred, dim=1), F.softmax(soft_targets, dim=1), reduction="none")
    return torch.mean(torch.sum(kl, dim=1))


def mutual_loss(l1, l2, y, lam):
    ce = 0.5 * (F.cross_entropy(l1, y) + F.cross_entropy(l2, y))
    kl = 0.5 * (kl_loss(l1, l2) + kl_loss(l2, l1))
    return (1 - lam) * ce + lam * kl


def consistency_loss(weak, strong):
    return F.mse_loss(F.softmax(weak, dim=1), F.softmax(strong, dim=1))


def co_divide(p1, p2, y):
    c1, c2 = p1 == y, p2 == y
    codes = torch.full_like(y, 1)
    codes[c1 & c2] = 0
    codes[~c1 & ~c2] = 2
    return codes


def codivision_loss(m1, m2, weak, strong, y, codes, lam, omega, gamma):
    """L = Lc + omega*La + gamma*Ln with a forward pass per subset, in the
    authors' order (their partition_train): clean; noisy, per network weak then
    strong; ambiguous. BatchNorm running statistics depend on the order.
    `strong` holds the noisy samples' strong views."""
    clean, amb, noisy = codes == 0, codes == 1, codes == 2
    zero = torch.zeros((), device=weak.device)
    lc = 0.5 * (F.cross_entropy(m1(weak[clean]), y[clean]) + F.cross_entropy(m2(weak[clean]), y[clean])) if clean.any() else zero
    if noisy.any():
        ln = 0.5 * (consistency_loss(m1(weak[noisy]), m1(strong)) + consistency_loss(m2(weak[noisy]), m2(strong)))
    else:
        ln = zero
    la = mutual_loss(m1(weak[amb]), m2(weak[amb]), y[amb], lam) if amb.any() else zero
    return lc + omega * la + gamma * ln, lc, la, ln


def warmup_loss(m1, m2, x, y):
    return 0.5 * (F.cross_entropy(m1(x), y) + F.cross_entropy(m2(x), y))


def load_net(ckpt, prefix, classes):
    """A ResNet18 from the `prefix`-named tensors of a man-fer checkpoint."""
    net = ResNet18(classes)
    state = {k[len(prefix):]: v for k, v in ckpt.items() if k.startswith(prefix)}
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"reference: checkpoint does not fit ResNet-18: missing {missing}, unexpected {unexpected}")
    return net
