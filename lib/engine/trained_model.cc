#include "lib/engine/trained_model.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/engine/export.h"
#include "lib/engine/state_dict.h"
#include "lib/io/file.h"
#include "lib/io/safetensors.h"
#include "lib/train/checkpoint.h"
#include "lib/train/torch_archive.h"

namespace forge {
namespace {

const std::set<std::string> kHead = {"fc.weight", "fc.bias"};

// By extension, else by the first bytes (a header length that fits the file, then '{').
bool IsSafetensors(const std::string& path) {
  if (absl::EndsWith(path, ".safetensors")) return true;
  std::ifstream in(path, std::ios::binary);
  std::string prefix(16, '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  prefix.resize(static_cast<size_t>(in.gcount()));
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  return !error && LooksLikeSafetensors(prefix, size);
}

absl::StatusOr<TrainedModel> LoadSafetensors(const std::string& path, const std::string& model_name,
                                             int64_t num_classes, Weights weights) {
  absl::StatusOr<Safetensors> file = ReadSafetensors(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::optional<ExportedModel>> exported = ReadExportMetadata(*file, path);
  if (!exported.ok()) return exported.status();
  TrainedModel trained;
  std::string name = model_name;
  bool blurpool = false;
  if (*exported) {
    if (name.empty()) name = (*exported)->architecture;
    num_classes = (*exported)->num_classes;
    blurpool = (*exported)->blurpool;
    if (weights == Weights::kEma && !(*exported)->ema) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " holds a run's model weights, not their moving average (export --weights=ema)"));
    }
    trained.state = std::move((*exported)->state);
    trained.class_names = std::move((*exported)->class_names);
  } else {
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " is a safetensors file without our metadata (say, a torchvision state dict saved by PyTorch); "
                "pass --model"));
    }
    if (weights == Weights::kEma) {
      return absl::InvalidArgumentError(absl::StrCat(path, " holds bare weights, not a checkpoint with EMA weights"));
    }
  }
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(name, num_classes);
  if (!options.ok()) return options.status();
  options->blurpool = blurpool;
  absl::StatusOr<NamedTensors> tensors = ToTorch(file->tensors, path);
  if (!tensors.ok()) return tensors.status();
  trained.model = ResNet(*options);
  if (absl::Status status = LoadStateDict(*tensors, *trained.model, path); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(status.message(), " (the model: ", name, " with ", num_classes,
                                                   " classes)"));
  }
  return trained;
}

}  // namespace

absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& path, const std::string& model_name,
                                              int64_t num_classes, Weights weights) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no such checkpoint: ", path));
  if (absl::EndsWith(path, ".safetensors")) return LoadSafetensors(path, model_name, num_classes, weights);
  TrainedModel trained;
  absl::StatusOr<TrainState> state = ReadTrainState(path);
  if (!state.ok() && IsSafetensors(path)) return LoadSafetensors(path, model_name, num_classes, weights);
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
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status status = CheckTorchArchive(*bytes); !status.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": cannot load weights for ", name, ": ", status.message()));
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes->data(), bytes->size());
    trained.model->load(archive);
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

absl::Status InitializeWeightsFrom(const std::string& path, bool reset_head, ResNet& model) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no such file: ", path));
  const ResNetOptions& options = model->options();
  const std::string architecture = ResNetName(options);
  NamedTensors tensors;
  if (IsSafetensors(path)) {
    absl::StatusOr<Safetensors> file = ReadSafetensors(path);
    if (!file.ok()) return file.status();
    absl::StatusOr<std::optional<ExportedModel>> exported = ReadExportMetadata(*file, path);
    if (!exported.ok()) return exported.status();
    if (*exported) {
      if ((*exported)->architecture != architecture) {
        return absl::InvalidArgumentError(absl::StrCat(path, " holds ", (*exported)->architecture,
                                                       " weights; this run trains ", architecture));
      }
      if ((*exported)->blurpool != options.blurpool) {
        LOG(WARNING) << path << " was trained " << ((*exported)->blurpool ? "with" : "without")
                     << " BlurPool; this run trains " << (options.blurpool ? "with" : "without") << " it";
      }
    }
    absl::StatusOr<NamedTensors> read = ToTorch(file->tensors, path);
    if (!read.ok()) return read.status();
    tensors = std::move(*read);
  } else {
    absl::StatusOr<TrainState> state = ReadTrainState(path);
    if (!state.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is neither a safetensors file nor a checkpoint written by train (",
                                                     state.status().message(), ")"));
    }
    const std::string theirs = state->config().model().name();
    if (theirs != architecture) {
      return absl::InvalidArgumentError(absl::StrCat(path, " holds ", theirs, " weights; this run trains ", architecture));
    }
    absl::StatusOr<TrainedModel> trained = LoadTrainedModel(path, "", state->classes_size());
    if (!trained.ok()) return trained.status();
    tensors = StateDict(*trained->model);
  }
  const auto head = tensors.find("fc.weight");
  if (!reset_head && head != tensors.end() && head->second.dim() == 2 && head->second.size(0) != options.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " has a classifier head for ", head->second.size(0), " classes; this run has ", options.num_classes,
        ": pass --init_reset_head to start the head afresh (fc.weight and fc.bias keep their initialisation)"));
  }
  LoadStateDictOptions load;
  if (reset_head) load.keep = kHead;
  if (absl::Status status = LoadStateDict(tensors, *model, path, load); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(status.message(), " (this run: ", architecture, " with ",
                                                   options.num_classes, " classes)"));
  }
  return absl::OkStatus();
}

}  // namespace forge
