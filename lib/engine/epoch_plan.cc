#include "lib/engine/epoch_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/engine/input.h"

namespace forge {

absl::StatusOr<EpochPlan> EpochPlan::Make(const TrainConfig& config, int64_t images, absl::string_view source) {
  EpochPlan plan;
  plan.batch_size_ = config.data().batch_size();
  const auto steps_of = [&](int64_t batch) -> absl::StatusOr<int64_t> {
    if (batch <= 0 || images / batch == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " has ", images, " images, fewer than one batch of ", batch));
    }
    return images / batch;
  };
  absl::StatusOr<int64_t> steps = steps_of(plan.batch_size_);
  if (!steps.ok()) return steps.status();
  plan.steps_per_epoch_ = *steps;
  int64_t first_step = 0;
  for (int epoch = 1; epoch <= std::max(1, config.epochs()); ++epoch) {
    const int64_t batch = TrainBatchSize(config, epoch);
    absl::StatusOr<int64_t> epoch_steps = steps_of(batch);
    if (!epoch_steps.ok()) return epoch_steps.status();
    plan.epochs_.push_back({batch, *epoch_steps, first_step});
    first_step += *epoch_steps;
  }
  return plan;
}

const EpochPlan::Epoch& EpochPlan::At(int epoch) const {
  return epochs_[std::clamp<size_t>(static_cast<size_t>(std::max(epoch, 1)), 1, epochs_.size()) - 1];
}

int64_t EpochPlan::BatchSize(int epoch) const { return At(epoch).batch_size; }
int64_t EpochPlan::StepsIn(int epoch) const { return At(epoch).steps; }

int64_t EpochPlan::FirstStep(int epoch) const {
  const int planned = static_cast<int>(epochs_.size());
  if (epoch <= planned) return At(epoch).first_step;
  const Epoch& last = epochs_.back();
  return last.first_step + last.steps * (epoch - planned);
}

int EpochPlan::EpochOf(int64_t step) const {
  const int planned = static_cast<int>(epochs_.size());
  for (int epoch = 1; epoch <= planned; ++epoch) {
    if (step < FirstStep(epoch + 1)) return epoch;
  }
  return planned + 1 + static_cast<int>((step - FirstStep(planned + 1)) / epochs_.back().steps);
}

double EpochPlan::SchedulePosition(int64_t step) const {
  const int epoch = EpochOf(step);
  const int64_t steps = StepsIn(epoch);
  if (steps == steps_per_epoch_) return static_cast<double>((epoch - 1) * steps_per_epoch_ + step - FirstStep(epoch));
  return static_cast<double>(steps_per_epoch_) *
         (epoch - 1 + static_cast<double>(step - FirstStep(epoch)) / static_cast<double>(steps));
}

double EpochPlan::LrAt(const LrSchedule& schedule, int64_t step) const {
  const double lr = schedule.LrAtPosition(SchedulePosition(step));
  const int64_t batch = BatchSize(EpochOf(step));
  return batch == batch_size_ ? lr : lr * static_cast<double>(batch) / static_cast<double>(batch_size_);
}

std::optional<double> EpochPlan::MomentumAt(const LrSchedule& schedule, int64_t step) const {
  return schedule.MomentumAtPosition(SchedulePosition(step));
}

}  // namespace forge
