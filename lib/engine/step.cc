#include "lib/engine/step.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

#include "lib/train/autocast.h"
#include "lib/train/loss.h"
#include "lib/train/optimizer.h"

namespace forge {

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
      device_type_(device.type()),
      autocast_(AutocastFor(config.precision(), device_type_)) {
  if (SupportsFusedStep(optimizer_)) fused_.emplace(optimizer_);
}

torch::Tensor TrainStep::Forward(const torch::Tensor& images) {
  AutocastGuard autocast(device_type_, autocast_);
  return model_->forward(images);
}

MicroBatchResult TrainStep::Accumulate(const torch::Tensor& images, const torch::Tensor& labels,
                                       const MicroBatchMixing& mixing) {
  const MixedBatch mixed = MixBatch(images, labels, mixing.enabled ? mixing_ : MixingOptions(), mixing.seed);
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
