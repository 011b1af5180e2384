// predict: the top classes a trained model sees in image files, one line per image on stdout.

#include <iostream>
#include <string>
#include <vector>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/strings/str_split.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "tools/predict/predict.h"
#include "lib/engine/predictor_flags.h"

DEFINE_string(images, "",
              "Comma-separated image files and folders (a folder: every image file below it, in sorted order).");
DEFINE_string(images_from, "", "A file listing image files or folders, one per line; - for standard input.");
DEFINE_int32(top_k, 5, "Classes per image, most probable first.");
DEFINE_int32(batch_size, 32, "Images per forward pass.");
DEFINE_string(format, "text", "text: path<TAB>wnid name probability<TAB>...; jsonl: one JSON object per line.");

int main(int argc, char** argv) {
  forge::InitTool(
      "Predicts the classes of images with a trained model, one line per image on stdout.\n"
      "  predict --checkpoint=runs/r50/checkpoints/best.ckpt --images=photo.jpg,more_photos/\n"
      "  find shots -name '*.png' | predict --checkpoint=best.ckpt --images_from=- --format=jsonl\n"
      "Exit 0: every image answered; 3: some images failed (their lines say why); 2: bad usage or\n"
      "input; 1: failure at run time.",
      &argc, &argv);
  absl::StatusOr<forge::PredictorOptions> predictor = forge::PredictorOptionsFromFlags();
  if (!predictor.ok()) return forge::ExitWithUsageError(predictor.status().message());
  absl::StatusOr<forge::OutputFormat> format = forge::ParseOutputFormat(FLAGS_format);
  if (!format.ok()) return forge::ExitWithUsageError(format.status().message());
  forge::PredictToolOptions options;
  options.predictor = *predictor;
  options.images = absl::StrSplit(FLAGS_images, ',', absl::SkipEmpty());
  options.images_from = FLAGS_images_from;
  options.top_k = FLAGS_top_k;
  options.batch_size = FLAGS_batch_size;
  options.format = *format;

  absl::StatusOr<forge::PredictSummary> summary = forge::RunPredict(options, std::cout);
  if (!summary.ok()) return forge::ExitWithError(summary.status());
  if (summary->failed > 0) {
    LOG(WARNING) << "predict: " << summary->failed << " of " << summary->images << " images could not be answered";
    return forge::kExitSomeImagesFailed;
  }
  return forge::ExitWithSummary("");
}
