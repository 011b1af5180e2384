// lr_find: the LR range test for a TrainConfig recipe; writes an LrCurve with the suggested LR.
#include <filesystem>
#include <string>
#include <vector>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "lib/distributed/job.h"
#include "lib/io/proto_file.h"
#include "absl/strings/str_format.h"
#include "lib/util/exit_code.h"
#include "lib/util/memory.h"
#include "lib/util/tool_init.h"
#include "proto/lr_curve.pb.h"
#include "tools/lr_find/lr_find.h"
#include "lib/engine/config.h"

DEFINE_string(config, "", "TrainConfig recipe (.txtpb), as for train; its epochs and schedule are not used.");
DEFINE_string(set, "", "Config overrides 'field.path=value', separated by ';' (as for train).");
DEFINE_string(train, "", "Training data: a manifest written by shard, or an ImageFolder directory.");
DEFINE_string(stats, "", "Channel statistics from compute_stats.");
DEFINE_string(out, "", "LrCurve to write (.pb, .txtpb, .json; - for stdout). Required.");
DEFINE_double(start_lr, 1e-7, "LR of the first step.");
DEFINE_double(end_lr, 10, "LR of the last step.");
DEFINE_int32(num_iter, 100, "Steps from --start_lr to --end_lr (fewer if the loss diverges).");
DEFINE_string(mode, "exponential", "LR steps: exponential (even in log-LR) or linear.");
DEFINE_double(smoothing, 0.05, "Weight of the new loss in the moving average.");
DEFINE_double(diverge_factor, 5, "Stop when the smoothed loss exceeds this times its lowest value.");
DEFINE_int32(batch_size, 0, "Override: data.batch_size (images per step).");
DEFINE_string(device, "", "cpu, cuda or cuda:N; default: CUDA when present.");
DEFINE_int32(threads, 0, "CPU threads for LibTorch; 0: its default.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();
  forge::InitTool(
      "Runs the LR range test and suggests a peak LR.\n"
      "  lr_find --config=recipe.txtpb --train=shards/train.manifest.txtpb --stats=stats.txtpb "
      "--out=lr_curve.pb",
      &argc, &argv);
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"--train", FLAGS_train},
                                    {"--stats", FLAGS_stats}, {"--out", FLAGS_out}}) {
    if (value.empty()) {
      return forge::ExitWithUsageError(absl::StrCat(flag, " is required"));
    }
  }
  // A bad --out is refused now rather than after minutes of training.
  if (absl::StatusOr<forge::ProtoFormat> format = forge::ProtoFormatForPath(FLAGS_out); !format.ok()) {
    return forge::ExitWithError(absl::Status(format.status().code(), absl::StrCat("--out: ", format.status().message())));
  }
  const std::filesystem::path out_dir = std::filesystem::path(FLAGS_out).parent_path();
  if (FLAGS_out != "-" && !out_dir.empty() && !std::filesystem::is_directory(out_dir)) {
    return forge::ExitWithUsageError(absl::StrCat("--out=", FLAGS_out, ": no directory ", out_dir.string()));
  }
  forge::LrFindOptions options;
  options.train_data = FLAGS_train;
  options.stats = FLAGS_stats;
  options.settings.set_start_lr(FLAGS_start_lr);
  options.settings.set_end_lr(FLAGS_end_lr);
  options.settings.set_num_iter(FLAGS_num_iter);
  options.settings.set_mode(FLAGS_mode);
  options.settings.set_smoothing(FLAGS_smoothing);
  options.settings.set_diverge_factor(FLAGS_diverge_factor);
  if (absl::Status status = forge::ValidateLrFindSettings(options.settings); !status.ok()) {
    return forge::ExitWithError(status);
  }
  std::vector<std::string> overrides = forge::SplitOverrides(FLAGS_set);
  if (FLAGS_batch_size > 0) overrides.push_back(absl::StrCat("data.batch_size=", FLAGS_batch_size));
  absl::StatusOr<forge::TrainConfig> config = forge::LoadLrFindConfig(FLAGS_config, overrides);
  if (!config.ok()) {
    return forge::ExitWithError(config.status());
  }
  options.config = *config;
  // In a job of several processes (torchrun, mpirun, srun), each trains on its share of every
  // global batch as train does, and rank 0 writes the curve.
  absl::StatusOr<forge::Job> job = forge::JoinJob(FLAGS_device, FLAGS_threads);
  if (!job.ok()) {
    return forge::ExitWithError(job.status());
  }
  options.device = job->device;
  options.threads = job->threads;
  options.group = job->group.get();
  options.local_processes = job->launch.local_world_size;

  absl::StatusOr<forge::LrCurve> curve = forge::RunLrFind(options);
  if (!curve.ok()) {
    return forge::LeaveJob(*job, forge::ExitWithError(curve.status()));
  }
  const bool writes_outputs = job->group->writes_outputs();
  if (writes_outputs) {
    if (absl::Status status = forge::WriteProtoFile(FLAGS_out, *curve); !status.ok()) {
      return forge::LeaveJob(*job, forge::ExitWithError(status));
    }
  }
  forge::LeaveJob(*job, 0);
  if (!writes_outputs) return forge::ExitWithSummary("");
  const std::string suggestion = forge::SuggestionName(curve->suggestion_status());
  if (curve->suggestion_status() != forge::LrCurve::SUGGESTION_OK) {
    LOG(WARNING) << "no suggested LR (" << suggestion << "); see the curve in " << FLAGS_out;
  }
  if (FLAGS_out == "-") return forge::ExitWithSummary("");
  return forge::ExitWithSummary(absl::StrFormat(
      "lr_find: suggested_lr=%.6g suggestion=%s min_loss_lr=%.6g min_loss_lr_div10=%.6g points=%d diverged=%s out=%s",
      curve->suggested_lr(), suggestion, curve->min_loss_lr(), curve->min_loss_lr_div10(), curve->points_size(),
      curve->diverged() ? "true" : "false", FLAGS_out));
}
