#include "lib/train/ema.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge {
namespace {

// The module's parameters, then its buffers, in registration order: the same order in any copy.
std::vector<torch::Tensor> Tensors(const torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors = module.parameters();
  for (const torch::Tensor& buffer : module.buffers()) tensors.push_back(buffer);
  return tensors;
}

}  // namespace

double EmaSchedule::DecayAfter(int64_t step) const {
  if (!warmup) return decay;
  const double t = static_cast<double>((step + 1) / every_steps - 1);
  return std::min(decay, (1 + t) / (10 + t));
}

absl::StatusOr<EmaSchedule> EmaScheduleOf(const TrainConfig& config) {
  const EmaConfig& ema = config.ema();
  EmaSchedule schedule;
  if (!(ema.decay() > 0 && ema.decay() < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("config field ema.decay: ", ema.decay(), " is not in (0, 1)"));
  }
  schedule.every_steps = ema.has_every_steps() ? ema.every_steps() : 1;
  if (schedule.every_steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("config field ema.every_steps: ", schedule.every_steps, " must be at least 1"));
  }
  if (ema.copy_epochs() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("config field ema.copy_epochs: ", ema.copy_epochs(), " is negative"));
  }
  double alpha = 1 - ema.decay();
  if (ema.torchvision_adjust()) {
    alpha = std::min(1.0, alpha * static_cast<double>(config.data().batch_size()) * schedule.every_steps /
                              std::max(1, config.epochs()));
  }
  schedule.decay = 1 - alpha;
  schedule.warmup = ema.warmup();
  schedule.copy_epochs = ema.copy_epochs();
  return schedule;
}

std::string EmaHorizonWarning(const EmaSchedule& schedule, int64_t steps_per_epoch, int64_t total_steps) {
  const double horizon = schedule.HorizonSteps();
  const double epochs = horizon / static_cast<double>(std::max<int64_t>(1, steps_per_epoch));
  if (horizon > 0.5 * static_cast<double>(total_steps)) {
    return absl::StrFormat(
        "the EMA (decay %.6g every %d steps) reaches back over about %.0f steps (%.3g epochs), more than half of "
        "the run's %d: its weights will still hold much of the early, untrained model at the end. Lower "
        "ema.decay (or set ema.warmup)",
        schedule.decay, schedule.every_steps, horizon, epochs, total_steps);
  }
  if (horizon < 0.1 * static_cast<double>(steps_per_epoch)) {
    return absl::StrFormat(
        "the EMA (decay %.6g every %d steps) reaches back over only about %.0f steps (%.3g epochs): it will "
        "follow the weights closely and add little. Raise ema.decay",
        schedule.decay, schedule.every_steps, horizon, epochs);
  }
  return "";
}

ModelEma::ModelEma(torch::nn::Module& averaged, EmaSchedule schedule) : averaged_(averaged), schedule_(schedule) {}

void ModelEma::AfterStep(const torch::nn::Module& model, int64_t step, int epoch) {
  if (!schedule_.UpdatesAfter(step)) return;
  if (epoch <= schedule_.copy_epochs) {
    Copy(model);
  } else {
    Update(model, schedule_.DecayAfter(step));
  }
}

void ModelEma::Update(const torch::nn::Module& model, double decay) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> from = Tensors(model);
  const std::vector<torch::Tensor> to = Tensors(averaged_);
  TORCH_CHECK(from.size() == to.size(), "the EMA copy has ", to.size(), " tensors, the model ", from.size());
  std::vector<torch::Tensor> averaged, current;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i].is_floating_point()) {
      averaged.push_back(to[i]);
      current.push_back(from[i]);
    } else {
      to[i].copy_(from[i]);
    }
  }
  torch::_foreach_lerp_(averaged, current, 1 - decay);
}

void ModelEma::Copy(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> from = Tensors(model);
  const std::vector<torch::Tensor> to = Tensors(averaged_);
  TORCH_CHECK(from.size() == to.size(), "the EMA copy has ", to.size(), " tensors, the model ", from.size());
  for (size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
}

}  // namespace forge
