// The schedule kinds of schedule.h, each PyTorch's scheduler in closed form.
#include "lib/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace forge {
namespace {

// M_PI is what Python's math.pi is; std::cos is the libm cos that math.cos calls.
constexpr double kPi = 3.141592653589793;

absl::Status Invalid(absl::string_view field, double value, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("schedule.", field, " = ", value, ": ", problem));
}

// Epochs to steps, rounded to the nearest step. Fails unless the result is a step count >= min.
absl::StatusOr<int64_t> EpochsToSteps(absl::string_view field, double epochs, int64_t steps_per_epoch,
                                      int64_t min) {
  if (!std::isfinite(epochs) || epochs < 0) return Invalid(field, epochs, "must be a finite number >= 0");
  const double steps = std::round(epochs * static_cast<double>(steps_per_epoch));
  if (steps > 1e15) return Invalid(field, epochs, "too large");
  if (steps < static_cast<double>(min)) {
    return Invalid(field, epochs, absl::StrCat("must be at least ", min, " step(s) of ", steps_per_epoch, " per epoch"));
  }
  return static_cast<int64_t>(steps);
}

// Base: clamps the step into [0, total_steps - 1].
class ClampedSchedule : public LrSchedule {
 public:
  explicit ClampedSchedule(int64_t total_steps) : total_steps_(total_steps) {}
  double LrAtPosition(double position) const final {
    return Lr(std::clamp(position, 0.0, static_cast<double>(total_steps_ - 1)));
  }
  std::optional<double> MomentumAtPosition(double position) const final {
    return Momentum(std::clamp(position, 0.0, static_cast<double>(total_steps_ - 1)));
  }

 protected:
  // `step` is a whole step number except in re-laid schedules (MakeRunSchedule).
  virtual double Lr(double step) const = 0;
  virtual std::optional<double> Momentum(double step) const { return std::nullopt; }
  const int64_t total_steps_;
};

// OneCycleLR.get_lr() with anneal_strategy='cos', three_phase=False.
class OneCycle final : public ClampedSchedule {
 public:
  // momentum: (base_momentum, max_momentum) to cycle it, nullopt not to.
  OneCycle(double peak, int64_t total_steps, double pct_start, double div_factor, double final_div_factor,
           std::optional<std::pair<double, double>> momentum)
      : ClampedSchedule(total_steps),
        initial_lr_(peak / div_factor),
        max_lr_(peak),
        min_lr_(initial_lr_ / final_div_factor),
        warmup_end_(pct_start * static_cast<double>(total_steps) - 1),
        end_(static_cast<double>(total_steps - 1)),
        momentum_(momentum) {}

