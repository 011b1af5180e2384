// The one evaluation routine: a model's predictions over a dataset in order, counted as top-1,
// top-5, mean cross-entropy, per-class support and hits, the confusion matrix and, on request,
// each image's top-5. `train`'s validation and `eval` both run it, so their numbers agree.
//
//   absl::StatusOr<Evaluation> evaluation = Evaluate(
//       [&](const torch::Tensor& x) { return model->forward(x); }, *dataset,
//       EvalLoaderOptions(config, 64), normalizer, EvaluateOptions());
//   LOG(INFO) << evaluation->result.top1() << "% top-1";
#ifndef FORGE_LIB_ENGINE_EVALUATE_H_
#define FORGE_LIB_ENGINE_EVALUATE_H_

#include <functional>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/data/normalize.h"
#include "lib/engine/process_group.h"
#include "lib/train/metrics.h"
#include "proto/eval.pb.h"

namespace forge {

struct EvaluateOptions {
  // Average the class probabilities of each image and its horizontal mirror (test-time
  // augmentation); the loss is then the cross-entropy of the averaged probabilities.
  bool flip_tta = false;
  bool predictions = false;      // keep each image's top-5 in EvalResult.predictions
  bool channels_last = false;    // the normalised batches' memory format (the model's)
  std::string progress_label = "eval";
  // Asked before every batch; when it returns true, Evaluate stops with Cancelled. Null: never.
  std::function<bool()> stop;
  // The processes evaluating together, each over its share of the batches (RankShare in input.h);
  // their counts are summed, so every process returns the whole dataset's numbers, each image
  // counted once. A stop in any process cancels all of them (after the others' passes end).
  // Null: this process alone. Not owned. `predictions` needs a process alone.
  ProcessGroup* group = nullptr;
};

struct Evaluation {
  // images, top1, top5, loss, per_class, confusion, predictions and images_skipped; the caller
  // adds classes and options.
  EvalResult result;
  ClassificationCounts counts;   // the sums behind result's percentages and mean loss
  double seconds = 0;            // wall time of the whole pass (this process's)
  double wait_seconds = 0;       // of which waiting for the loader
};

// Runs `forward` (normalised N x 3 x H x W images -> N x C logits; the caller sets eval mode and
// autocast) over every batch of `data` that `loader_options` makes, under NoGradGuard. Undecodable
// images are skipped and counted. Errors: the loader's (naming the file), Cancelled from `stop`,
// InvalidArgument for predictions in a group, the group's.
absl::StatusOr<Evaluation> Evaluate(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                    const ImageDataset& data, const LoaderOptions& loader_options,
                                    const Normalizer& normalizer, const EvaluateOptions& options);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_EVALUATE_H_
