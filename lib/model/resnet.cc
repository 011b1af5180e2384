// ResNet v1.5 as torchvision builds it (torchvision/models/resnet.py), child for child.
#include "lib/model/resnet.h"

#include <glog/logging.h>

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace forge {
namespace {

struct DepthConfig {
  int depth;
  bool bottleneck;  // Bottleneck (expansion 4) rather than BasicBlock (expansion 1)
  std::array<int, 4> blocks;
};

constexpr DepthConfig kDepths[] = {
    {18, false, {2, 2, 2, 2}},  {34, false, {3, 4, 6, 3}},   {50, true, {3, 4, 6, 3}},
    {101, true, {3, 4, 23, 3}}, {152, true, {3, 8, 36, 3}},
};

const DepthConfig* FindDepth(int depth) {
  for (const DepthConfig& config : kDepths) {
    if (config.depth == depth) return &config;
  }
  return nullptr;
}

std::string JoinPath(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : absl::StrCat(prefix, ".", name);
}

// Reports `output` as the output of `prefix`.`name` when observing; returns it unchanged.
torch::Tensor Observe(const ForwardObserver* observer, const std::string& prefix, const char* name,
                      torch::Tensor output) {
  if (observer != nullptr) (*observer)(JoinPath(prefix, name), output);
  return output;
}

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

BatchNorm2d BatchNorm(int64_t channels) {
  return BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-5).momentum(0.1));
}

torch::nn::ReLU InplaceRelu() { return torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)); }

}  // namespace

torch::Tensor Blur(const torch::Tensor& x) {
  const int64_t channels = x.size(1);
  const torch::Tensor row = torch::tensor({1.0, 2.0, 1.0}, x.options()) / 4.0;
  const torch::Tensor filter = torch::outer(row, row).expand({channels, 1, 3, 3}).contiguous();
  return torch::conv2d(x, filter, /*bias=*/{}, /*stride=*/1, /*padding=*/1, /*dilation=*/1, /*groups=*/channels);
}

namespace {

// The residual branch of a batch with each sample's branch dropped with probability `rate` and
// the rest scaled by 1 / (1 - rate) (torchvision.ops.stochastic_depth, mode "row"); `branch`
// itself outside training or at rate 0.
torch::Tensor DropPath(const torch::Tensor& branch, double rate, bool training) {
  if (!training || rate <= 0) return branch;
  const double survival = 1 - rate;
  std::vector<int64_t> per_sample(static_cast<size_t>(branch.dim()), 1);
  per_sample[0] = branch.size(0);
  torch::Tensor noise = torch::empty(per_sample, branch.options()).bernoulli_(survival);
  if (survival > 0) noise.div_(survival);
  return branch * noise;
}

// What ResNetImpl needs of a block besides Module: a forward pass that reports to an observer,
// and the BN that zero_init_residual zeroes.
class ResidualBlock {
 public:
  virtual ~ResidualBlock() = default;
  virtual torch::Tensor Forward(torch::Tensor x, const ForwardObserver* observer,
                                const std::string& path) = 0;
  virtual BatchNorm2d& LastBatchNorm() = 0;
  // The probability of dropping this block's branch in training (stochastic depth).
  void set_drop_rate(double rate) { drop_rate_ = rate; }
  // Whether the inputs of the block's strided convolutions are blurred first (BlurPool).
  void set_blurpool(bool blurpool) { blurpool_ = blurpool; }

 protected:
  // `x` blurred when BlurPool applies to a convolution of this block with `stride` and
  // `in_channels` inputs (FFCV: stride > 1 and at least 16 input channels).
  torch::Tensor BlurFor(const torch::Tensor& x, int64_t stride, int64_t in_channels) const {
    return blurpool_ && stride > 1 && in_channels >= 16 ? Blur(x) : x;
  }
  double drop_rate_ = 0;
  bool blurpool_ = false;
};

torch::Tensor RunSequential(torch::nn::SequentialImpl& sequential, torch::Tensor x,
                            const ForwardObserver* observer, const std::string& path);

// torchvision's downsample: Sequential(conv1x1(in, out, stride), BN(out)), or none (an empty
// holder) when the block keeps its shape.
torch::nn::Sequential MakeDownsample(int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) return torch::nn::Sequential(nullptr);
  return torch::nn::Sequential(Conv(in, out, 1, stride), BatchNorm(out));
}

