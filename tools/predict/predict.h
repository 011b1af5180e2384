// predict: the classes a trained model sees in image files, one output line per image (see
// lines.h), in batches through lib/engine's Predictor, so each image's top-5 is its top-5 in
// `eval --predictions`.
#ifndef FORGE_TOOLS_PREDICT_PREDICT_H_
#define FORGE_TOOLS_PREDICT_PREDICT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/engine/predictor.h"
#include "tools/predict/lines.h"

namespace forge {

// predict's exit code when it ran but some images could not be answered (a missing or unreadable
// file, bytes that are not a JPEG or PNG, an image refused for its size): every image still has
// its line, the failed ones an error.
inline constexpr int kExitSomeImagesFailed = 3;

struct PredictToolOptions {
  PredictorOptions predictor;  // the model, its weights and transform, the device, decoding threads
  // Image files and folders, in this order. A folder stands for every file below it (at any depth,
  // symlinks followed, hidden entries skipped) with an image extension (.jpg .jpeg .png ...,
  // any case), in sorted path order; a file is taken whatever its name. A path that does not
  // exist is an image that fails.
  std::vector<std::string> images;
  // A file listing more paths, one per line, taken as `images` entries after them ("-": standard
  // input). Blank lines are skipped; a line's trailing CR is dropped. Empty: none.
  std::string images_from;
  int top_k = 5;        // classes per image, at most the model's
  int batch_size = 32;  // images per forward pass (and per Predict call)
  OutputFormat format = OutputFormat::kText;
};

struct PredictSummary {
  int64_t images = 0;  // lines written
  int64_t failed = 0;  // of which errors
};

// The image paths `options` names, in output order (folders expanded as described above).
// Errors: InvalidArgument when nothing is named, reading errors of images_from naming it, a
// folder that cannot be listed (naming it).
absl::StatusOr<std::vector<std::string>> ListImages(const PredictToolOptions& options);

// Writes one line per image to `out` (flushed after each batch) while the next batch is read;
// progress on stderr.
// Errors (then nothing more is written): InvalidArgument for top_k or batch_size < 1, ListImages'
// and Predictor::Create's. An image that fails is not an error of the run: it is counted in
// PredictSummary::failed and its line says why.
absl::StatusOr<PredictSummary> RunPredict(const PredictToolOptions& options, std::ostream& out);

}  // namespace forge

#endif  // FORGE_TOOLS_PREDICT_PREDICT_H_
