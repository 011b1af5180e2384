// The optimizer of a run, built from an OptimizerConfig: LibTorch's SGD or AdamW, optionally
// without weight decay on 1-D parameters (BN weights and biases, all biases).
#ifndef FORGE_LIB_TRAIN_OPTIMIZER_H_
#define FORGE_LIB_TRAIN_OPTIMIZER_H_

#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"

namespace forge {

// SGD (momentum, nesterov, dampening 0, weight_decay) or AdamW (beta1, beta2, eps, weight_decay,
// no amsgrad) over the parameters of `model` that require gradients, at learning rate `lr`. Config
// values are taken literally (resolve defaults first, as lib/engine/config.h does). Numerically
// PyTorch's torch.optim.SGD / AdamW (checked against Python goldens).
//
// With no_weight_decay_on_bn_and_bias the parameters are split, in model.named_parameters()
// order, into param group 0 (parameters of 2 or more dimensions: conv and linear weights, with
// weight_decay) and param group 1 (0-D/1-D: BN weights, all biases, with weight_decay 0); a group
// that would be empty is left out. Otherwise there is one group.
//
// InvalidArgument, naming the field, for an unset kind, nesterov without momentum, negative
// values, betas outside [0, 1), or a model without trainable parameters.
//
//   absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
//       MakeOptimizer(config.optimizer(), *model, schedule->LrAt(0));
absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> MakeOptimizer(const OptimizerConfig& config,
                                                                       torch::nn::Module& model, double lr);

// Sets the learning rate of every param group of `optimizer`.
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

// Sets the momentum of every param group: SGD's momentum, AdamW's beta1 (as PyTorch's OneCycleLR
// does with cycle_momentum). Other optimizers are left alone.
void SetMomentum(torch::optim::Optimizer& optimizer, double momentum);

// Whether FusedStepper can step `optimizer`: LibTorch's SGD (dampening 0) or AdamW.
bool SupportsFusedStep(const torch::optim::Optimizer& optimizer);

// optimizer.step() for a LibTorch SGD, in one ATen kernel per param group (_fused_sgd_, CPU and
// CUDA) instead of several small ones per parameter: the same arithmetic (weight decay, momentum,
// dampening 0, nesterov) and the same state, kept where SGD keeps it (its momentum buffers), so
// checkpoints do not change. `grad_scale` (optional): the gradients are divided by it first (a
// loss scaler's scale, for gradients not unscaled yet); `found_inf` (optional, float32 scalar):
// when it is non-zero the step changes nothing. Both are read on the device: no host sync.
// Requires SupportsFusedStep(optimizer) (CHECK) and gradients on one device per group.
void FusedStep(torch::optim::Optimizer& optimizer, const torch::Tensor& grad_scale = {},
               const torch::Tensor& found_inf = {});

// optimizer.step() for LibTorch's SGD or AdamW in fused ATen kernels (FusedStep above for SGD,
// _fused_adamw_ for AdamW), with the same arithmetic and the state where LibTorch keeps it, except
// AdamW's step counts: those live on the device here (a step skipped for inf/NaN gradients must
// not count, and only the device knows), and WriteBack() puts them into the optimizer's state
// (a host sync) before a checkpoint. Counts missing here are read from the optimizer's state at
// the next Step, so a checkpoint loaded before the first Step continues its counts.
//
//   FusedStepper stepper(*optimizer);
//   stepper.Step(grad_scale, found_inf);   // each step
//   stepper.WriteBack();                   // before saving the optimizer
class FusedStepper {
 public:
  // Requires SupportsFusedStep(optimizer) (CHECK); keeps a reference.
  explicit FusedStepper(torch::optim::Optimizer& optimizer);

  // As FusedStep: `grad_scale` divides the gradients first, a non-zero `found_inf` makes the step
  // change nothing (AdamW's counts included). No host sync.
  void Step(const torch::Tensor& grad_scale = {}, const torch::Tensor& found_inf = {});

  // Copies AdamW's step counts into its AdamWParamState (a host sync); nothing for SGD.
  void WriteBack();

 private:
  void AdamWStep(const std::optional<at::Tensor>& grad_scale, const std::optional<at::Tensor>& found_inf);

  torch::optim::Optimizer& optimizer_;
  const bool adamw_;
  std::map<void*, torch::Tensor> steps_;  // AdamW: float32 0-dim step count per parameter, on its device
};

// Scales the gradients of `parameters` so that their joint 2-norm is at most `max_norm`, as
// torch.nn.utils.clip_grad_norm_ does, but without reading the norm back to the host: the norm
// and the factor stay on the device. Returns the norm before clipping (a 0-dim device tensor).
torch::Tensor ClipGradNorm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_OPTIMIZER_H_
