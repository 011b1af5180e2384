// MakeOptimizer and SetLearningRate of optimizer.h.
#include "lib/train/optimizer.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace forge {
namespace {

absl::Status Invalid(absl::string_view field, double value, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("optimizer.", field, " = ", value, ": ", problem));
}

bool FiniteNonNegative(double value) { return std::isfinite(value) && value >= 0; }

// The param groups of `model`'s trainable parameters: one, or (split_1d) [>= 2-D, <= 1-D].
std::vector<std::vector<torch::Tensor>> ParamGroups(torch::nn::Module& model, bool split_1d) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    (split_1d && p.dim() <= 1 ? no_decay : decay).push_back(p);
  }
  std::vector<std::vector<torch::Tensor>> groups;
  if (!decay.empty()) groups.push_back(std::move(decay));
  if (!no_decay.empty()) groups.push_back(std::move(no_decay));
  return groups;
}

// An optimizer of type `Optim` with `options` over `groups`; a second group (the 1-D parameters
// when split) gets a copy of `options` with weight decay 0.
template <typename Optim, typename Options>
std::unique_ptr<torch::optim::Optimizer> Build(std::vector<std::vector<torch::Tensor>> groups, bool split_1d,
                                               const Options& options) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (std::vector<torch::Tensor>& params : groups) {
    const bool no_decay = split_1d && params.front().dim() <= 1;
    auto group_options = std::make_unique<Options>(options);
    if (no_decay) group_options->weight_decay(0.0);
    param_groups.emplace_back(std::move(params), std::move(group_options));
  }
  return std::make_unique<Optim>(param_groups, options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> MakeOptimizer(const OptimizerConfig& config,
                                                                       torch::nn::Module& model, double lr) {
  if (!FiniteNonNegative(lr)) {
    return absl::InvalidArgumentError(absl::StrCat("learning rate ", lr, " must be a finite number >= 0"));
  }
  if (!FiniteNonNegative(config.weight_decay())) {
    return Invalid("weight_decay", config.weight_decay(), "must be >= 0");
  }
  const bool split = config.no_weight_decay_on_bn_and_bias();
  std::vector<std::vector<torch::Tensor>> groups = ParamGroups(model, split);
  if (groups.empty()) return absl::InvalidArgumentError("the model has no trainable parameters to optimize");
  try {
    switch (config.kind_case()) {
      case OptimizerConfig::kSgd: {
        const SgdConfig& sgd = config.sgd();
        if (!FiniteNonNegative(sgd.momentum())) return Invalid("sgd.momentum", sgd.momentum(), "must be >= 0");
        if (sgd.nesterov() && sgd.momentum() == 0) {
          return Invalid("sgd.momentum", sgd.momentum(), "nesterov needs a positive momentum");
        }
        torch::optim::SGDOptions options(lr);
        options.momentum(sgd.momentum()).dampening(0.0).nesterov(sgd.nesterov()).weight_decay(config.weight_decay());
        return Build<torch::optim::SGD>(std::move(groups), split, options);
      }
      case OptimizerConfig::kAdamw: {
        const AdamWConfig& adamw = config.adamw();
        if (!(adamw.beta1() >= 0 && adamw.beta1() < 1)) return Invalid("adamw.beta1", adamw.beta1(), "must be in [0, 1)");
        if (!(adamw.beta2() >= 0 && adamw.beta2() < 1)) return Invalid("adamw.beta2", adamw.beta2(), "must be in [0, 1)");
        if (!FiniteNonNegative(adamw.eps())) return Invalid("adamw.eps", adamw.eps(), "must be >= 0");
        torch::optim::AdamWOptions options(lr);
        options.betas({adamw.beta1(), adamw.beta2()})
            .eps(adamw.eps())
            .weight_decay(config.weight_decay())
            .amsgrad(false);
        return Build<torch::optim::AdamW>(std::move(groups), split, options);
      }
      case OptimizerConfig::KIND_NOT_SET:
        break;
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("optimizer: ", e.what()));
  }
  return absl::InvalidArgumentError("optimizer: no kind set (choose sgd { ... } or adamw { ... })");
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace forge
