// Model EMA: an exponential moving average of a model's weights, kept beside the model on the
// same device. Each update is ema = decay_t * ema + (1 - decay_t) * weights for the parameters
// and the floating-point buffers (batch norm's running statistics, as torchvision's
// ExponentialMovingAverage and timm's ModelEmaV2 average them); integer buffers (batch norm's
// num_batches_tracked) are copied. One fused lerp over all tensors; nothing is read back to the
// host, so an update never waits for the device.
//
// When the updates happen is a pure function of the step and the epoch (EmaSchedule), so a run
// resumed from a checkpoint holding the EMA weights goes on exactly as an uninterrupted one.
//
//   ResNet averaged = CloneModel(model);  // same device and memory format
//   ModelEma ema(*averaged, schedule);
//   ... after optimizer step `step` of epoch `epoch`:
//   ema.AfterStep(*model, step, epoch);
#ifndef FORGE_LIB_TRAIN_EMA_H_
#define FORGE_LIB_TRAIN_EMA_H_

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"

namespace forge {

struct EmaSchedule {
  double decay = 0;     // per update, in (0, 1)
  int every_steps = 1;  // update after optimizer steps every_steps - 1, 2 * every_steps - 1, ...
  bool warmup = false;  // decay_t = min(decay, (1 + t) / (10 + t)) for the t-th update (t from 0)
  int copy_epochs = 0;  // through this epoch (1-based) the update copies the weights

  // Whether optimizer step `step` (0-based) is followed by an update.
  bool UpdatesAfter(int64_t step) const { return (step + 1) % every_steps == 0; }
  // The decay of the update after step `step`.
  double DecayAfter(int64_t step) const;
  // Optimizer steps the average reaches back over: every_steps / (1 - decay), the steps after
  // which a weight's share has fallen to 1/e.
  double HorizonSteps() const { return every_steps / (1 - decay); }
};

// The schedule of config.ema (which must be enabled: decay > 0), with torchvision_adjust applied:
// 1 - decay multiplied by data.batch_size * every_steps / epochs, capped at 1 (torchvision's
// train.py). InvalidArgument naming the field for a decay outside (0, 1), every_steps < 1 or a
// negative copy_epochs.
absl::StatusOr<EmaSchedule> EmaScheduleOf(const TrainConfig& config);

// A warning when the average is far from an epoch's scale: reaching back over more than half of
// the run's `total_steps` (its weights would still hold much of the untrained start at the end:
// one run's EMA sat at 0.5% top-1 throughout because of that), or over less than a tenth of an
// epoch (it would follow the weights and add nothing). Empty when neither.
std::string EmaHorizonWarning(const EmaSchedule& schedule, int64_t steps_per_epoch, int64_t total_steps);

class ModelEma {
 public:
  // Averages into `averaged` (not owned), a copy of the model with the same parameter and buffer
  // names, shapes, dtypes and devices.
  ModelEma(torch::nn::Module& averaged, EmaSchedule schedule);

  // After optimizer step `step` (0-based) of epoch `epoch` (1-based): updates from `model` when
  // the schedule says so (copies through copy_epochs).
  void AfterStep(const torch::nn::Module& model, int64_t step, int epoch);
  // ema = decay * ema + (1 - decay) * model (floating tensors); integer buffers copied.
  void Update(const torch::nn::Module& model, double decay);
  // ema = model.
  void Copy(const torch::nn::Module& model);

  torch::nn::Module& averaged() { return averaged_; }
  const EmaSchedule& schedule() const { return schedule_; }

 private:
  torch::nn::Module& averaged_;
  const EmaSchedule schedule_;
};

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_EMA_H_
