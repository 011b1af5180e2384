// A trained model read back for evaluation or prediction: from a checkpoint written by `train`
// (the model's name, classes and input statistics come with it) or from bare weights (a LibTorch
// archive of the model's parameters and buffers, whose model name the caller supplies).
//
//   absl::StatusOr<TrainedModel> trained = LoadTrainedModel("runs/r50/checkpoints/best.ckpt", "", 1000);
//   trained->model->eval();
#ifndef FORGE_LIB_ENGINE_TRAINED_MODEL_H_
#define FORGE_LIB_ENGINE_TRAINED_MODEL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "lib/model/resnet.h"
#include "proto/checkpoint.pb.h"

namespace forge {

struct TrainedModel {
  ResNet model{nullptr};   // on the CPU
  TrainState state;        // the checkpoint's state; empty for bare weights
};

// Which of a checkpoint's weights to load: the model's own or their moving average (config.ema).
enum class Weights { kModel, kEma };

// Loads the model at `path`, built as the checkpoint's config says (its BlurPool included).
// `model_name` (e.g. "resnet50") overrides the checkpoint's and is required for bare weights;
// `num_classes` is used only when the file does not say (bare weights). Errors: NotFound for a
// missing file; InvalidArgument when `path` is neither a checkpoint nor weights that fit the model,
// naming the file; DataLoss for a damaged checkpoint; FailedPrecondition when kEma is asked of a
// file without EMA weights.
absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& path, const std::string& model_name,
                                              int64_t num_classes, Weights weights = Weights::kModel);

// Parses "model" or "ema" (the --weights flag of eval); InvalidArgument otherwise.
absl::StatusOr<Weights> ParseWeights(const std::string& name);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_TRAINED_MODEL_H_
