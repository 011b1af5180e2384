#include "lib/engine/build.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/model/memory_format.h"
#include "lib/train/optimizer.h"

namespace forge {

std::vector<std::string> ClassWnids(const ImageDataset& data) {
  std::vector<std::string> wnids;
  wnids.reserve(data.classes().size());
  for (const ClassInfo& info : data.classes()) wnids.push_back(info.wnid());
  return wnids;
}

absl::Status CheckClasses(const std::vector<std::string>& expected, absl::string_view expected_from,
                          const ImageDataset& data) {
  const std::vector<std::string> classes = ClassWnids(data);
  if (classes.size() != expected.size()) {
    return absl::InvalidArgumentError(absl::StrCat(data.source(), " has ", classes.size(), " classes, ",
                                                   expected_from, " has ", expected.size(),
                                                   "; shard the data with --classes_from"));
  }
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] != expected[i]) {
      return absl::InvalidArgumentError(absl::StrCat("class ", i, " is ", expected[i], " in ", expected_from, " but ",
                                                     classes[i], " in ", data.source()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Normalizer> BuildNormalizer(const ChannelStats& stats, torch::Device device, absl::string_view source) {
  absl::StatusOr<Normalizer> normalizer = Normalizer::Create(stats, device);
  if (!normalizer.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", normalizer.status().message()));
  return normalizer;
}

absl::StatusOr<ResNet> BuildModel(const TrainConfig& config, int64_t num_classes) {
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(config.model().name(), num_classes);
  if (!options.ok()) return options.status();
  options->zero_init_residual = config.model().zero_init_residual();
  const double stochastic_depth = config.model().stochastic_depth();
  if (!(stochastic_depth >= 0 && stochastic_depth < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("model.stochastic_depth ", stochastic_depth, " is not in [0, 1)"));
  }
  options->stochastic_depth = stochastic_depth;
  options->blurpool = config.model().blurpool();
  torch::manual_seed(config.seed());
  if (config.deterministic()) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  return ResNet(*options);
}

void PlaceModel(const TrainConfig& config, torch::Device device, ResNet& model) {
  // cuDNN tries the convolution algorithms once per shape and keeps the fastest, unless the run
  // must be reproducible (the choice can differ between runs).
  at::globalContext().setBenchmarkCuDNN(device.is_cuda() && !config.deterministic());
  model->to(device);
  if (config.channels_last()) ConvertToChannelsLast(*model);
}

absl::StatusOr<int64_t> MicroBatchSize(const TrainConfig& config, int64_t batch_size, int processes) {
  const int64_t accumulation = config.grad_accumulation();
  const int64_t shares = accumulation * processes;
  if (batch_size <= 0 || accumulation <= 0 || processes <= 0 || batch_size % shares != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch size ", batch_size, " is not a multiple of grad_accumulation ", accumulation,
        processes > 1 ? absl::StrCat(" times the ", processes, " processes") : ""));
  }
  return batch_size / shares;
}

absl::StatusOr<int64_t> StepsPerEpoch(const ImageDataset& data, absl::string_view source, int64_t batch_size) {
  const int64_t steps = static_cast<int64_t>(data.size()) / batch_size;
  if (steps == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " has ", data.size(), " images, fewer than one batch of ", batch_size));
  }
  return steps;
}

absl::StatusOr<Optimization> BuildOptimization(const TrainConfig& config, ResNet& model, double initial_lr,
                                               torch::Device device, ProcessGroup* group) {
  if (absl::Status status = CheckPrecision(config, device); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(config.optimizer(), *model, initial_lr);
  if (!optimizer.ok()) return optimizer.status();
  Optimization optimization;
  optimization.optimizer = std::move(*optimizer);
  optimization.scaler = std::make_unique<GradScaler>(config.precision() == "fp16");
  absl::StatusOr<MixingOptions> mixing = MixingOptionsOf(config);
  if (!mixing.ok()) return mixing.status();
  optimization.step = std::make_unique<TrainStep>(config, model, *optimization.optimizer, *optimization.scaler,
                                                  device, group, *mixing);
  return optimization;
}

}  // namespace forge