// Two 3x3 convs (the first one strided), for ResNet-18/34. Expansion 1.
class BasicBlockImpl : public torch::nn::Cloneable<BasicBlockImpl>, public ResidualBlock {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride)
      : in_planes_(in_planes), planes_(planes), stride_(stride) {
    reset();
  }

  void reset() override {
    // Registration order is torchvision's: it fixes the state dict's key order.
    conv1 = register_module("conv1", Conv(in_planes_, planes_, 3, stride_));
    bn1 = register_module("bn1", BatchNorm(planes_));
    relu = register_module("relu", InplaceRelu());
    conv2 = register_module("conv2", Conv(planes_, planes_, 3, 1));
    bn2 = register_module("bn2", BatchNorm(planes_));
    downsample = MakeDownsample(in_planes_, planes_, stride_);
    if (!downsample.is_empty()) register_module("downsample", downsample);
  }

  torch::Tensor forward(torch::Tensor x) { return Forward(std::move(x), nullptr, ""); }

  torch::Tensor Forward(torch::Tensor x, const ForwardObserver* observer,
                        const std::string& path) override {
    torch::Tensor identity = x;
    const torch::Tensor blurred = BlurFor(x, stride_, in_planes_);
    torch::Tensor out = Observe(observer, path, "conv1", conv1(blurred));
    out = Observe(observer, path, "bn1", bn1(out));
    out = Observe(observer, path, "relu", relu(out));
    out = Observe(observer, path, "conv2", conv2(out));
    out = DropPath(Observe(observer, path, "bn2", bn2(out)), drop_rate_, is_training());
    if (!downsample.is_empty()) {
      identity = Observe(observer, path, "downsample",
                         RunSequential(*downsample, blurred, observer, JoinPath(path, "downsample")));
    }
    out += identity;
    return Observe(observer, path, "relu", relu(out));
  }

  BatchNorm2d& LastBatchNorm() override { return bn2; }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::Sequential downsample{nullptr};

 private:
  int64_t in_planes_, planes_, stride_;
};

// 1x1 reduce, 3x3 (strided: v1.5), 1x1 expand by 4, for ResNet-50/101/152.
class BottleneckImpl : public torch::nn::Cloneable<BottleneckImpl>, public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 4;

  BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride)
      : in_planes_(in_planes), planes_(planes), stride_(stride) {
    reset();
  }

  void reset() override {
    const int64_t out_planes = planes_ * kExpansion;
    conv1 = register_module("conv1", Conv(in_planes_, planes_, 1, 1));
    bn1 = register_module("bn1", BatchNorm(planes_));
    conv2 = register_module("conv2", Conv(planes_, planes_, 3, stride_));
    bn2 = register_module("bn2", BatchNorm(planes_));
    conv3 = register_module("conv3", Conv(planes_, out_planes, 1, 1));
    bn3 = register_module("bn3", BatchNorm(out_planes));
    relu = register_module("relu", InplaceRelu());
    downsample = MakeDownsample(in_planes_, out_planes, stride_);
    if (!downsample.is_empty()) register_module("downsample", downsample);
  }

  torch::Tensor forward(torch::Tensor x) { return Forward(std::move(x), nullptr, ""); }

  torch::Tensor Forward(torch::Tensor x, const ForwardObserver* observer,
                        const std::string& path) override {
    torch::Tensor identity = x;
    torch::Tensor out = Observe(observer, path, "conv1", conv1(x));
    out = Observe(observer, path, "bn1", bn1(out));
    out = Observe(observer, path, "relu", relu(out));
    out = Observe(observer, path, "conv2", conv2(BlurFor(out, stride_, planes_)));
    out = Observe(observer, path, "bn2", bn2(out));
    out = Observe(observer, path, "relu", relu(out));
    out = Observe(observer, path, "conv3", conv3(out));
    out = DropPath(Observe(observer, path, "bn3", bn3(out)), drop_rate_, is_training());
    if (!downsample.is_empty()) {
      identity = Observe(observer, path, "downsample",
                         RunSequential(*downsample, BlurFor(x, stride_, in_planes_), observer,
                                       JoinPath(path, "downsample")));
    }
    out += identity;
    return Observe(observer, path, "relu", relu(out));
  }

  BatchNorm2d& LastBatchNorm() override { return bn3; }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::Sequential downsample{nullptr};

 private:
  int64_t in_planes_, planes_, stride_;
};

