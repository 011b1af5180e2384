#!/usr/bin/env python3
"""Writes the golden files that resnet_test.cc compares against torchvision.

Run from the repository root (needs torch and torchvision; the C++ tests do not):
    python3 lib/model/testdata/make_golden.py

Files written next to this script:
  param_counts.txt            "resnetN <parameter count>" for the five depths
  resnet{18,50}_state_dict.txt "<key> <dim> <dim> ..." in state-dict order (scalars: no dims)
  resnet{18,50}_forward.txt   logits (num_classes=10, eval mode) of the deterministic 1x3x64x64
                               input for the deterministic weights below, one float per line
  resnet18_train_forward.txt  the same in training mode for a 2x3x64x64 input (20 logits), then
                               "<bn>.running_{mean,var}_sum <value>" after that forward pass

Deterministic weights: every state-dict entry is filled by a closed-form function of its key
and the element's flat index, computed in float64 and rounded once to float32, so that C++
(resnet_test.cc, DeterministicValues) reproduces exactly the same bits without a weight file.
"""
import math
import os

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
NUM_CLASSES = 10
EVAL_INPUT_SHAPE = (1, 3, 64, 64)
TRAIN_INPUT_SHAPE = (2, 3, 64, 64)


def key_seed(key):
    return sum(ord(c) * (j + 1) for j, c in enumerate(key)) % 1000003


def unit(seed, n):
    """u in [0, 1): ((i * 2654435761 + seed * 40503) mod 65536) / 65536 for i in 0..n-1."""
    i = np.arange(n, dtype=np.int64)
    return ((i * 2654435761 + seed * 40503) % 65536).astype(np.float64) / 65536.0


def deterministic_values(key, shape):
    """The float32 values of state-dict entry `key`; must match DeterministicValues in C++."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = unit(key_seed(key), n)
    s = 2.0 * u - 1.0  # in [-1, 1)
    if key.endswith("running_var") or (key.endswith("weight") and len(shape) == 1):
        v = 0.5 + u  # BN scales and variances in [0.5, 1.5)
    elif key.endswith("weight") and len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
        v = s * math.sqrt(3.0 / fan_in)  # unit-variance-preserving uniform
    elif key.endswith("weight"):  # fc
        v = s * (1.0 / math.sqrt(shape[1]))
    else:  # biases, running_mean
        v = s * 0.1
    return v.astype(np.float32).reshape(shape)


def set_deterministic(model):
    state = model.state_dict()
    with torch.no_grad():
        for key, tensor in state.items():
            if key.endswith("num_batches_tracked"):
                continue
            tensor.copy_(torch.from_numpy(deterministic_values(key, tuple(tensor.shape))))


def deterministic_input(shape):
    """Input images with values in [-1, 1): 2u - 1 for the key "input"."""
    n = int(np.prod(shape))
    return torch.from_numpy((2.0 * unit(key_seed("input"), n) - 1.0).astype(np.float32).reshape(shape))


def write_lines(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    torch.manual_seed(0)
    counts = []
    for depth in (18, 34, 50, 101, 152):
        model = getattr(torchvision.models, "resnet%d" % depth)()
        counts.append("resnet%d %d" % (depth, sum(p.numel() for p in model.parameters())))
        if depth in (18, 50):
            write_lines("resnet%d_state_dict.txt" % depth,
                        [" ".join([k] + [str(d) for d in v.shape]) for k, v in model.state_dict().items()])
            model = getattr(torchvision.models, "resnet%d" % depth)(num_classes=NUM_CLASSES)
            set_deterministic(model)
            model.eval()
            with torch.no_grad():
                logits = model(deterministic_input(EVAL_INPUT_SHAPE))
            write_lines("resnet%d_forward.txt" % depth, ["%.9g" % x for x in logits.flatten().tolist()])
            if depth == 18:
                # Training mode: batch statistics, then running statistics updated with momentum 0.1.
                model.train()
                with torch.no_grad():
                    logits = model(deterministic_input(TRAIN_INPUT_SHAPE))
                lines = ["%.9g" % x for x in logits.flatten().tolist()]
                for key in ("bn1", "layer4.1.bn2"):
                    bn = model.get_submodule(key)
                    lines.append("%s.running_mean_sum %.9g" % (key, bn.running_mean.double().sum().item()))
                    lines.append("%s.running_var_sum %.9g" % (key, bn.running_var.double().sum().item()))
                write_lines("resnet18_train_forward.txt", lines)
    write_lines("param_counts.txt", counts)


if __name__ == "__main__":
    main()
