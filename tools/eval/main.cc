// eval: evaluates a checkpoint on a dataset and writes an EvalResult proto.

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include "lib/distributed/job.h"
#include "lib/io/proto_file.h"
#include "absl/strings/str_format.h"
#include "lib/util/exit_code.h"
#include "lib/util/memory.h"
#include "lib/util/tool_init.h"
#include "tools/eval/eval.h"

DEFINE_string(checkpoint, "",
              "Checkpoint written by train, a .safetensors file (export's; or PyTorch's of a torchvision ResNet, then "
              "--model and --stats), or bare weights (then --model and --stats).");
DEFINE_string(data, "", "Dataset: a manifest written by shard, or an ImageFolder directory.");
DEFINE_string(out, "", "EvalResult proto to write (.pb, .txtpb, .json; - for stdout). Required.");
DEFINE_string(model, "", "Model name for bare weights, e.g. resnet50.");
DEFINE_string(stats, "", "Channel statistics; default: those stored in the checkpoint.");
DEFINE_int32(resize_shorter, 256, "Resize the shorter side to this before the crop.");
DEFINE_int32(center_crop, 224, "Square center crop evaluated.");
DEFINE_bool(flip_tta, false, "Average predictions over the image and its horizontal mirror.");
DEFINE_int32(batch_size, 64, "Images per batch.");
DEFINE_string(device, "", "cpu, cuda or cuda:N; default: CUDA when present.");
DEFINE_int32(threads, 0, "Loader threads; 0: one per core (in a job: this process's share of them).");
DEFINE_string(weights, "model",
              "model: the checkpoint's weights; ema: their moving average (a run with config ema).");
DEFINE_bool(predictions, false, "Record each image's top-5 in the output.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();
  forge::InitTool(
      "Evaluates a model.\n"
      "  eval --checkpoint=runs/r50/checkpoints/best.ckpt --data=shards/val.manifest.txtpb --out=eval.pb",
      &argc, &argv);
  if (FLAGS_out.empty()) {
    return forge::ExitWithUsageError("--out is required");
  }
  forge::EvalToolOptions options;
  options.checkpoint = FLAGS_checkpoint;
  options.data = FLAGS_data;
  options.model = FLAGS_model;
  options.stats = FLAGS_stats;
  options.resize_shorter = FLAGS_resize_shorter;
  options.center_crop = FLAGS_center_crop;
  options.flip_tta = FLAGS_flip_tta;
  absl::StatusOr<forge::Weights> weights = forge::ParseWeights(FLAGS_weights);
  if (!weights.ok()) return forge::ExitWithUsageError(std::string(weights.status().message()));
  options.weights = *weights;
  options.batch_size = FLAGS_batch_size;
  // In a job of several processes (torchrun, mpirun, srun), each evaluates its share of the
  // images and rank 0 writes the whole result.
  absl::StatusOr<forge::Job> job = forge::JoinJob(FLAGS_device, 0);
  if (!job.ok()) {
    return forge::ExitWithError(job.status());
  }
  if (job->threads > 0) torch::set_num_threads(job->threads);
  options.device = job->device;
  options.threads = FLAGS_threads;
  options.predictions = FLAGS_predictions;
  options.group = job->group.get();
  options.local_processes = job->launch.local_world_size;
  absl::StatusOr<forge::EvalResult> result = forge::RunEval(options);
  if (!result.ok()) {
    return forge::LeaveJob(*job, forge::ExitWithError(result.status()));
  }
  const bool writes_outputs = job->group->writes_outputs();
  if (writes_outputs) {
    if (absl::Status status = forge::WriteProtoFile(FLAGS_out, *result); !status.ok()) {
      return forge::LeaveJob(*job, forge::ExitWithError(status));
    }
  }
  forge::LeaveJob(*job, 0);
  if (FLAGS_out == "-" || !writes_outputs) return forge::ExitWithSummary("");
  return forge::ExitWithSummary(absl::StrFormat("eval: images=%d top1=%.2f top5=%.2f loss=%.4f skipped=%d out=%s",
                                                result->images(), result->top1(), result->top5(), result->loss(),
                                                result->images_skipped(), FLAGS_out));
}
