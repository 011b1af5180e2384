#!/usr/bin/env python3
"""Writes schedule_golden.txt: PyTorch's learning rates per optimizer step for several schedules.

Run by hand from this directory (the Bazel tests never run Python):
    python3 make_schedule_golden.py
Written with torch 2.11.0. Each case is a line
    config <name> <peak_lr> <total_steps> <steps_per_epoch> <ScheduleConfig text format>
followed by lines "<name> <step> <lr>", where lr is what scheduler.get_last_lr()[0] returns
after `step` calls of scheduler.step() (repr: round-trips exactly); for the one_cycle cases that
cycle the momentum, "<name> <step> <lr> <momentum>" with the SGD group's momentum then. Long cases keep every
SUBSAMPLE-th step plus the steps around the phase boundaries. schedule_test.cc compares
MakeSchedule(config, peak, total, steps_per_epoch)->LrAt(step) with these to 1e-12 relative.

The PyTorch reference of each kind (see schedule.h for the definitions):
  one_cycle  OneCycleLR(max_lr=peak, total_steps=T, pct_start, anneal_strategy="cos",
             div_factor, final_div_factor, three_phase=False)
  cosine     SequentialLR([LinearLR(start_factor=warmup_start_factor, total_iters=W),
             CosineAnnealingLR(T_max=T - W, eta_min=final_lr)], milestones=[W]);
             CosineAnnealingLR alone when W = 0
  step       StepLR(step_size=round(step_epochs * steps_per_epoch), gamma)
  multistep  MultiStepLR(milestones=[round(e * steps_per_epoch)], gamma)
  linear     numpy.interp(step, [0, W, T], [0, peak, final_lr]) through LambdaLR
  constant   LambdaLR(lambda s: 1.0)
"""
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")  # scheduler.step() without a real optimizer.step()
SUBSAMPLE = 97


def lrs(make_scheduler, peak, total, momenta=None):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=peak, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    out = []
    for _ in range(total):
        out.append(scheduler.get_last_lr()[0])
        if momenta is not None:
            momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    return out


def steps(epochs, steps_per_epoch):
    return int(round(epochs * steps_per_epoch))


def one_cycle(peak, total, spe, pct_start, div_factor, final_div_factor, momentum=None):
    """momentum: None (momentum not cycled), or (base_momentum, max_momentum) to cycle it."""
    text = (f"one_cycle {{ pct_start: {pct_start!r} div_factor: {div_factor!r} "
            f"final_div_factor: {final_div_factor!r}")
    if momentum is None:
        text += " cycle_momentum: false }"
        values = lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=peak, total_steps=total, pct_start=pct_start, anneal_strategy="cos",
            div_factor=div_factor, final_div_factor=final_div_factor, three_phase=False,
            cycle_momentum=False), peak, total)
        return text, values, [int(pct_start * total)]
    base, top = momentum
    text += f" cycle_momentum: true base_momentum: {base!r} max_momentum: {top!r} }}"
    momenta = []
    values = lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=peak, total_steps=total, pct_start=pct_start, anneal_strategy="cos",
        div_factor=div_factor, final_div_factor=final_div_factor, three_phase=False,
        cycle_momentum=True, base_momentum=base, max_momentum=top), peak, total, momenta)
    return text, list(zip(values, momenta)), [int(pct_start * total)]


def cosine(peak, total, spe, warmup_epochs, warmup_start_factor, final_lr):
    text = (f"cosine {{ warmup_epochs: {warmup_epochs!r} warmup_start_factor: "
            f"{warmup_start_factor!r} final_lr: {final_lr!r} }}")
    w = steps(warmup_epochs, spe)

    def make(o):
        if w == 0:
            return torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=final_lr)
        warmup = torch.optim.lr_scheduler.LinearLR(
            o, start_factor=warmup_start_factor, end_factor=1.0, total_iters=w)
        anneal = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total - w, eta_min=final_lr)
        return torch.optim.lr_scheduler.SequentialLR(o, [warmup, anneal], milestones=[w])

    return text, lrs(make, peak, total), [w]


def step(peak, total, spe, step_epochs, gamma):
    text = f"step {{ step_epochs: {step_epochs!r} gamma: {gamma!r} }}"
    size = steps(step_epochs, spe)
    return text, lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=size, gamma=gamma),
                     peak, total), list(range(size, total, size))


