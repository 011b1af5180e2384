#include "lib/engine/trained_model.h"

#include <filesystem>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "lib/train/checkpoint.h"

namespace forge {

absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& path, const std::string& model_name,
                                              int64_t num_classes, Weights weights) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no such checkpoint: ", path));
  TrainedModel trained;
  absl::StatusOr<TrainState> state = ReadTrainState(path);
  std::string name = model_name;
  if (state.ok()) {
    trained.state = std::move(*state);
    if (name.empty()) name = trained.state.config().model().name();
    if (trained.state.classes_size() > 0) num_classes = trained.state.classes_size();
  } else if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a checkpoint written by train (",
                                                   state.status().message(), "); for bare weights pass --model"));
  }
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(name, num_classes);
  if (!options.ok()) return options.status();
  if (state.ok()) options->blurpool = trained.state.config().model().blurpool();
  trained.model = ResNet(*options);
  if (state.ok()) {
    TrainState loaded;
    absl::Status status;
    if (weights == Weights::kEma) {
      ResNet model_weights(*options);  // read and dropped
      status = LoadCheckpoint(path, &loaded, *model_weights, /*optimizer=*/nullptr, trained.model.get());
    } else {
      status = LoadCheckpoint(path, &loaded, *trained.model, /*optimizer=*/nullptr);
    }
    if (!status.ok()) return status;
    return trained;
  }
  if (weights == Weights::kEma) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds bare weights, not a checkpoint with EMA weights"));
  }
  try {
    torch::load(trained.model, path);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot load weights for ", name, ": ", e.what_without_backtrace()));
  }
  return trained;
}

absl::StatusOr<Weights> ParseWeights(const std::string& name) {
  if (name == "model") return Weights::kModel;
  if (name == "ema") return Weights::kEma;
  return absl::InvalidArgumentError(absl::StrCat("--weights=", name, " is neither 'model' nor 'ema'"));
}

}  // namespace forge
