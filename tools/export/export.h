// export: a checkpoint written by train as a safetensors file that torchvision's ResNet loads
// with load_state_dict(strict=True) (lib/engine/export.h says what the file holds), for use
// outside this project: PyTorch, TorchScript, ONNX, Hugging Face tooling.
#ifndef FORGE_TOOLS_EXPORT_EXPORT_H_
#define FORGE_TOOLS_EXPORT_EXPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "lib/engine/trained_model.h"

namespace forge {

struct ExportToolOptions {
  std::string checkpoint;             // written by train; required
  Weights weights = Weights::kModel;  // the model's weights, or their moving average (a run with ema)
  std::string synset_mapping;         // LOC_synset_mapping.txt: class names into the metadata; optional
  std::string out;                    // the safetensors file to write (atomically); required
};

struct ExportSummary {
  std::string architecture;  // e.g. "resnet50"
  int64_t classes = 0;
  int epoch = 0;
  bool blurpool = false;     // torchvision will not reproduce the model's outputs
  int64_t tensors = 0;
  int64_t bytes = 0;         // of the file written
};

// Exports. InvalidArgument naming the file for a checkpoint that is not train's (bare weights,
// another safetensors file), a synset mapping without a name for one of the classes, or missing
// flags; NotFound for missing files; FailedPrecondition for kEma of a run without EMA weights;
// errors of writing `out`. A model trained with BlurPool is exported with a warning (logged,
// and in the file's metadata).
absl::StatusOr<ExportSummary> RunExport(const ExportToolOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_EXPORT_EXPORT_H_
