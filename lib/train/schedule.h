// Learning-rate schedules stepped once per optimizer step, built from a ScheduleConfig. Each kind
// reproduces a PyTorch scheduler (values equal to within 1e-12 relative, checked against goldens
// from testdata/make_schedule_golden.py), so a Python recipe ports over unchanged.
#ifndef FORGE_LIB_TRAIN_SCHEDULE_H_
#define FORGE_LIB_TRAIN_SCHEDULE_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"

namespace forge {

// The learning rate of every optimizer step (0-based) of a run.
//
//   absl::StatusOr<std::unique_ptr<LrSchedule>> schedule =
//       MakeSchedule(config.schedule(), PeakLr(config.schedule(), 256), total_steps, steps_per_epoch);
//   for (int64_t step = 0; step < total_steps; ++step) {
//     SetLearningRate(optimizer, (*schedule)->LrAt(step));
//     ...
//   }
class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  // The LR of optimizer step `step`: what PyTorch's scheduler.get_last_lr() returns after `step`
  // calls of scheduler.step(). Steps before 0 give step 0's LR; steps from total_steps on give
  // the last step's (total_steps - 1) LR, so extending a finished run continues at its final LR.
  double LrAt(int64_t step) const { return LrAtPosition(static_cast<double>(step)); }
  // The same curve between whole steps (position 2.5 lies halfway from step 2 to step 3 in the
  // curve's own formula), which a re-laid schedule samples (MakeRunSchedule).
  virtual double LrAtPosition(double position) const = 0;
  // The momentum (SGD's, AdamW's beta1) of step `step` for schedules that cycle it (one_cycle
  // with cycle_momentum: OneCycleLR's, equal to within 1e-12 relative); nullopt: the optimizer
  // keeps its own.
  std::optional<double> MomentumAt(int64_t step) const { return MomentumAtPosition(static_cast<double>(step)); }
  virtual std::optional<double> MomentumAtPosition(double position) const { return std::nullopt; }
};

// The peak learning rate: config.peak_lr if > 0, else the linear scaling rule
// base_lr * global_batch_size / 256 (base_lr 0.1 when 0).
double PeakLr(const ScheduleConfig& config, int64_t global_batch_size);

// Lays the schedule of `config` over total_steps steps; steps_per_epoch converts the *_epochs
// fields to steps (rounded to the nearest step). Zero fields are taken literally (resolve defaults
// first, as lib/engine/config.h does). The kinds, with T = total_steps, peak = peak_lr:
//   one_cycle  OneCycleLR(max_lr=peak, total_steps=T, pct_start, anneal_strategy='cos', div_factor,
//              final_div_factor, three_phase=False): cosine from peak/div_factor up to peak until
//              step pct_start*T - 1 (a float, as in PyTorch), then cosine down to
//              peak/div_factor/final_div_factor at step T - 1. With cycle_momentum, the momentum
//              anneals the other way over the same phases: max_momentum -> base_momentum ->
//              max_momentum (unset cycle_momentum: not cycled).
//              Where PyTorch divides by zero (a phase of length 0, e.g. pct_start * T == 1), the
//              phase's end LR is used.
//   cosine     W = warmup steps. Step s < W: peak * (f + (1 - f) * s / W), f = warmup_start_factor
//              (LinearLR's closed form; f = 0 starts at LR 0). Step s >= W:
//              final_lr + (peak - final_lr) * (1 + cos(pi * (s - W) / (T - W))) / 2, which is
//              peak at W and final_lr at T (one step after the last). Equals
//              SequentialLR([LinearLR(f, 1, W), CosineAnnealingLR(T_max=T - W, eta_min=final_lr)],
//              milestones=[W]) (CosineAnnealingLR alone when W = 0); PyTorch computes those
//              recursively, which drifts from the closed form by < 1e-13 relative over 450k steps.
//   step       StepLR: peak * gamma^floor(s / S), S = step_epochs * steps_per_epoch.
//   multistep  MultiStepLR: peak * gamma^(number of milestones <= s); milestones in any order,
//              repeats count twice (as PyTorch's Counter does).
//   linear     numpy.interp(s, [0, W, T], [0, peak, final_lr]): 0 at step 0, peak at W, final_lr
//              at T; from peak straight down when W = 0.
//   constant   peak.
// InvalidArgument, naming the field, for an unset kind, a non-positive peak_lr, total_steps or
// steps_per_epoch, or a value the kind cannot use (pct_start outside [0, 1], non-positive
// div_factor/final_div_factor/gamma, a step size under one step, warmup not shorter than the run,
// negative or non-finite values).
absl::StatusOr<std::unique_ptr<LrSchedule>> MakeSchedule(const ScheduleConfig& config, double peak_lr,
                                                         int64_t total_steps, int64_t steps_per_epoch);

// The schedule of a whole run: config.schedule laid over the run's first `epochs` (those before
// any change), with config.schedule_changes applied in order. Each change takes effect at its
// at_step S and leaves the LR of steps before S as they were:
//   extend  (epochs_after > epochs_before) re-lays the rest of the schedule over the new total:
//           step S keeps the curve position P it had (so the LR does not jump), and positions
//           then advance linearly from P at step S to the curve's last step at the new last
//           step T' - 1, T' = epochs_after * steps_per_epoch. The remaining decay is stretched
//           over the longer run; a finished run (P at the end of the curve) continues at its
//           final LR.
//   freeze  from S on, the LR is frozen_lr (across later extensions too, until another freeze),
//           and a cycled momentum keeps its value of step S.
// InvalidArgument for changes out of step order, extensions that shorten the run, or a frozen
// LR that is not positive and finite; otherwise as MakeSchedule.
//
//   // A 90-epoch cosine run finished at step 90 * 5000 and extended to 120 epochs:
//   //   config.epochs = 120, schedule_changes { at_step: 450000 epochs_before: 90 epochs_after: 120 }
//   std::unique_ptr<LrSchedule> schedule = *MakeRunSchedule(config, PeakLr(...), 5000);
absl::StatusOr<std::unique_ptr<LrSchedule>> MakeRunSchedule(const TrainConfig& config, double peak_lr,
                                                            int64_t steps_per_epoch);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_SCHEDULE_H_
