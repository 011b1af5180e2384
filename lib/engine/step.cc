#include "lib/engine/step.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

#include "lib/data/random.h"
#include "lib/train/autocast.h"
#include "lib/train/loss.h"
#include "lib/train/optimizer.h"

namespace forge {

constexpr uint64_t kErasingStream = 0x45524153;  // "ERAS"

absl::Status CheckPrecision(const TrainConfig& config, torch::Device device) {
  if (config.precision() == "fp16" && !device.is_cuda()) {
    return absl::InvalidArgumentError("precision fp16 needs CUDA; use bf16 (or fp32) on the CPU");
  }
  return absl::OkStatus();
}

absl::StatusOr<MixingOptions> MixingOptionsOf(const TrainConfig& config) {
  const MixingConfig& mixing = config.mixing();
  MixingOptions options;
  options.mixup_alpha = mixing.mixup_alpha();
  options.cutmix_alpha = mixing.cutmix_alpha();
  options.probability = mixing.has_probability() ? mixing.probability() : 1.0;
  options.switch_probability = mixing.has_switch_probability() ? mixing.switch_probability() : 0.5;
  for (const auto& [name, value] : {std::pair<const char*, double>{"mixup_alpha", options.mixup_alpha},
                                    {"cutmix_alpha", options.cutmix_alpha}}) {
    if (!(value >= 0) || !std::isfinite(value)) {
      return absl::InvalidArgumentError(absl::StrCat("mixing.", name, " ", value, " must be >= 0"));
    }
  }
  for (const auto& [name, value] : {std::pair<const char*, double>{"probability", options.probability},
                                    {"switch_probability", options.switch_probability}}) {
    if (!(value >= 0 && value <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat("mixing.", name, " ", value, " is not in [0, 1]"));
    }
  }
  if (mixing.last_epoch() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("mixing.last_epoch ", mixing.last_epoch(), " is negative"));
  }
  return options;
}

namespace {

ErasingOptions ErasingOptionsOf(const TrainConfig& config) {
  ErasingOptions options;
  if (!config.data().has_random_erasing()) return options;
  const RandomErasingConfig& erasing = config.data().random_erasing();  // resolved: every field set
  options.probability = erasing.probability();
  options.min_scale = erasing.min_scale();
  options.max_scale = erasing.max_scale();
  options.min_ratio = erasing.min_ratio();
  options.max_ratio = erasing.max_ratio();
  options.value = erasing.value();
  options.random_value = erasing.random_value();
  return options;
}

}  // namespace

MicroBatchAugment MicroBatchAugmentOf(const TrainConfig& config, int epoch, int64_t batch, int64_t batch_size,
                                      int rank, int processes) {
  MicroBatchAugment augment;
  augment.mix = MixesIn(config, epoch);
  augment.mix_seed = MixSeed(MixSeed(config.seed(), static_cast<uint64_t>(epoch), static_cast<uint64_t>(batch)),
                             static_cast<uint64_t>(rank));
  augment.erase = config.data().random_erasing().probability() > 0;
  augment.erase_seed = MixSeed(config.seed(), static_cast<uint64_t>(epoch), kErasingStream);
  augment.first_position = batch * batch_size * processes + rank;
  augment.position_stride = processes;
  return augment;
}

bool MixesIn(const TrainConfig& config, int epoch) {
  const MixingConfig& mixing = config.mixing();
  return (mixing.mixup_alpha() > 0 || mixing.cutmix_alpha() > 0) &&
         (mixing.last_epoch() == 0 || epoch <= mixing.last_epoch());
}

TrainStep::TrainStep(const TrainConfig& config, ResNet& model, torch::optim::Optimizer& optimizer, GradScaler& scaler,
                     torch::Device device, ProcessGroup* group, MixingOptions mixing)
    : config_(config),
      model_(model),
      optimizer_(optimizer),
      scaler_(scaler),
      group_(group),
      mixing_(mixing),
      erasing_(ErasingOptionsOf(config)),
      device_type_(device.type()),
      autocast_(AutocastFor(config.precision(), device_type_)) {
  if (SupportsFusedStep(optimizer_)) fused_.emplace(optimizer_);
}

torch::Tensor TrainStep::Forward(ResNet& model, const torch::Tensor& images) {
  AutocastGuard autocast(device_type_, autocast_);
  return model->forward(images);
}

MicroBatchResult TrainStep::Accumulate(const torch::Tensor& images, const torch::Tensor& labels,
                                       const MicroBatchAugment& augment) {
  const torch::Tensor erased =
      augment.erase ? EraseBatch(images, erasing_, augment.erase_seed, augment.first_position, augment.position_stride)
                    : images;
  const MixedBatch mixed = MixBatch(erased, labels, augment.mix ? mixing_ : MixingOptions(), augment.mix_seed);
  const torch::Tensor logits = Forward(mixed.images);
  torch::Tensor loss = MixedCrossEntropy(logits, mixed, config_.label_smoothing());
  // The step's last micro-batch averages the accumulated gradients over the group.
  const bool step_ends = ++micro_batches_ == config_.grad_accumulation();
  if (group_ != nullptr) group_->BeforeBackward(step_ends);
  scaler_.Scale(loss / static_cast<double>(config_.grad_accumulation())).backward();
  return {logits.detach(), loss.detach(), mixed.dominant_labels()};
}

absl::Status TrainStep::Apply(double lr, std::optional<double> momentum) {
  if (micro_batches_ != config_.grad_accumulation()) {
    return absl::InternalError(absl::StrCat("a step applied after ", micro_batches_, " micro-batches instead of ",
                                            config_.grad_accumulation()));
  }
  micro_batches_ = 0;
  SetLearningRate(optimizer_, lr);
  if (momentum) SetMomentum(optimizer_, *momentum);
  const double clip = config_.grad_clip_norm();
  if (fused_) {
    if (clip > 0) {
      scaler_.UnscaleOnDevice(optimizer_);
      ClipGradNorm(model_->parameters(), clip);
    }
    const GradScaler::FusedStepArgs args = scaler_.PrepareFusedStep(optimizer_);
    fused_->Step(args.grad_scale, args.found_inf);
  } else {
    if (clip > 0) {
      scaler_.Unscale(optimizer_);
      ClipGradNorm(model_->parameters(), clip);
    }
    scaler_.Step(optimizer_);
  }
  scaler_.Update();
  optimizer_.zero_grad();
  return absl::OkStatus();
}

void TrainStep::SyncOptimizerState() {
  if (fused_) fused_->WriteBack();
}

}  // namespace forge
