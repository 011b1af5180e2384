// GradScaler of grad_scaler.h, after torch/amp/grad_scaler.py.
#include "lib/train/grad_scaler.h"

#include <glog/logging.h>

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace forge {

GradScaler::GradScaler(bool enabled, double init_scale, double growth_factor, double backoff_factor,
                       int64_t growth_interval)
    : enabled_(enabled),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval),
      initial_scale_(init_scale) {
  CHECK(init_scale > 0 && std::isfinite(init_scale)) << "init_scale " << init_scale;
  CHECK_GT(growth_factor, 1.0);
  CHECK(backoff_factor > 0 && backoff_factor < 1) << "backoff_factor " << backoff_factor;
  CHECK_GT(growth_interval, 0);
}

torch::Tensor GradScaler::Scale(const torch::Tensor& loss) {
  if (!enabled_) return loss;
  if (!scale_.defined()) {
    const auto on_device = torch::TensorOptions().device(loss.device());
    scale_ = torch::full({}, initial_scale_, on_device.dtype(torch::kFloat32));
    growth_tracker_ = torch::full({}, initial_growth_tracker_, on_device.dtype(torch::kInt32));
  }
  return loss * scale_.to(loss.device(), /*non_blocking=*/true);
}

torch::Tensor GradScaler::CheckGradients(torch::optim::Optimizer& optimizer, bool unscale) {
  // The ATen kernel wants one device and one dtype per call; flags are per device.
  // Key: (device type, device index, dtype).
  std::map<std::tuple<int, int, int>, std::vector<torch::Tensor>> grads;
  for (const torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    for (const torch::Tensor& p : group.params()) {
      const torch::Tensor& grad = p.grad();
      if (!grad.defined()) continue;
      CHECK(!grad.is_sparse()) << "GradScaler does not unscale sparse gradients";
      grads[{static_cast<int>(grad.device().type()), grad.device().index(), static_cast<int>(grad.scalar_type())}]
          .push_back(grad);
    }
  }
  const torch::Tensor inv_scale = unscale ? scale_.to(torch::kFloat64).reciprocal().to(torch::kFloat32)
                                          : torch::ones({}, scale_.options().dtype(torch::kFloat32));
  torch::Tensor found_inf = torch::zeros({}, scale_.options().dtype(torch::kFloat32));
  for (auto& [key, list] : grads) {
    const torch::Device device = list.front().device();
    torch::Tensor device_found_inf = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    torch::NoGradGuard no_grad;
    at::_amp_foreach_non_finite_check_and_unscale_(list, device_found_inf, inv_scale.to(device));
    found_inf.add_(device_found_inf.to(scale_.device()));
  }
  found_inf_ = found_inf_.defined() ? found_inf_.add(found_inf) : found_inf;
  return found_inf;
}

bool GradScaler::Unscale(torch::optim::Optimizer& optimizer) {
  if (!enabled_) return true;
  OptimizerState& state = optimizers_[&optimizer];
  CHECK(state.stage != Stage::kStepped) << "GradScaler::Unscale after Step in the same step";
  if (state.stage == Stage::kUnscaled) {
    if (state.found_inf_on_device.defined()) state.found_inf = state.found_inf_on_device.item<float>() != 0;
    return !state.found_inf;
  }
  state.stage = Stage::kUnscaled;
  if (!scale_.defined()) return true;  // Nothing was scaled: the gradients are not ours to touch.
  state.found_inf_on_device = CheckGradients(optimizer, /*unscale=*/true);
  state.found_inf = state.found_inf_on_device.item<float>() != 0;
  return !state.found_inf;
}

void GradScaler::UnscaleOnDevice(torch::optim::Optimizer& optimizer) {
  if (!enabled_) return;
  OptimizerState& state = optimizers_[&optimizer];
  CHECK(state.stage == Stage::kReady) << "GradScaler::UnscaleOnDevice twice or after Step in the same step";
  state.stage = Stage::kUnscaled;
  if (scale_.defined()) state.found_inf_on_device = CheckGradients(optimizer, /*unscale=*/true);
}

GradScaler::FusedStepArgs GradScaler::PrepareFusedStep(torch::optim::Optimizer& optimizer) {
  if (!enabled_) return {};
  OptimizerState& state = optimizers_[&optimizer];
  CHECK(state.stage != Stage::kStepped) << "GradScaler::PrepareFusedStep twice without Update";
  FusedStepArgs args;
  if (scale_.defined()) {
    if (state.stage == Stage::kReady) {
      state.found_inf_on_device = CheckGradients(optimizer, /*unscale=*/false);
      args.grad_scale = scale_;
    }
    args.found_inf = state.found_inf_on_device;
  }
  state.stage = Stage::kStepped;
  return args;
}

bool GradScaler::Step(torch::optim::Optimizer& optimizer) {
  if (!enabled_) {
    optimizer.step();
    return true;
  }
  CHECK(optimizers_[&optimizer].stage != Stage::kStepped) << "GradScaler::Step twice without Update";
  const bool finite = Unscale(optimizer);
  optimizers_[&optimizer].stage = Stage::kStepped;
  if (!finite) return false;
  optimizer.step();
  return true;
}

void GradScaler::Update() {
  if (!enabled_ || !scale_.defined()) return;
  if (found_inf_.defined()) {
    at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, growth_factor_, backoff_factor_, growth_interval_);
  }
  found_inf_ = torch::Tensor();
  optimizers_.clear();
}

double GradScaler::scale() const {
  if (!enabled_) return 1.0;
  return scale_.defined() ? scale_.item<double>() : initial_scale_;
}

std::vector<double> GradScaler::State() const {
  if (!enabled_) return {};
  if (!scale_.defined()) return {initial_scale_, static_cast<double>(initial_growth_tracker_)};
  return {scale_.item<double>(), static_cast<double>(growth_tracker_.item<int32_t>())};
}

absl::Status GradScaler::LoadState(const std::vector<double>& state) {
  if (!enabled_) return absl::OkStatus();
  if (state.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("grad scaler state has ", state.size(), " values, not 2 (scale, growth tracker)"));
  }
  const double scale = state[0], tracker = state[1];
  if (!std::isfinite(scale) || scale <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("grad scaler scale ", scale, " is not a positive number"));
  }
  if (!(tracker >= 0 && tracker < 2147483647.0 && tracker == std::floor(tracker))) {
    return absl::InvalidArgumentError(absl::StrCat("grad scaler growth tracker ", tracker, " is not a count"));
  }
  initial_scale_ = scale;
  initial_growth_tracker_ = static_cast<int64_t>(tracker);
  if (scale_.defined()) {
    scale_.fill_(scale);
    growth_tracker_.fill_(initial_growth_tracker_);
  }
  return absl::OkStatus();
}

}  // namespace forge
