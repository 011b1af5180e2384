// train: trains a ResNet from a TrainConfig recipe; see trainer.h for what a run directory holds.
#include <cstdio>
#include <string>
#include <vector>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "tools/train/config.h"
#include "tools/train/trainer.h"

DEFINE_string(config, "", "TrainConfig recipe (.txtpb), e.g. tools/train/recipes/resnet50_imagenet_1gpu.txtpb.");
DEFINE_string(set, "", "Config overrides 'field.path=value', separated by ';' (e.g. 'data.batch_size=128;epochs=90').");
DEFINE_int32(epochs, 0, "Override: epochs.");
DEFINE_int32(batch_size, 0, "Override: data.batch_size.");
DEFINE_double(lr, 0, "Override: schedule.peak_lr.");
DEFINE_string(model, "", "Override: model.name (resnet18/34/50/101/152).");
DEFINE_string(precision, "", "Override: precision (fp32, fp16 on CUDA, bf16).");
DEFINE_string(train, "", "Training data: a manifest written by shard, or an ImageFolder directory.");
DEFINE_string(val, "", "Validation data (classes must match --train); empty: no validation.");
DEFINE_string(stats, "", "Channel statistics from compute_stats.");
DEFINE_string(run_dir, "", "Where the run's config, logs, checkpoints and events go.");
DEFINE_string(device, "", "cpu, cuda or cuda:N; default: CUDA when present.");
DEFINE_int32(threads, 0, "CPU threads for LibTorch; 0: its default.");
DEFINE_bool(resume, false, "Continue the run in --run_dir from checkpoints/last.ckpt.");

int main(int argc, char** argv) {
  forge::InitTool(
      "Trains a ResNet.\n"
      "  train --config=recipe.txtpb --train=shards/train.manifest.txtpb "
      "--val=shards/val.manifest.txtpb --stats=stats.txtpb --run_dir=runs/r50",
      &argc, &argv);
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"--train", FLAGS_train},
                                    {"--stats", FLAGS_stats}, {"--run_dir", FLAGS_run_dir}}) {
    if (value.empty()) {
      LOG(ERROR) << flag << " is required";
      return 2;
    }
  }
  std::vector<std::string> overrides;
  for (absl::string_view item : absl::StrSplit(FLAGS_set, ';', absl::SkipWhitespace())) {
    overrides.emplace_back(item);
  }
  if (FLAGS_epochs > 0) overrides.push_back(absl::StrCat("epochs=", FLAGS_epochs));
  if (FLAGS_batch_size > 0) overrides.push_back(absl::StrCat("data.batch_size=", FLAGS_batch_size));
  if (FLAGS_lr > 0) overrides.push_back(absl::StrCat("schedule.peak_lr=", FLAGS_lr));
  if (!FLAGS_model.empty()) overrides.push_back(absl::StrCat("model.name=\"", FLAGS_model, "\""));
  if (!FLAGS_precision.empty()) overrides.push_back(absl::StrCat("precision=\"", FLAGS_precision, "\""));

  forge::TrainOptions options;
  absl::StatusOr<forge::TrainConfig> config = forge::LoadConfig(FLAGS_config, overrides);
  if (!config.ok()) {
    LOG(ERROR) << config.status().message();
    return forge::ExitCodeFor(config.status());
  }
  options.config = *config;
  options.train_data = FLAGS_train;
  options.val_data = FLAGS_val;
  options.stats = FLAGS_stats;
  options.run_dir = FLAGS_run_dir;
  options.device = FLAGS_device;
  options.threads = FLAGS_threads;
  options.resume = FLAGS_resume;
  absl::Status status = forge::RunTraining(options);
  if (!status.ok()) {
    LOG(ERROR) << status.message();
    return forge::ExitCodeFor(status);
  }
  std::printf("train: run_dir=%s\n", FLAGS_run_dir.c_str());
  return 0;
}