def multistep(peak, total, spe, milestones_epochs, gamma):
    text = "multistep { %s gamma: %r }" % (
        " ".join(f"milestones_epochs: {e!r}" for e in milestones_epochs), gamma)
    milestones = [steps(e, spe) for e in milestones_epochs]
    return text, lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(
        o, milestones=milestones, gamma=gamma), peak, total), milestones


def linear(peak, total, spe, warmup_epochs, final_lr):
    text = f"linear {{ warmup_epochs: {warmup_epochs!r} final_lr: {final_lr!r} }}"
    w = steps(warmup_epochs, spe)
    xs, ys = ([0, w, total], [0.0, peak, final_lr]) if w > 0 else ([0, total], [peak, final_lr])
    # LambdaLR multiplies by the base LR (peak): the factor is the interpolated LR / peak.
    values = lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(
        o, lambda s: float(np.interp(s, xs, ys)) / peak), peak, total)
    return text, values, [w]


def constant(peak, total, spe):
    return "constant {}", lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda s: 1.0),
                              peak, total), []


CASES = [
    # name, peak, total_steps, steps_per_epoch, maker, arguments
    ("one_cycle_default", 0.4, 100, 10, one_cycle, (0.25, 25.0, 1e4)),
    ("one_cycle_tiny_recipe", 0.2, 97, 8, one_cycle, (0.3, 10.0, 100.0)),  # end_step 28.1
    ("one_cycle_exact_boundary", 0.1, 40, 4, one_cycle, (0.25, 25.0, 1e4)),  # end_step 9.0
    ("one_cycle_pct_rounds_up", 1.0, 10, 5, one_cycle, (0.3, 25.0, 1e4)),  # 0.3*10 = 3.0000000000000004
    ("one_cycle_long", 0.8, 50050, 5005, one_cycle, (0.25, 25.0, 1e4)),
    ("one_cycle_momentum_default", 0.4, 100, 10, one_cycle, (0.25, 25.0, 1e4, (0.85, 0.95))),
    ("one_cycle_momentum_tiny_recipe", 0.2, 97, 8, one_cycle, (0.3, 10.0, 100.0, (0.8, 0.9))),
    ("cosine_warmup", 0.5, 120, 10, cosine, (2.0, 0.1, 1e-4)),
    ("cosine_fractional_warmup", 0.3, 77, 6, cosine, (1.5, 0.01, 0.0)),
    ("cosine_no_warmup", 0.1, 50, 5, cosine, (0.0, 0.0, 0.0)),
    ("cosine_long", 2.0, 60000, 1000, cosine, (5.0, 0.01, 0.0)),
    ("step_every_3_epochs", 0.1, 100, 7, step, (3.0, 0.1)),
    ("step_fractional", 0.8, 60, 4, step, (2.5, 0.5)),
    ("multistep", 0.1, 100, 10, multistep, ([3.0, 6.0, 8.0], 0.1)),
    ("multistep_repeated_unsorted", 0.4, 50, 5, multistep, ([5.0, 2.0, 2.0], 0.5)),
    ("linear_ramp", 0.3, 60, 10, linear, (1.5, 0.0)),
    ("linear_no_warmup", 0.3, 33, 3, linear, (0.0, 0.01)),
    ("constant", 0.05, 10, 5, constant, ()),
]


def main():
    lines = ["# Generated by make_schedule_golden.py with torch %s; do not edit." % torch.__version__]
    for name, peak, total, spe, maker, args in CASES:
        text, values, boundaries = maker(peak, total, spe, *args)
        lines.append(f"config {name} {peak!r} {total} {spe} {text}")
        keep = set(range(0, total, SUBSAMPLE)) if total > 1000 else set(range(total))
        for b in boundaries + [total - 1]:
            keep.update(s for s in range(b - 2, b + 3) if 0 <= s < total)
        for s in sorted(keep):
            if isinstance(values[s], tuple):
                lines.append(f"{name} {s} {values[s][0]!r} {values[s][1]!r}")
            else:
                lines.append(f"{name} {s} {values[s]!r}")
    with open("schedule_golden.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
