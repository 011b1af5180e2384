// A model's state dict (its parameters and buffers under torch::nn::Module's dotted names, which
// for lib/model's ResNet are torchvision's) to and from safetensors tensors (lib/io/safetensors.h),
// and a strict load of named tensors into a model, as PyTorch's load_state_dict(strict=True).
//
//   absl::StatusOr<std::vector<SafetensorsTensor>> tensors = StateDictTensors(*model);
//   ...
//   absl::StatusOr<NamedTensors> read = ToTorch(file->tensors, "model.safetensors");
//   if (absl::Status s = LoadStateDict(*read, *model, "model.safetensors"); !s.ok()) ...
#ifndef FORGE_LIB_ENGINE_STATE_DICT_H_
#define FORGE_LIB_ENGINE_STATE_DICT_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/io/safetensors.h"

namespace forge {

using NamedTensors = std::map<std::string, torch::Tensor>;

// Every parameter and buffer of `module`, named as in its state dict ("layer1.0.conv1.weight",
// "bn1.num_batches_tracked"), as C-order CPU bytes: floating-point tensors as F32 (converted from
// bf16/fp16 if need be), integer ones as I64 (batch norm's num_batches_tracked: a 0-dim int64, as
// in PyTorch). InvalidArgument for a tensor of any other type (say bool), naming it.
absl::StatusOr<std::vector<SafetensorsTensor>> StateDictTensors(const torch::nn::Module& module);

// The state dict of `module`: its parameters and buffers by name (the module's own tensors, not
// copies).
NamedTensors StateDict(const torch::nn::Module& module);

// `tensors` as CPU LibTorch tensors (copies) of their dtype and shape. InvalidArgument naming
// `source` and the tensor for a dtype LibTorch lacks.
absl::StatusOr<NamedTensors> ToTorch(const std::vector<SafetensorsTensor>& tensors, const std::string& source);

struct LoadStateDictOptions {
  // Names the module keeps as they are, whatever `tensors` holds under them, if anything (say the
  // classifier head, "fc.weight" and "fc.bias", of a model fine-tuned on other classes).
  std::set<std::string> keep;
};

// Copies `tensors` into the parameters and buffers of `module` of the same names, converting the
// element type (floating point into floating point, integer into integer). Strict: every name of
// the module (but options.keep) must be in `tensors` with the same shape, and every name in
// `tensors` must be the module's. Otherwise InvalidArgument naming `source` and listing what
// differs (missing and unexpected names, shapes in the file and in the model); the module is
// then unchanged.
absl::Status LoadStateDict(const NamedTensors& tensors, torch::nn::Module& module, const std::string& source,
                           const LoadStateDictOptions& options = {});

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_STATE_DICT_H_
