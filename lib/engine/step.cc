#include "lib/engine/step.h"

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

TrainStep::TrainStep(const TrainConfig& config, ResNet& model, torch::optim::Optimizer& optimizer, GradScaler& scaler,
                     torch::Device device, ProcessGroup* group)
    : config_(config),
      model_(model),
      optimizer_(optimizer),
      scaler_(scaler),
      group_(group),
      device_type_(device.type()),
      autocast_(AutocastFor(config.precision(), device_type_)) {
  if (SupportsFusedStep(optimizer_)) fused_.emplace(optimizer_);
}

torch::Tensor TrainStep::Forward(const torch::Tensor& images) {
  AutocastGuard autocast(device_type_, autocast_);
  return model_->forward(images);
}

MicroBatchResult TrainStep::Accumulate(const torch::Tensor& images, const torch::Tensor& labels) {
  const torch::Tensor logits = Forward(images);
  torch::Tensor loss = CrossEntropy(logits, labels, config_.label_smoothing());
  // The step's last micro-batch averages the accumulated gradients over the group.
  const bool step_ends = ++micro_batches_ == config_.grad_accumulation();
  if (group_ != nullptr) group_->BeforeBackward(step_ends);
  scaler_.Scale(loss / static_cast<double>(config_.grad_accumulation())).backward();
  return {logits.detach(), loss.detach()};
}

absl::Status TrainStep::Apply(double lr) {
  if (micro_batches_ != config_.grad_accumulation()) {
    return absl::InternalError(absl::StrCat("a step applied after ", micro_batches_, " micro-batches instead of ",
                                            config_.grad_accumulation()));
  }
  micro_batches_ = 0;
  SetLearningRate(optimizer_, lr);
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
