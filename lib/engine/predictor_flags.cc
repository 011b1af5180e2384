#include "lib/engine/predictor_flags.h"

#include <gflags/gflags.h>

#include "lib/engine/trained_model.h"

DEFINE_string(checkpoint, "",
              "Checkpoint written by train, safetensors (export's, or PyTorch's with --model and --stats), or bare "
              "weights (then --model and --stats). Required.");
DEFINE_string(weights, "model",
              "model: the checkpoint's weights; ema: their moving average (a run with config ema).");
DEFINE_string(model, "", "Model name for bare weights and PyTorch's safetensors, e.g. resnet50.");
DEFINE_string(stats, "", "Channel statistics; default: those stored with the weights.");
DEFINE_string(synset_mapping, "", "LOC_synset_mapping.txt, for the classes' names (default: their WNIDs).");
DEFINE_int32(resize_shorter, 0, "Resize the shorter side to this before the crop; 0: as the run evaluated.");
DEFINE_int32(center_crop, 0, "Square center crop the model sees; 0: as the run evaluated (224 if not stored).");
DEFINE_string(device, "", "cpu, cuda or cuda:N; default: CUDA when present.");
DEFINE_int32(threads, 0, "Decoding threads; 0: one per core.");

namespace forge {

absl::StatusOr<PredictorOptions> PredictorOptionsFromFlags() {
  if (FLAGS_checkpoint.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  absl::StatusOr<Weights> weights = ParseWeights(FLAGS_weights);
  if (!weights.ok()) return weights.status();
  PredictorOptions options;
  options.weights_path = FLAGS_checkpoint;
  options.weights = *weights;
  options.model = FLAGS_model;
  options.stats = FLAGS_stats;
  options.synset_mapping = FLAGS_synset_mapping;
  options.resize_shorter = FLAGS_resize_shorter;
  options.center_crop = FLAGS_center_crop;
  options.device = FLAGS_device;
  options.threads = FLAGS_threads;
  return options;
}

}  // namespace forge
