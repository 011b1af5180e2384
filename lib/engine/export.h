// A trained ResNet as a safetensors file that torchvision loads as it is: the state dict under
// torchvision's names (lib/model's are torchvision's; BlurPool adds no tensor), float32 weights,
// batch norm's num_batches_tracked as a 0-dim int64, and string metadata saying how to use it
// (architecture, classes, input statistics, evaluation transform, where it came from). What
// `export` writes and LoadTrainedModel (trained_model.h) reads back.
//
// Metadata keys (every value a string, lists JSON-encoded):
//   format            "pt" (what PyTorch's safetensors writer puts there)
//   forge_format      "forge.export.v1": the file is ours and has the keys below
//   architecture      "resnet50"
//   num_classes       "1000"
//   classes           ["n01440764", ...]        WNIDs in class-index order
//   class_names       ["tench, Tinca tinca", ...] when export was given a synset mapping
//   mean, std         [0.485, 0.456, 0.406]     RGB, of pixels scaled to [0, 1]
//   eval_resize       "256"  shorter side, Pillow-exact bilinear (torchvision's Resize)
//   eval_crop         "224"  then a center crop of this side
//   epoch, step       the checkpoint's completed epochs and optimizer steps
//   val_top1          validation top-1 (percent) of these weights at that epoch, when validated
//   weights           "model" or "ema" (the run's moving average of the weights)
//   blurpool          "true" or "false"; "true": torchvision's ResNet, which has no BlurPool,
//                     loads the weights but does not reproduce the model's outputs
//   note              a warning in words when blurpool is "true"
//   config            the run's resolved TrainConfig in protobuf text format
//
//   absl::StatusOr<Safetensors> file = ExportModel(*model, state, /*ema=*/false, {});
//   WriteSafetensors("model.safetensors", *file);
#ifndef FORGE_LIB_ENGINE_EXPORT_H_
#define FORGE_LIB_ENGINE_EXPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/io/safetensors.h"
#include "lib/model/resnet.h"
#include "proto/checkpoint.pb.h"

namespace forge {

// The value of metadata "forge_format" in the files this code writes and reads.
inline constexpr char kExportFormat[] = "forge.export.v1";

// `model` (its weights, or the EMA's when `ema`) as trained by the run `state` describes (its
// config, classes, statistics, epoch and log), with the metadata above. `class_names`: empty, or
// one name per class of state.classes(). InvalidArgument when class_names has another length,
// the state has classes but not the model's number, or a tensor cannot be exported.
absl::StatusOr<Safetensors> ExportModel(const ResNetImpl& model, const TrainState& state, bool ema,
                                        const std::vector<std::string>& class_names);

// What our metadata says about an exported model.
struct ExportedModel {
  std::string architecture;  // e.g. "resnet50"
  int64_t num_classes = 0;
  bool blurpool = false;
  bool ema = false;          // the weights are the run's moving average
  // config (as exported), classes, stats (mean and std only), epoch and step.
  TrainState state;
  std::vector<std::string> class_names;  // empty unless exported with names
};

// Our metadata in `file`: nullopt for a file without "forge_format" (written by someone else,
// e.g. PyTorch's safetensors.torch.save_file), else what it says. InvalidArgument naming `source`
// for a forge_format other than kExportFormat, and for missing or malformed keys.
absl::StatusOr<std::optional<ExportedModel>> ReadExportMetadata(const Safetensors& file, const std::string& source);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_EXPORT_H_
