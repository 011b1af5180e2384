// export: a checkpoint as a torchvision-compatible safetensors file.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/strings/str_format.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "tools/export/export.h"

DEFINE_string(checkpoint, "", "Checkpoint written by train, e.g. runs/r50/checkpoints/best.ckpt. Required.");
DEFINE_string(weights, "model", "model: the checkpoint's weights; ema: their moving average (a run with config ema).");
DEFINE_string(synset_mapping, "", "LOC_synset_mapping.txt: the classes' names, stored in the metadata.");
DEFINE_string(out, "", "The safetensors file to write, e.g. model.safetensors. Required.");

int main(int argc, char** argv) {
  forge::InitTool(
      "Exports a checkpoint as a safetensors file that torchvision's resnet loads with strict=True.\n"
      "  export --checkpoint=runs/r50/checkpoints/best.ckpt --out=model.safetensors",
      &argc, &argv);
  if (FLAGS_checkpoint.empty() || FLAGS_out.empty()) {
    return forge::ExitWithUsageError("--checkpoint and --out are required");
  }
  forge::ExportToolOptions options;
  options.checkpoint = FLAGS_checkpoint;
  absl::StatusOr<forge::Weights> weights = forge::ParseWeights(FLAGS_weights);
  if (!weights.ok()) return forge::ExitWithUsageError(std::string(weights.status().message()));
  options.weights = *weights;
  options.synset_mapping = FLAGS_synset_mapping;
  options.out = FLAGS_out;
  absl::StatusOr<forge::ExportSummary> summary = forge::RunExport(options);
  if (!summary.ok()) return forge::ExitWithError(summary.status());
  return forge::ExitWithSummary(absl::StrFormat(
      "export: model=%s classes=%d weights=%s epoch=%d blurpool=%s tensors=%d bytes=%d out=%s", summary->architecture,
      summary->classes, FLAGS_weights, summary->epoch, summary->blurpool ? "true" : "false", summary->tensors,
      summary->bytes, FLAGS_out));
}