 private:
  static double AnnealCos(double start, double end, double pct) {
    const double cos_out = std::cos(kPi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  static double Pct(double step, double start, double end) {
    return end == start ? 1.0 : (step - start) / (end - start);
  }
  double Lr(double s) const override {
    if (s <= warmup_end_) return AnnealCos(initial_lr_, max_lr_, Pct(s, 0.0, warmup_end_));
    return AnnealCos(max_lr_, min_lr_, Pct(s, warmup_end_, end_));
  }
  std::optional<double> Momentum(double s) const override {
    if (!momentum_) return std::nullopt;
    const auto [base, top] = *momentum_;
    if (s <= warmup_end_) return AnnealCos(top, base, Pct(s, 0.0, warmup_end_));
    return AnnealCos(base, top, Pct(s, warmup_end_, end_));
  }

  const double initial_lr_, max_lr_, min_lr_;
  const double warmup_end_;  // PyTorch's float(pct_start * total_steps) - 1
  const double end_;
  const std::optional<std::pair<double, double>> momentum_;
};

// LinearLR warmup, then CosineAnnealingLR (both closed forms).
class CosineWithWarmup final : public ClampedSchedule {
 public:
  CosineWithWarmup(double peak, int64_t total_steps, int64_t warmup_steps, double start_factor, double final_lr)
      : ClampedSchedule(total_steps),
        peak_(peak),
        warmup_steps_(warmup_steps),
        start_factor_(start_factor),
        final_lr_(final_lr) {}

 private:
  double Lr(double step) const override {
    const double warmup = static_cast<double>(warmup_steps_);
    if (step < warmup) return peak_ * (start_factor_ + (1.0 - start_factor_) * step / warmup);
    const double t = step - warmup;
    const double t_max = static_cast<double>(total_steps_ - warmup_steps_);
    return final_lr_ + (peak_ - final_lr_) * (1 + std::cos(kPi * t / t_max)) / 2;
  }

  const double peak_;
  const int64_t warmup_steps_;
  const double start_factor_, final_lr_;
};

// MultiStepLR (StepLR is the special case of evenly spaced milestones, computed directly).
class MultiStep final : public ClampedSchedule {
 public:
  MultiStep(double peak, int64_t total_steps, int64_t step_size, std::vector<int64_t> milestones, double gamma)
      : ClampedSchedule(total_steps),
        peak_(peak),
        step_size_(step_size),
        milestones_(std::move(milestones)),
        gamma_(gamma) {
    std::sort(milestones_.begin(), milestones_.end());
  }

 private:
  double Lr(double step) const override {
    const int64_t decays =
        step_size_ > 0 ? static_cast<int64_t>(std::floor(step / static_cast<double>(step_size_)))
                       : std::upper_bound(milestones_.begin(), milestones_.end(), step,
                                          [](double s, int64_t milestone) { return s < static_cast<double>(milestone); }) -
                             milestones_.begin();
    return peak_ * std::pow(gamma_, static_cast<double>(decays));
  }

  const double peak_;
  const int64_t step_size_;  // > 0: StepLR; 0: milestones_
  std::vector<int64_t> milestones_;
  const double gamma_;
};

// numpy.interp(step, [0, W, T], [0, peak, final_lr]) (or [0, T], [peak, final_lr] when W = 0),
// with numpy's arithmetic: slope * (x - x_j) + y_j.
class LinearRamp final : public ClampedSchedule {
 public:
  LinearRamp(double peak, int64_t total_steps, int64_t warmup_steps, double final_lr)
      : ClampedSchedule(total_steps), peak_(peak), warmup_steps_(warmup_steps), final_lr_(final_lr) {}

 private:
  double Lr(double step) const override {
    const double warmup = static_cast<double>(warmup_steps_);
    if (step < warmup) {
      const double slope = (peak_ - 0.0) / warmup;
      return slope * step + 0.0;
    }
    const double slope = (final_lr_ - peak_) / static_cast<double>(total_steps_ - warmup_steps_);
    return slope * (step - warmup) + peak_;
  }

  const double peak_;
  const int64_t warmup_steps_;
  const double final_lr_;
};

class Constant final : public LrSchedule {
 public:
  explicit Constant(double lr) : lr_(lr) {}
  double LrAtPosition(double) const override { return lr_; }

 private:
  const double lr_;
};

// A base schedule sampled at positions re-laid by extensions, and frozen from a step on.
class RunSchedule final : public LrSchedule {
 public:
  // From `at_step` on, position(step) = position + (step - at_step) * slope.
  struct Segment {
    int64_t at_step;
    double position;
    double slope;
  };

  explicit RunSchedule(std::unique_ptr<LrSchedule> base) : base_(std::move(base)) {}

  double Position(int64_t step) const {
    for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
      if (step >= it->at_step) return it->position + static_cast<double>(step - it->at_step) * it->slope;
    }
    return static_cast<double>(step);
  }
  void Extend(int64_t at_step, double last_position, int64_t new_last_step) {
    const double position = Position(at_step);
    const double steps = static_cast<double>(new_last_step - at_step);
    const double slope = position < last_position && steps > 0 ? (last_position - position) / steps : 0.0;
    segments_.push_back({at_step, position, slope});
  }
  void Freeze(int64_t at_step, double lr) { freezes_.push_back({at_step, lr}); }

  double LrAtPosition(double position) const override {
    const int64_t step = static_cast<int64_t>(std::floor(position));
    for (auto it = freezes_.rbegin(); it != freezes_.rend(); ++it) {
      if (step >= it->first) return it->second;
    }
    return base_->LrAtPosition(Position(step) + (position - static_cast<double>(step)));
  }
  std::optional<double> MomentumAtPosition(double position) const override {
    const int64_t step = static_cast<int64_t>(std::floor(position));
    for (auto it = freezes_.rbegin(); it != freezes_.rend(); ++it) {
      if (step >= it->first) return base_->MomentumAtPosition(Position(it->first));
    }
    return base_->MomentumAtPosition(Position(step) + (position - static_cast<double>(step)));
  }

 private:
  std::unique_ptr<LrSchedule> base_;
  std::vector<Segment> segments_;               // in at_step order
  std::vector<std::pair<int64_t, double>> freezes_;  // (at_step, lr) in at_step order
};

bool FiniteNonNegative(double value) { return std::isfinite(value) && value >= 0; }

}  // namespace