// sequential->forward(x), reporting every element (and, for residual blocks, their insides)
// when observing.
torch::Tensor RunSequential(torch::nn::SequentialImpl& sequential, torch::Tensor x,
                            const ForwardObserver* observer, const std::string& path) {
  if (observer == nullptr) return sequential.forward(std::move(x));
  size_t index = 0;
  for (torch::nn::AnyModule& module : sequential) {
    const std::string child = JoinPath(path, std::to_string(index++));
    if (auto* block = dynamic_cast<ResidualBlock*>(module.ptr().get())) {
      x = block->Forward(std::move(x), observer, child);
    } else {
      x = module.forward(std::move(x));
    }
    (*observer)(child, x);
  }
  return x;
}

// torchvision's _make_layer: the first block changes stride and width, the others keep them.
template <typename Block>
torch::nn::Sequential MakeLayer(int64_t& in_planes, int64_t planes, int blocks, int64_t stride,
                                int64_t expansion) {
  torch::nn::Sequential layer;
  layer->push_back(std::make_shared<Block>(in_planes, planes, stride));
  in_planes = planes * expansion;
  for (int i = 1; i < blocks; ++i) layer->push_back(std::make_shared<Block>(in_planes, planes, 1));
  return layer;
}

}  // namespace

absl::StatusOr<ResNetOptions> ResNetOptionsFromName(const std::string& name, int64_t num_classes) {
  std::string accepted;
  for (const DepthConfig& config : kDepths) {
    ResNetOptions options;
    options.depth = config.depth;
    options.num_classes = num_classes;
    const std::string candidate = ResNetName(options);
    if (name == candidate) {
      if (num_classes < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("number of classes must be at least 1, not ", num_classes));
      }
      return options;
    }
    absl::StrAppend(&accepted, accepted.empty() ? "" : ", ", candidate);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown model \"", name, "\"; accepted: ", accepted));
}

std::string ResNetName(const ResNetOptions& options) { return absl::StrCat("resnet", options.depth); }

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  CHECK(FindDepth(options_.depth) != nullptr) << "unsupported ResNet depth " << options_.depth;
  CHECK_GE(options_.num_classes, 1);
  CHECK(options_.stochastic_depth >= 0 && options_.stochastic_depth < 1) << options_.stochastic_depth;
  reset();
}

void ResNetImpl::reset() {
  const DepthConfig& config = *FindDepth(options_.depth);
  const int64_t expansion = config.bottleneck ? BottleneckImpl::kExpansion : 1;
  conv1 = register_module("conv1", Conv(3, 64, 7, 2));
  bn1 = register_module("bn1", BatchNorm(64));
  relu = register_module("relu", InplaceRelu());
  maxpool = register_module(
      "maxpool", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t in_planes = 64;
  torch::nn::Sequential* layers[] = {&layer1, &layer2, &layer3, &layer4};
  for (int i = 0; i < 4; ++i) {
    const int64_t planes = int64_t{64} << i;
    const int64_t stride = i == 0 ? 1 : 2;
    *layers[i] = register_module(
        absl::StrCat("layer", i + 1),
        config.bottleneck
            ? MakeLayer<BottleneckImpl>(in_planes, planes, config.blocks[i], stride, expansion)
            : MakeLayer<BasicBlockImpl>(in_planes, planes, config.blocks[i], stride, expansion));
  }
  avgpool = register_module(
      "avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
  fc = register_module("fc", torch::nn::Linear(512 * expansion, options_.num_classes));

  // torchvision's initialisation; fc keeps Linear's own, which matches PyTorch's.
  torch::NoGradGuard no_grad;
  for (const std::shared_ptr<torch::nn::Module>& module : modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(module.get())) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
    }
  }
  // Stochastic depth: torch.linspace(0, rate, blocks), in the blocks' order.
  std::vector<ResidualBlock*> blocks;
  for (const std::shared_ptr<torch::nn::Module>& module : modules(/*include_self=*/false)) {
    if (auto* block = dynamic_cast<ResidualBlock*>(module.get())) blocks.push_back(block);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i]->set_blurpool(options_.blurpool);
    blocks[i]->set_drop_rate(blocks.size() == 1 ? 0.0
                                                 : options_.stochastic_depth * static_cast<double>(i) /
                                                       static_cast<double>(blocks.size() - 1));
  }
  // After the loop above: modules() lists a block before its BNs.
  if (options_.zero_init_residual) {
    for (const std::shared_ptr<torch::nn::Module>& module : modules(/*include_self=*/false)) {
      if (auto* block = dynamic_cast<ResidualBlock*>(module.get())) {
        block->LastBatchNorm()->weight.zero_();
      }
    }
  }
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) { return Forward(std::move(x), nullptr); }

