// The steps of a run's epochs and where each step sits on its LR schedule. An epoch's global batch
// is data.batch_size, unless progressive resizing gives its training size a batch size of its own
// (TrainBatchSize, input.h): then that epoch has a different number of optimizer steps. The LR
// schedule stays laid out over epochs of data.batch_size's steps (steps_per_epoch, the unit of
// config.schedule and of its ScheduleChanges), and step i of an epoch of S steps sits at the
// position (epoch - 1 + i / S) * steps_per_epoch on it, its LR scaled by the epoch's batch size /
// data.batch_size (the linear scaling rule). Without per-size batch sizes every epoch has
// steps_per_epoch steps, and a step's position is the step itself.
//
//   absl::StatusOr<EpochPlan> plan = EpochPlan::Make(config, dataset.size(), "train.manifest.txtpb");
//   const double lr = plan->LrAt(*schedule, step);
#ifndef FORGE_LIB_ENGINE_EPOCH_PLAN_H_
#define FORGE_LIB_ENGINE_EPOCH_PLAN_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/train/schedule.h"
#include "proto/train_config.pb.h"

namespace forge {

class EpochPlan {
 public:
  // The plan of config.epochs epochs over a dataset of `images` images (named `source` in
  // errors): InvalidArgument when an epoch's batch is larger than the dataset.
  static absl::StatusOr<EpochPlan> Make(const TrainConfig& config, int64_t images, absl::string_view source);

  // Optimizer steps of data.batch_size in an epoch: the schedule's unit.
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  // Global batch size and optimizer steps of `epoch` (1-based; epochs after the last planned one
  // are like it).
  int64_t BatchSize(int epoch) const;
  int64_t StepsIn(int epoch) const;
  // Steps of the epochs before `epoch`.
  int64_t FirstStep(int epoch) const;
  int64_t TotalSteps() const { return FirstStep(static_cast<int>(epochs_.size()) + 1); }
  // The epoch (1-based) that global step `step` (0-based) belongs to.
  int EpochOf(int64_t step) const;

  // Where global step `step` sits on the schedule (see the file comment).
  double SchedulePosition(int64_t step) const;
  // The LR and momentum of global step `step` on `schedule`, laid out over steps_per_epoch().
  double LrAt(const LrSchedule& schedule, int64_t step) const;
  std::optional<double> MomentumAt(const LrSchedule& schedule, int64_t step) const;

 private:
  struct Epoch {
    int64_t batch_size;
    int64_t steps;
    int64_t first_step;
  };
  const Epoch& At(int epoch) const;

  int64_t batch_size_ = 0;       // data.batch_size
  int64_t steps_per_epoch_ = 0;  // of data.batch_size
  std::vector<Epoch> epochs_;    // epochs_[e - 1]
};

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_EPOCH_PLAN_H_
