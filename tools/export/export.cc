#include "tools/export/export.h"

#include <filesystem>
#include <map>
#include <vector>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "lib/data/synset_mapping.h"
#include "lib/engine/export.h"
#include "lib/io/safetensors.h"
#include "lib/train/checkpoint.h"
#include "lib/util/exception_status.h"

namespace forge {
namespace {

absl::StatusOr<ExportSummary> Export(const ExportToolOptions& options) {
  absl::StatusOr<TrainState> state = ReadTrainState(options.checkpoint);
  if (absl::IsNotFound(state.status())) return state.status();
  if (!state.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(options.checkpoint, " is not a checkpoint written by train (",
                                                   state.status().message(), ")"));
  }
  absl::StatusOr<TrainedModel> trained = LoadTrainedModel(options.checkpoint, "", 0, options.weights);
  if (!trained.ok()) return trained.status();
  std::vector<std::string> names;
  if (!options.synset_mapping.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> mapping = ReadSynsetMapping(options.synset_mapping);
    if (!mapping.ok()) return mapping.status();
    for (const std::string& wnid : trained->state.classes()) {
      const auto found = mapping->find(wnid);
      if (found == mapping->end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(options.synset_mapping, " has no name for ", wnid, ", a class of ", options.checkpoint));
      }
      names.push_back(found->second);
    }
  }
  absl::StatusOr<Safetensors> file =
      ExportModel(*trained->model, trained->state, options.weights == Weights::kEma, names);
  if (!file.ok()) return absl::InvalidArgumentError(absl::StrCat(options.checkpoint, ": ", file.status().message()));
  const ResNetOptions& model = trained->model->options();
  if (model.blurpool) {
    LOG(WARNING) << options.checkpoint << " was trained with BlurPool: torchvision's " << ResNetName(model)
                 << " has no BlurPool, so it will load " << options.out
                 << " but NOT reproduce this model's outputs (our eval and predict do; the file's metadata says "
                    "blurpool=true)";
  }
  if (absl::Status status = WriteSafetensors(options.out, *file); !status.ok()) return status;
  ExportSummary summary;
  summary.architecture = ResNetName(model);
  summary.classes = model.num_classes;
  summary.epoch = trained->state.epoch();
  summary.blurpool = model.blurpool;
  summary.tensors = static_cast<int64_t>(file->tensors.size());
  std::error_code error;
  summary.bytes = static_cast<int64_t>(std::filesystem::file_size(options.out, error));
  return summary;
}

}  // namespace

absl::StatusOr<ExportSummary> RunExport(const ExportToolOptions& options) {
  if (options.checkpoint.empty() || options.out.empty()) {
    return absl::InvalidArgumentError("--checkpoint and --out are required");
  }
  if (options.out == "-") return absl::InvalidArgumentError("--out=-: safetensors is binary; name a file");
  try {
    return Export(options);
  } catch (...) {
    return CurrentExceptionStatus(absl::StrCat("exporting ", options.checkpoint));
  }
}

}  // namespace forge