double PeakLr(const ScheduleConfig& config, int64_t global_batch_size) {
  if (config.peak_lr() > 0) return config.peak_lr();
  const double base_lr = config.base_lr() > 0 ? config.base_lr() : 0.1;
  return base_lr * static_cast<double>(global_batch_size) / 256.0;
}

absl::StatusOr<std::unique_ptr<LrSchedule>> MakeSchedule(const ScheduleConfig& config, double peak_lr,
                                                         int64_t total_steps, int64_t steps_per_epoch) {
  if (!std::isfinite(peak_lr) || peak_lr <= 0) return Invalid("peak_lr", peak_lr, "must be positive");
  if (total_steps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("total steps = ", total_steps, ": must be positive (epochs)"));
  }
  if (steps_per_epoch <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("steps per epoch = ", steps_per_epoch, ": must be positive"));
  }
  switch (config.kind_case()) {
    case ScheduleConfig::kOneCycle: {
      const OneCycleConfig& c = config.one_cycle();
      if (!(c.pct_start() >= 0 && c.pct_start() <= 1)) {
        return Invalid("one_cycle.pct_start", c.pct_start(), "must be in [0, 1]");
      }
      if (!std::isfinite(c.div_factor()) || c.div_factor() <= 0) {
        return Invalid("one_cycle.div_factor", c.div_factor(), "must be positive");
      }
      if (!std::isfinite(c.final_div_factor()) || c.final_div_factor() <= 0) {
        return Invalid("one_cycle.final_div_factor", c.final_div_factor(), "must be positive");
      }
      std::optional<std::pair<double, double>> momentum;
      if (c.cycle_momentum()) {
        if (!(c.base_momentum() >= 0 && c.base_momentum() < 1)) {
          return Invalid("one_cycle.base_momentum", c.base_momentum(), "must be in [0, 1)");
        }
        if (!(c.max_momentum() >= 0 && c.max_momentum() < 1)) {
          return Invalid("one_cycle.max_momentum", c.max_momentum(), "must be in [0, 1)");
        }
        momentum.emplace(c.base_momentum(), c.max_momentum());
      }
      return std::make_unique<OneCycle>(peak_lr, total_steps, c.pct_start(), c.div_factor(), c.final_div_factor(),
                                        momentum);
    }
    case ScheduleConfig::kCosine: {
      const CosineConfig& c = config.cosine();
      absl::StatusOr<int64_t> warmup = EpochsToSteps("cosine.warmup_epochs", c.warmup_epochs(), steps_per_epoch, 0);
      if (!warmup.ok()) return warmup.status();
      if (*warmup >= total_steps) {
        return Invalid("cosine.warmup_epochs", c.warmup_epochs(),
                       absl::StrCat(*warmup, " warmup steps leave none of the ", total_steps, " for the cosine"));
      }
      if (!(c.warmup_start_factor() >= 0 && c.warmup_start_factor() <= 1)) {
        return Invalid("cosine.warmup_start_factor", c.warmup_start_factor(), "must be in [0, 1]");
      }
      if (!FiniteNonNegative(c.final_lr())) return Invalid("cosine.final_lr", c.final_lr(), "must be >= 0");
      return std::make_unique<CosineWithWarmup>(peak_lr, total_steps, *warmup, c.warmup_start_factor(), c.final_lr());
    }
    case ScheduleConfig::kStep: {
      const StepConfig& c = config.step();
      absl::StatusOr<int64_t> size = EpochsToSteps("step.step_epochs", c.step_epochs(), steps_per_epoch, 1);
      if (!size.ok()) return size.status();
      if (!std::isfinite(c.gamma()) || c.gamma() <= 0) return Invalid("step.gamma", c.gamma(), "must be positive");
      return std::make_unique<MultiStep>(peak_lr, total_steps, *size, std::vector<int64_t>(), c.gamma());
    }
    case ScheduleConfig::kMultistep: {
      const MultiStepConfig& c = config.multistep();
      std::vector<int64_t> milestones;
      for (int i = 0; i < c.milestones_epochs_size(); ++i) {
        absl::StatusOr<int64_t> milestone = EpochsToSteps(absl::StrCat("multistep.milestones_epochs[", i, "]"),
                                                          c.milestones_epochs(i), steps_per_epoch, 0);
        if (!milestone.ok()) return milestone.status();
        milestones.push_back(*milestone);
      }
      if (!std::isfinite(c.gamma()) || c.gamma() <= 0) {
        return Invalid("multistep.gamma", c.gamma(), "must be positive");
      }
      return std::make_unique<MultiStep>(peak_lr, total_steps, 0, std::move(milestones), c.gamma());
    }
    case ScheduleConfig::kLinear: {
      const LinearConfig& c = config.linear();
      absl::StatusOr<int64_t> warmup = EpochsToSteps("linear.warmup_epochs", c.warmup_epochs(), steps_per_epoch, 0);
      if (!warmup.ok()) return warmup.status();
      if (*warmup >= total_steps) {
        return Invalid("linear.warmup_epochs", c.warmup_epochs(),
                       absl::StrCat(*warmup, " warmup steps leave none of the ", total_steps, " for the decay"));
      }
      if (!FiniteNonNegative(c.final_lr())) return Invalid("linear.final_lr", c.final_lr(), "must be >= 0");
      return std::make_unique<LinearRamp>(peak_lr, total_steps, *warmup, c.final_lr());
    }
    case ScheduleConfig::kConstant:
      return std::make_unique<Constant>(peak_lr);
    case ScheduleConfig::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "schedule: no kind set (choose one_cycle, cosine, step, multistep, linear or constant)");
}

