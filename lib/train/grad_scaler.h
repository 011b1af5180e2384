// Dynamic loss scaling for fp16 training, as PyTorch's torch.amp.GradScaler (LibTorch has no C++
// one): built from ATen's _amp_foreach_non_finite_check_and_unscale_ and _amp_update_scale_, which
// have CPU and CUDA kernels.
#ifndef FORGE_LIB_TRAIN_GRAD_SCALER_H_
#define FORGE_LIB_TRAIN_GRAD_SCALER_H_

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "absl/status/status.h"

namespace forge {

// Multiplies the loss by a scale so that fp16 gradients do not underflow, unscales the gradients
// before the optimizer step, skips steps whose gradients hold inf/NaN and adapts the scale:
// backoff_factor times it after such a step, growth_factor times it after growth_interval
// finite steps in a row. Disabled, every method passes through (Scale returns the loss, Step
// always steps) and scale() is 1. Per optimizer step, with any number of optimizers:
//
//   GradScaler scaler(/*enabled=*/precision == "fp16");
//   scaler.Scale(loss).backward();
//   scaler.Unscale(optimizer);             // optional: only to clip the true gradients
//   torch::nn::utils::clip_grad_norm_(model->parameters(), max_norm);
//   scaler.Step(optimizer);                // skipped (false) if a gradient is inf/NaN
//   scaler.Update();
//   optimizer.zero_grad();
//
// Not thread-safe. scale(), State(), Unscale() and Step() read values from the device (a sync).
class GradScaler {
 public:
  explicit GradScaler(bool enabled, double init_scale = 65536.0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, int64_t growth_interval = 2000);

  // loss * scale (float32 for an fp16 loss, as in PyTorch); the scale's tensor is created on the
  // first loss's device. Disabled: `loss` itself.
  torch::Tensor Scale(const torch::Tensor& loss);

  // Divides the gradients of `optimizer`'s parameters by the scale, in place, and records whether
  // any is inf/NaN. Returns false if one is. Once per step: a second call before Update() does
  // not unscale again and returns the first answer. Disabled: true, gradients untouched.
  bool Unscale(torch::optim::Optimizer& optimizer);

  // optimizer.step() unless Unscale (called here if it was not) found inf/NaN gradients. Returns
  // whether it stepped. Once per optimizer per Update() (CHECK).
  bool Step(torch::optim::Optimizer& optimizer);

  // What a fused optimizer step (optimizer.h FusedStep) needs to unscale and skip on the device,
  // with no host sync: `grad_scale` to divide the gradients by (undefined once they were
  // unscaled, by UnscaleOnDevice, and when disabled) and `found_inf` (float32 scalar on the
  // gradients' device; undefined when disabled). Checks the gradients for inf/NaN (without
  // unscaling them) unless UnscaleOnDevice did, records the check for Update() and counts as
  // this step's Step() for `optimizer`.
  //
  //   scaler.UnscaleOnDevice(optimizer);     // only to clip: ClipGradNorm(params, max_norm)
  //   GradScaler::FusedStepArgs args = scaler.PrepareFusedStep(optimizer);
  //   FusedStep(optimizer, args.grad_scale, args.found_inf);
  //   scaler.Update();
  struct FusedStepArgs {
    torch::Tensor grad_scale;
    torch::Tensor found_inf;
  };
  FusedStepArgs PrepareFusedStep(torch::optim::Optimizer& optimizer);

  // Unscale() without reading the inf/NaN flag back to the host: divides the gradients by the
  // scale in place and records the flag on the device for PrepareFusedStep and Update().
  void UnscaleOnDevice(torch::optim::Optimizer& optimizer);

  // Adapts the scale to the inf/NaN checks since the last Update() and starts a new step. No-op
  // when disabled, before the first Scale() or when no optimizer was unscaled or stepped.
  void Update();

  // The current scale; 1 when disabled.
  double scale() const;
  bool enabled() const { return enabled_; }

  // For checkpoints: {scale, growth tracker (finite steps since the last change)}; empty when
  // disabled (as PyTorch's state_dict()).
  std::vector<double> State() const;
  // Restores State(). InvalidArgument unless 2 values: a finite positive scale and a non-negative
  // integer tracker. Disabled: ignores the values (an fp16 run resumed in fp32).
  absl::Status LoadState(const std::vector<double>& state);

 private:
  enum class Stage { kReady, kUnscaled, kStepped };
  struct OptimizerState {
    Stage stage = Stage::kReady;
    bool found_inf = false;
    torch::Tensor found_inf_on_device;  // of the unscale or check, for a fused step
  };

  // Checks `optimizer`'s gradients for inf/NaN, dividing them by the scale when `unscale`, and
  // adds the flag to found_inf_; returns the flag (float32 scalar on scale_'s device).
  torch::Tensor CheckGradients(torch::optim::Optimizer& optimizer, bool unscale);

  const bool enabled_;
  const double growth_factor_;
  const double backoff_factor_;
  const int64_t growth_interval_;
  // Before the first Scale(): the values; after: 0-dim float32 / int32 tensors on the loss device.
  double initial_scale_;
  int64_t initial_growth_tracker_ = 0;
  torch::Tensor scale_;
  torch::Tensor growth_tracker_;
  // Summed inf/NaN flags of this step's unscaled optimizers, on scale_'s device (undefined: none).
  torch::Tensor found_inf_;
  std::map<const torch::optim::Optimizer*, OptimizerState> optimizers_;
};

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_GRAD_SCALER_H_
