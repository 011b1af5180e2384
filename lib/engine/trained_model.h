// A trained model read back for evaluation or prediction: from a checkpoint written by `train`
// (the model's name, classes and input statistics come with it), from a safetensors file written
// by `export` (the same, from its metadata; export.h) or by PyTorch from a torchvision ResNet's
// state dict, or from bare weights (a LibTorch archive of the model's parameters and buffers).
// For the last two the caller supplies the model name and class count.
//
//   absl::StatusOr<TrainedModel> trained = LoadTrainedModel("runs/r50/checkpoints/best.ckpt", "", 1000);
//   trained->model->eval();
#ifndef FORGE_LIB_ENGINE_TRAINED_MODEL_H_
#define FORGE_LIB_ENGINE_TRAINED_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/model/resnet.h"
#include "proto/checkpoint.pb.h"

namespace forge {

struct TrainedModel {
  ResNet model{nullptr};   // on the CPU
  // The checkpoint's state; from our safetensors files, what their metadata holds (config,
  // classes, stats' mean and std, epoch, step); empty for bare weights and foreign files.
  TrainState state;
  // The classes' human names in class order, where the file has them (a safetensors file
  // exported with a synset mapping); empty otherwise.
  std::vector<std::string> class_names;
};

// Which of a checkpoint's weights to load: the model's own or their moving average (config.ema).
enum class Weights { kModel, kEma };

// Loads the model at `path`, built as the file says (its BlurPool included). Safetensors files
// are recognised by the extension ".safetensors" or by their first bytes. `model_name` (e.g.
// "resnet50") overrides the file's and is required for bare weights and for safetensors files
// without our metadata; `num_classes` is used only when the file does not say. A safetensors
// file holds one set of weights: kModel loads it whichever it is, kEma requires an export of the
// EMA weights. Errors: NotFound for a missing file; InvalidArgument when `path` is none of
// these or its tensors do not fit the model (listing names and shapes), naming the file; DataLoss
// for a damaged checkpoint; FailedPrecondition when kEma is asked of a file without EMA weights.
absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& path, const std::string& model_name,
                                              int64_t num_classes, Weights weights = Weights::kModel);

// Parses "model" or "ema" (the --weights flag of eval); InvalidArgument otherwise.
absl::StatusOr<Weights> ParseWeights(const std::string& name);

// Sets the weights of `model` (parameters and batch-norm buffers, on any device) to those of
// the file at `path`, to start a run from them (train --init_from): a safetensors file (ours, or
// PyTorch's with a torchvision ResNet's state dict) or a checkpoint written by train (its model
// weights). Every tensor must fit the model by name and shape; with `reset_head` the classifier
// head (fc.weight, fc.bias) keeps the model's own initialisation instead, whatever the file's
// class count. Errors naming the file: NotFound for a missing one; InvalidArgument for another
// architecture, a head of another class count without `reset_head` (saying so), or tensors that
// do not fit; DataLoss for a damaged checkpoint. On failure `model` is unchanged.
absl::Status InitializeWeightsFrom(const std::string& path, bool reset_head, ResNet& model);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_TRAINED_MODEL_H_
