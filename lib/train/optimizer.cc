// MakeOptimizer, SetLearningRate and SetMomentum of optimizer.h.
#include "lib/train/optimizer.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include <glog/logging.h>

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

void SetMomentum(torch::optim::Optimizer& optimizer, double momentum) {
  for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&group.options())) {
      sgd->momentum(momentum);
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&group.options())) {
      adamw->betas({momentum, std::get<1>(adamw->betas())});
    }
  }
}

bool SupportsFusedStep(const torch::optim::Optimizer& optimizer) {
  return dynamic_cast<const torch::optim::SGD*>(&optimizer) != nullptr ||
         dynamic_cast<const torch::optim::AdamW*>(&optimizer) != nullptr;
}

void FusedStep(torch::optim::Optimizer& optimizer, const torch::Tensor& grad_scale, const torch::Tensor& found_inf) {
  CHECK(dynamic_cast<const torch::optim::SGD*>(&optimizer) != nullptr) << "FusedStep steps SGD only";
  torch::NoGradGuard no_grad;
  auto& state = optimizer.state();  // keyed as SGD keys it: by the parameter's TensorImpl
  const std::optional<at::Tensor> scale = grad_scale.defined() ? std::optional<at::Tensor>(grad_scale) : std::nullopt;
  const std::optional<at::Tensor> inf = found_inf.defined() ? std::optional<at::Tensor>(found_inf) : std::nullopt;
  for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    const auto& options = static_cast<const torch::optim::SGDOptions&>(group.options());
    CHECK_EQ(options.dampening(), 0.0) << "FusedStep: SGD with dampening";
    const bool momentum = options.momentum() != 0;
    // [0]: parameters with a momentum buffer; [1]: stepped for the first time (the kernel's
    // is_first_step holds for a whole call). Without momentum there are no buffers at all.
    std::vector<at::Tensor> params[2], grads[2], buffers[2];
    for (torch::Tensor& p : group.params()) {
      if (!p.grad().defined()) continue;
      int first = 0;
      at::Tensor buffer;
      if (momentum) {
        auto found = state.find(p.unsafeGetTensorImpl());
        if (found == state.end()) {
          // Zeros rather than uninitialised memory: a first step skipped for inf gradients leaves
          // the buffer untouched, and the next step's momentum * 0 + grad is then the first-step
          // value, as it should be.
          auto fresh = std::make_unique<torch::optim::SGDParamState>();
          fresh->momentum_buffer(torch::zeros_like(p, at::MemoryFormat::Preserve));
          buffer = fresh->momentum_buffer();
          state[p.unsafeGetTensorImpl()] = std::move(fresh);
          first = 1;
        } else {
          buffer = static_cast<torch::optim::SGDParamState&>(*found->second).momentum_buffer();
        }
        buffers[first].push_back(buffer);
      }
      params[first].push_back(p);
      grads[first].push_back(p.grad());
    }
    for (int first = 0; first < 2; ++first) {
      if (params[first].empty()) continue;
      at::_fused_sgd_(params[first], grads[first], buffers[first], options.weight_decay(), options.momentum(),
                      options.lr(), /*dampening=*/0.0, options.nesterov(), /*maximize=*/false,
                      /*is_first_step=*/first == 1, scale, inf);
    }
  }
}

FusedStepper::FusedStepper(torch::optim::Optimizer& optimizer)
    : optimizer_(optimizer), adamw_(dynamic_cast<const torch::optim::AdamW*>(&optimizer) != nullptr) {
  CHECK(SupportsFusedStep(optimizer)) << "FusedStepper steps SGD and AdamW only";
}

void FusedStepper::Step(const torch::Tensor& grad_scale, const torch::Tensor& found_inf) {
  if (!adamw_) return FusedStep(optimizer_, grad_scale, found_inf);
  AdamWStep(grad_scale.defined() ? std::optional<at::Tensor>(grad_scale) : std::nullopt,
            found_inf.defined() ? std::optional<at::Tensor>(found_inf) : std::nullopt);
}

void FusedStepper::AdamWStep(const std::optional<at::Tensor>& grad_scale, const std::optional<at::Tensor>& found_inf) {
  torch::NoGradGuard no_grad;
  auto& state = optimizer_.state();
  for (torch::optim::OptimizerParamGroup& group : optimizer_.param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps;
    for (torch::Tensor& p : group.params()) {
      if (!p.grad().defined()) continue;
      void* key = p.unsafeGetTensorImpl();
      auto found = state.find(key);
      if (found == state.end()) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        if (options.amsgrad()) fresh->max_exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        found = state.emplace(key, std::move(fresh)).first;
      }
      auto& param_state = static_cast<torch::optim::AdamWParamState&>(*found->second);
      torch::Tensor& step = steps_[key];
      if (!step.defined()) {
        step = torch::full({}, static_cast<double>(param_state.step()),
                           torch::TensorOptions().dtype(torch::kFloat32).device(p.device()));
      }
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(param_state.exp_avg());
      exp_avg_sqs.push_back(param_state.exp_avg_sq());
      if (options.amsgrad()) max_exp_avg_sqs.push_back(param_state.max_exp_avg_sq());
      steps.push_back(step);
    }
    if (params.empty()) continue;
    // As PyTorch's fused AdamW: count the step, and take it back where the step was skipped.
    at::_foreach_add_(steps, 1);
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, options.lr(),
                      std::get<0>(options.betas()), std::get<1>(options.betas()), options.weight_decay(),
                      options.eps(), options.amsgrad(), /*maximize=*/false, grad_scale, found_inf);
    if (found_inf) at::_foreach_add_(steps, *found_inf, /*alpha=*/-1);
  }
}

void FusedStepper::WriteBack() {
  if (!adamw_) return;
  auto& state = optimizer_.state();
  for (const auto& [key, step] : steps_) {
    auto found = state.find(key);
    if (found == state.end()) continue;
    static_cast<torch::optim::AdamWParamState&>(*found->second).step(static_cast<int64_t>(step.item<float>()));
  }
}

torch::Tensor ClipGradNorm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const torch::Tensor& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return torch::zeros({});
  const std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  const torch::Tensor total = torch::linalg_vector_norm(torch::stack(norms), 2);
  // As torch.nn.utils.clip_grad_norm_: the factor clamped at 1, applied to every gradient.
  const torch::Tensor factor = (max_norm / (total + 1e-6)).clamp_max(1.0);
  at::_foreach_mul_(grads, factor);
  return total;
}

}  // namespace forge
