// eval: accuracy of a trained model on a dataset: top-1, top-5, loss, per-class support and
// hits, the full confusion matrix and, on request, each image's top-5.
#ifndef FORGE_TOOLS_EVAL_EVAL_H_
#define FORGE_TOOLS_EVAL_EVAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "lib/engine/process_group.h"
#include "lib/engine/trained_model.h"
#include "proto/eval.pb.h"

namespace forge {

struct EvalToolOptions {
  // A checkpoint written by train or a safetensors file written by export (model, classes and
  // normalisation come from it), or weights without them: a safetensors file saved by PyTorch
  // from a torchvision ResNet, or a LibTorch archive of the model's parameters and buffers,
  // which then need `model` and `stats` (see LoadTrainedModel).
  std::string checkpoint;
  std::string data;            // manifest or ImageFolder directory
  std::string model;           // bare weights only, e.g. "resnet50"
  std::string stats;           // overrides the checkpoint's statistics when set
  int resize_shorter = 256;    // shorter side before the crop
  int center_crop = 224;
  bool flip_tta = false;       // average the probabilities of the image and its mirror
  Weights weights = Weights::kModel;  // the checkpoint's weights, or their moving average (EMA)
  int batch_size = 64;
  std::string device;          // empty: CUDA when present
  int threads = 0;             // loader threads; 0: one per core
  bool predictions = false;    // record each image's top-5 (a process evaluating alone)
  // The processes evaluating together, each over its share of the images (every image counted
  // once; each returns the whole result); null: this process alone. Not owned.
  ProcessGroup* group = nullptr;
  int local_processes = 1;     // of the group on this machine: threads 0 shares the cores among them
};

// Evaluates. InvalidArgument/NotFound for bad inputs, naming the file (e.g. a dataset whose
// classes differ from the checkpoint's).
absl::StatusOr<EvalResult> RunEval(const EvalToolOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_EVAL_EVAL_H_
