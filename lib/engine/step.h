// The arithmetic of a training step, shared by `train` and `lr_find` so that a range test
// trains exactly as the run will: forward under autocast, label-smoothed cross-entropy, backward
// of the (loss-scaled) loss divided by grad_accumulation, the last micro-batch's backward pass
// averaging the gradients over the process group (several processes); then the LR, optional unscale +
// gradient clipping, the scaler's step and update, zero_grad. Nothing in a step reads a value back
// to the host: SGD and AdamW step in fused kernels (optimizer.h FusedStepper) that unscale and
// skip inf/NaN steps on the device, clipping keeps the norm on the device, and the loss stays a
// tensor. Before the optimizer is saved, SyncOptimizerState() brings back what the fused step
// keeps on the device.
//
//   TrainStep step(config, model, *optimizer, scaler, device);
//   for (each micro-batch) {
//     const MicroBatchResult result = step.Accumulate(normalized_images, labels);
//     if (++micro % config.grad_accumulation() != 0) continue;
//     if (absl::Status status = step.Apply(schedule.LrAt(global_step++)); !status.ok()) return status;
//   }
#ifndef FORGE_LIB_ENGINE_STEP_H_
#define FORGE_LIB_ENGINE_STEP_H_

#include <optional>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "lib/engine/process_group.h"
#include "lib/model/resnet.h"
#include "lib/train/autocast.h"
#include "absl/status/statusor.h"
#include "lib/train/grad_scaler.h"
#include "lib/train/erasing.h"
#include "lib/train/mixing.h"
#include "lib/train/optimizer.h"
#include "proto/train_config.pb.h"

namespace forge {

// Tensors on the device: reading them on the host (loss.item()) waits for the step to finish, so
// the loop reads them only when it logs.
struct MicroBatchResult {
  torch::Tensor logits;  // detached
  torch::Tensor loss;    // detached float32 scalar: the micro-batch's mean loss (unscaled, undivided)
  torch::Tensor labels;  // what accuracy counts: the labels, or each image's dominant one when mixed
};

// Whether a micro-batch is mixed (config.mixing) and erased (data.random_erasing), and the seeds
// of those draws: the same for the same micro-batch of a resumed run.
struct MicroBatchAugment {
  bool mix = false;
  uint64_t mix_seed = 0;  // per micro-batch and process: each process mixes its own share
  bool erase = false;
  // Erasing draws per image from (erase_seed, global position), so that it does not depend on
  // the number of processes: the micro-batch's images sit at first_position, first_position +
  // position_stride, ... of the epoch's global order (EpochSampler::GlobalPosition).
  uint64_t erase_seed = 0;
  int64_t first_position = 0;
  int64_t position_stride = 1;
};

// The augmentation of loader batch `batch` (of `batch_size` images per process) of `epoch` in
// process `rank` of `processes`.
MicroBatchAugment MicroBatchAugmentOf(const TrainConfig& config, int epoch, int64_t batch, int64_t batch_size,
                                      int rank, int processes);

// config.mixing as MixingOptions (defaults resolved); InvalidArgument naming the field for a
// negative alpha or a probability outside [0, 1].
absl::StatusOr<MixingOptions> MixingOptionsOf(const TrainConfig& config);

// Whether config.mixing mixes the batches of `epoch` (1-based).
bool MixesIn(const TrainConfig& config, int epoch);

// InvalidArgument for config.precision fp16 on a device other than CUDA.
absl::Status CheckPrecision(const TrainConfig& config, torch::Device device);

class TrainStep {
 public:
  // Keeps references: everything must outlive the TrainStep. `group`: the processes training the
  // model together; null for one process.
  TrainStep(const TrainConfig& config, ResNet& model, torch::optim::Optimizer& optimizer, GradScaler& scaler,
            torch::Device device, ProcessGroup* group = nullptr, MixingOptions mixing = MixingOptions());

  // The model's forward pass under the config's autocast (also what validation runs).
  torch::Tensor Forward(const torch::Tensor& images) { return Forward(model_, images); }
  // The same for another model of the run (its EMA).
  torch::Tensor Forward(ResNet& model, const torch::Tensor& images);

  // Forward and backward of one micro-batch: `images` normalised, `labels` on the device; erased
  // (data.random_erasing), then mixed (config.mixing), as `augment` says.
  MicroBatchResult Accumulate(const torch::Tensor& images, const torch::Tensor& labels,
                              const MicroBatchAugment& augment = MicroBatchAugment());

  // The optimizer step with the gradients of the grad_accumulation micro-batches since the last
  // one, at learning rate `lr` (and `momentum`, SGD's or AdamW's beta1, when the schedule cycles it). Internal error when called after another number of micro-batches.
  absl::Status Apply(double lr, std::optional<double> momentum = std::nullopt);

  // Puts the optimizer's state where a checkpoint reads it (AdamW's step counts; a host sync).
  void SyncOptimizerState();

 private:
  const TrainConfig& config_;
  ResNet& model_;
  torch::optim::Optimizer& optimizer_;
  GradScaler& scaler_;
  ProcessGroup* const group_;
  const MixingOptions mixing_;
  const ErasingOptions erasing_;
  int micro_batches_ = 0;  // accumulated since the last step
  std::optional<FusedStepper> fused_;  // when the optimizer has a fused step
  const c10::DeviceType device_type_;
  const AutocastMode autocast_;
};

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_STEP_H_
