// Builds the ModelSummary from one observed forward pass (LibTorch has no forward hooks).
#include "lib/model/summary.h"

#include <glog/logging.h>

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace forge {
namespace {

// "torch::nn::Conv2dImpl" -> "Conv2d"; "forge::(anonymous namespace)::BottleneckImpl" -> "Bottleneck".
std::string TypeName(const torch::nn::Module& module) {
  absl::string_view name = module.name();
  const size_t colon = name.rfind("::");
  if (colon != absl::string_view::npos) name.remove_prefix(colon + 2);
  return std::string(absl::StripSuffix(name, "Impl"));
}

// Puts the model back in the mode it had, also when the forward pass throws.
class RestoreTrainingMode {
 public:
  explicit RestoreTrainingMode(ResNetImpl& model) : model_(model), training_(model.is_training()) {}
  ~RestoreTrainingMode() { model_.train(training_); }

 private:
  ResNetImpl& model_;
  const bool training_;
};

}  // namespace

ModelSummary SummarizeResNet(ResNet& model, const std::vector<int64_t>& input_shape) {
  CHECK_EQ(input_shape.size(), 4u) << "input shape must be N x 3 x H x W";
  CHECK_EQ(input_shape[1], 3) << "input shape must be N x 3 x H x W";
  std::map<std::string, std::vector<int64_t>> output_shapes;
  {
    RestoreTrainingMode restore(*model);
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor reference = model->parameters().front();
    torch::Tensor input = torch::zeros(input_shape, reference.options().requires_grad(false));
    model->ForwardObserved(input, [&](const std::string& path, const torch::Tensor& output) {
      output_shapes[path] = output.sizes().vec();
    });
  }

  ModelSummary summary;
  summary.set_model(ResNetName(model->options()));
  for (int64_t d : input_shape) summary.add_input_shape(d);
  for (const auto& item : model->named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    LayerSummary* layer = summary.add_layers();
    layer->set_name(item.key());
    layer->set_type(TypeName(*item.value()));
    auto shape = output_shapes.find(item.key());
    if (shape != output_shapes.end()) {
      for (int64_t d : shape->second) layer->add_output_shape(d);
    }
    int64_t own = 0;
    for (const torch::Tensor& p : item.value()->parameters(/*recurse=*/false)) own += p.numel();
    layer->set_parameters(own);
    layer->set_depth(static_cast<int32_t>(std::count(item.key().begin(), item.key().end(), '.')));
  }
  int64_t total = 0;
  int64_t trainable = 0;
  for (const torch::Tensor& p : model->parameters()) {
    total += p.numel();
    if (p.requires_grad()) trainable += p.numel();
  }
  summary.set_total_parameters(total);
  summary.set_trainable_parameters(trainable);
  return summary;
}

}  // namespace forge