void ResNetImpl::SyncBatchNorm(const GroupSum& sum) {
  for (const std::shared_ptr<torch::nn::Module>& module : modules()) {
    if (auto* bn = dynamic_cast<BatchNorm2dImpl*>(module.get())) bn->Synchronize(sum);
  }
}

std::shared_ptr<torch::nn::Module> BatchNorm2dImpl::clone(const std::optional<torch::Device>& device) const {
  auto copy = std::make_shared<BatchNorm2dImpl>(options);
  torch::NoGradGuard no_grad;
  const auto copy_into = [&](const torch::OrderedDict<std::string, torch::Tensor>& from,
                             torch::OrderedDict<std::string, torch::Tensor> to) {
    for (const auto& item : from) {
      to[item.key()].set_data(device ? item.value().to(*device, /*non_blocking=*/false, /*copy=*/true)
                                     : item.value().clone());
    }
  };
  copy_into(named_parameters(/*recurse=*/false), copy->named_parameters(/*recurse=*/false));
  copy_into(named_buffers(/*recurse=*/false), copy->named_buffers(/*recurse=*/false));
  copy->train(is_training());
  return copy;
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (!group_sum_ || !is_training()) return torch::nn::BatchNorm2dImpl::forward(input);
  TORCH_CHECK(input.dim() == 4, "BatchNorm2d expects N x C x H x W input, got ", input.sizes());
  const int64_t channels = input.size(1);
  const double count_here = static_cast<double>(input.numel() / std::max<int64_t>(channels, 1));
  // Sums of x and x^2 in float64: their difference, the variance, cancels badly in float32 when
  // the mean is large against the spread.
  const torch::Tensor x64 = input.to(torch::kFloat64);
  const torch::Tensor total = group_sum_(torch::cat(
      {x64.sum({0, 2, 3}), x64.square().sum({0, 2, 3}), torch::full({1}, count_here, x64.options())}));
  const torch::Tensor count = total.narrow(0, 2 * channels, 1);
  const torch::Tensor mean = total.narrow(0, 0, channels) / count;
  const torch::Tensor variance = (total.narrow(0, channels, channels) / count - mean.square()).clamp_min(0);
  const torch::nn::BatchNormOptions& o = options;
  {
    torch::NoGradGuard no_grad;
    const double momentum = o.momentum().value_or(0.1);
    running_mean.mul_(1 - momentum).add_((mean * momentum).to(running_mean.scalar_type()));
    running_var.mul_(1 - momentum).add_((variance * (count / (count - 1)) * momentum).to(running_var.scalar_type()));
    num_batches_tracked.add_(1);
  }
  const std::vector<int64_t> per_channel = {1, channels, 1, 1};
  // Normalised in float32, or float64 for a float64 model.
  const torch::ScalarType type = at::promote_types(input.scalar_type(), torch::kFloat32);
  const torch::Tensor x = input.to(type);
  torch::Tensor y = (x - mean.to(type).view(per_channel)) * (variance + o.eps()).rsqrt().to(type).view(per_channel);
  if (o.affine()) y = y * weight.view(per_channel) + bias.view(per_channel);
  return y.to(input.scalar_type());
}

torch::Tensor ResNetImpl::ForwardObserved(torch::Tensor x, const ForwardObserver& observer) {
  return Forward(std::move(x), &observer);
}

torch::Tensor ResNetImpl::Forward(torch::Tensor x, const ForwardObserver* observer) {
  x = Observe(observer, "", "conv1", conv1(x));
  x = Observe(observer, "", "bn1", bn1(x));
  x = Observe(observer, "", "relu", relu(x));
  x = Observe(observer, "", "maxpool", maxpool(x));
  x = Observe(observer, "", "layer1", RunSequential(*layer1, x, observer, "layer1"));
  x = Observe(observer, "", "layer2", RunSequential(*layer2, x, observer, "layer2"));
  x = Observe(observer, "", "layer3", RunSequential(*layer3, x, observer, "layer3"));
  x = Observe(observer, "", "layer4", RunSequential(*layer4, x, observer, "layer4"));
  x = Observe(observer, "", "avgpool", avgpool(x));
  x = torch::flatten(x, 1);
  return Observe(observer, "", "fc", fc(x));
}

}  // namespace forge
