// The ResNet family (18, 34, 50, 101, 152) in torchvision's v1.5 form, with torchvision's module
// names, shapes and initialisation, so that state dicts line up key for key with
// torchvision.models.resnetN() and forward passes agree numerically.
//
//   absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet50", 1000);
//   ResNet model(*options);
//   torch::Tensor logits = model->forward(images);  // N x 3 x H x W float -> N x 1000
#ifndef FORGE_LIB_MODEL_RESNET_H_
#define FORGE_LIB_MODEL_RESNET_H_

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace forge {

struct ResNetOptions {
  int depth = 50;                   // 18, 34, 50, 101 or 152
  int64_t num_classes = 1000;       // at least 1
  bool zero_init_residual = false;  // zero-init the last BN weight of each residual block
  // Stochastic depth (drop path): in training, each residual block's branch is dropped for a
  // whole sample with a probability rising linearly over the blocks from 0 (the first) to this
  // (the last), as timm's drop_path_rate, and the kept ones scaled by 1 / (1 - p), as
  // torchvision.ops.stochastic_depth(mode="row"). Draws from torch's global generator. In [0, 1).
  double stochastic_depth = 0;
  // BlurPool as FFCV applies it: the input of every convolution with stride 2 and at least 16
  // input channels (a residual block's strided conv and its downsample's) first blurred by the
  // depthwise 3x3 filter [1 2 1]^T [1 2 1] / 16, stride 1, padding 1. A fixed filter: no
  // parameters or buffers are added, so the state dict stays torchvision's.
  bool blurpool = false;
};

// BlurPool's blur: `x` (N x C x H x W) convolved per channel with [1 2 1]^T [1 2 1] / 16, zero
// padding 1 (FFCV's BlurPoolConv2d before its convolution).
torch::Tensor Blur(const torch::Tensor& x);

// "resnet18", "resnet34", "resnet50", "resnet101" or "resnet152" -> options with that depth and
// `num_classes`. InvalidArgument naming the accepted names for any other name, and for
// num_classes < 1.
absl::StatusOr<ResNetOptions> ResNetOptionsFromName(const std::string& name, int64_t num_classes);

// "resnet<depth>", the name ResNetOptionsFromName accepts for `options`.
std::string ResNetName(const ResNetOptions& options);

// Called by ResNetImpl::ForwardObserved with each submodule's path in the state dict's naming
// ("layer1.0.conv1") and that submodule's output, every time the submodule runs. A module that
// runs more than once (the ReLU of a residual block) is reported once per call.
using ForwardObserver = std::function<void(const std::string& path, const torch::Tensor& output)>;

// The sum of a tensor over the processes training together, differentiable
// (ProcessGroup::SumWithGradient in lib/engine/process_group.h).
using GroupSum = std::function<torch::Tensor(const torch::Tensor&)>;

// torch::nn::BatchNorm2d (the same parameters, buffers, names and results) that, once given a
// GroupSum, normalises training batches with the mean and variance of all the processes' batches
// together and updates its running statistics with them (synchronised batch normalisation, as
// PyTorch's SyncBatchNorm). The statistics come from per-channel sums of x and x^2 in float64;
// evaluation-mode passes are torch::nn::BatchNorm2d's own.
class BatchNorm2dImpl : public torch::nn::BatchNorm2dImpl {
 public:
  using torch::nn::BatchNorm2dImpl::BatchNorm2dImpl;
  torch::Tensor forward(const torch::Tensor& input);
  void Synchronize(GroupSum sum) { group_sum_ = std::move(sum); }
  // A deep copy of this type (as a Sequential's clone needs), not synchronised.
  std::shared_ptr<torch::nn::Module> clone(const std::optional<torch::Device>& device = std::nullopt) const override;

 private:
  GroupSum group_sum_;
};

TORCH_MODULE(BatchNorm2d);

// ResNet: N x 3 x H x W float images (224 on ImageNet; any size, the pool is adaptive, but
// training-mode BN needs N x layer4's H x W > 1, i.e. H, W > 32 at N = 1) -> N x num_classes
// logits. Children, in torchvision's order and names: conv1, bn1, relu, maxpool, layer1..layer4
// (Sequential of BasicBlock for depth 18/34, of Bottleneck for 50/101/152, whose downsample is
// a Sequential(conv 1x1, BN)), avgpool, fc. Convolutions have no bias; BN eps 1e-5, momentum
// 0.1; the stride of a downsampling Bottleneck sits on its 3x3 conv (v1.5).
//
// Initialisation follows torchvision: Kaiming normal (fan_out, ReLU) for every conv, BN weight 1
// and bias 0, fc keeps Linear's default (Kaiming uniform a=sqrt(5), bias uniform +-1/sqrt(fan_in)),
// and with zero_init_residual the last BN weight of each block is 0. Random draws come from
// torch's global generator (seed it with torch::manual_seed).
//
// Cloneable: model->clone() deep-copies parameters and buffers (e.g. for an EMA copy).
class ResNetImpl : public torch::nn::Cloneable<ResNetImpl> {
 public:
  // CHECK-fails unless options.depth is one of 18, 34, 50, 101, 152 and num_classes >= 1 (use
  // ResNetOptionsFromName to validate user input).
  explicit ResNetImpl(const ResNetOptions& options);

  // Builds and initialises every layer. The constructor and clone() call it; calling it on a
  // built model throws (children are registered once).
  void reset() override;

  torch::Tensor forward(torch::Tensor x);

  // forward() that also reports every submodule's output to `observer` (see ForwardObserver).
  // Same computation, same result.
  torch::Tensor ForwardObserved(torch::Tensor x, const ForwardObserver& observer);

  const ResNetOptions& options() const { return options_; }

  // Synchronises every batch norm of the model through `sum` (see BatchNorm2dImpl).
  void SyncBatchNorm(const GroupSum& sum);

  // The children, under the names given in the class comment.
  torch::nn::Conv2d conv1{nullptr};
  BatchNorm2d bn1{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  torch::nn::Sequential layer1{nullptr};
  torch::nn::Sequential layer2{nullptr};
  torch::nn::Sequential layer3{nullptr};
  torch::nn::Sequential layer4{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  torch::Tensor Forward(torch::Tensor x, const ForwardObserver* observer);

  ResNetOptions options_;
};

TORCH_MODULE(ResNet);

}  // namespace forge

#endif  // FORGE_LIB_MODEL_RESNET_H_