absl::StatusOr<std::unique_ptr<LrSchedule>> MakeRunSchedule(const TrainConfig& config, double peak_lr,
                                                            int64_t steps_per_epoch) {
  const auto& changes = config.schedule_changes();
  const int64_t first_epochs = changes.empty() ? config.epochs() : changes[0].epochs_before();
  absl::StatusOr<std::unique_ptr<LrSchedule>> base =
      MakeSchedule(config.schedule(), peak_lr, first_epochs * steps_per_epoch, steps_per_epoch);
  if (!base.ok() || changes.empty()) return base;
  auto run = std::make_unique<RunSchedule>(std::move(*base));
  const double last_position = static_cast<double>(first_epochs * steps_per_epoch - 1);
  int64_t previous_step = 0;
  int32_t epochs = first_epochs;
  for (int i = 0; i < changes.size(); ++i) {
    const ScheduleChange& change = changes[i];
    const std::string field = absl::StrCat("schedule_changes[", i, "]");
    if (change.at_step() < previous_step) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".at_step ", change.at_step(), " is before the previous change's ",
                                                     previous_step));
    }
    if (change.epochs_before() != epochs || change.epochs_after() < change.epochs_before()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": epochs ", change.epochs_before(), " -> ",
                                                     change.epochs_after(), " does not follow from ", epochs));
    }
    if (change.epochs_after() > change.epochs_before()) {
      run->Extend(change.at_step(), last_position, change.epochs_after() * steps_per_epoch - 1);
    }
    if (change.freeze()) {
      if (!std::isfinite(change.frozen_lr()) || change.frozen_lr() <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".frozen_lr ", change.frozen_lr(), ": must be positive"));
      }
      run->Freeze(change.at_step(), change.frozen_lr());
    }
    previous_step = change.at_step();
    epochs = change.epochs_after();
  }
  if (epochs != config.epochs()) {
    return absl::InvalidArgumentError(absl::StrCat("epochs ", config.epochs(), " is not the last schedule change's ", epochs));
  }
  return run;
}

}  // namespace forge
