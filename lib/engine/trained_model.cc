#include "lib/engine/trained_model.h"

#include <filesystem>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "lib/train/checkpoint.h"

namespace forge {

absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& path, const std::string& model_name,
                                              int64_t num_classes) {
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
  trained.model = ResNet(*options);
  if (state.ok()) {
    TrainState loaded;
    if (absl::Status status = LoadCheckpoint(path, &loaded, *trained.model, /*optimizer=*/nullptr); !status.ok()) {
      return status;
    }
    return trained;
  }
  try {
    torch::load(trained.model, path);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot load weights for ", name, ": ", e.what_without_backtrace()));
  }
  return trained;
}

}  // namespace forge
