// train: trains a ResNet from a TrainConfig recipe; see trainer.h for what a run directory holds.
#include <cmath>
#include <string>
#include <vector>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/distributed/job.h"
#include "lib/io/proto_file.h"
#include "lib/util/exit_code.h"
#include "lib/util/stop_signals.h"
#include "lib/util/memory.h"
#include "lib/util/tool_init.h"
#include "lib/engine/config.h"
#include "lib/engine/trainer.h"
#include "proto/lr_curve.pb.h"

DEFINE_string(config, "", "TrainConfig recipe (.txtpb), e.g. tools/train/recipes/resnet50_imagenet_1gpu.txtpb.");
DEFINE_string(set, "", "Config overrides 'field.path=value', separated by ';' (e.g. 'data.batch_size=128;epochs=90').");
DEFINE_int32(epochs, 0, "Override: epochs.");
DEFINE_int32(batch_size, 0, "Override: data.batch_size.");
DEFINE_double(lr, 0, "Override: schedule.peak_lr.");
DEFINE_string(model, "", "Override: model.name (resnet18/34/50/101/152).");
DEFINE_string(precision, "", "Override: precision (fp32, fp16 on CUDA, bf16).");
DEFINE_string(train, "", "Training data: a manifest written by shard, or an ImageFolder directory.");
DEFINE_string(val, "", "Validation data (classes must match --train); empty: no validation.");
DEFINE_string(stats, "", "Channel statistics from compute_stats (optional when continuing a run).");
DEFINE_string(run_dir, "", "Where the run's config, logs, checkpoints and events go.");
DEFINE_string(device, "", "cpu, cuda or cuda:N; default: CUDA when present (each process of a job on its local GPU).");
DEFINE_int32(threads, 0, "CPU threads for LibTorch; 0: its default (in a job, this process's share of the cores).");
DEFINE_bool(resume, false,
            "Continue the run in --run_dir (its saved config; --config is then optional). A run directory "
            "holding checkpoints is continued even without --resume when --config describes the same run.");
DEFINE_int32(extend_epochs, 0,
             "Train the existing run in --run_dir to this many epochs in all, re-laying the rest of its LR "
             "schedule over them without a jump; e.g. --resume --extend_epochs=120 on a finished 90-epoch run.");
DEFINE_string(freeze_lr, "",
              "Continue the existing run in --run_dir at a constant LR from its next step: 'last' (the LR "
              "of its last step) or a value, e.g. --resume --freeze_lr=0.001.");
DEFINE_string(init_from, "",
              "A new run's starting weights (warm start, fine-tuning): a .safetensors file (export's, or PyTorch's "
              "of a torchvision ResNet) or a checkpoint. Every tensor must fit the model (see --init_reset_head).");
DEFINE_bool(init_reset_head, false,
            "With --init_from: initialise the classifier head afresh instead of taking the file's, e.g. for "
            "another number of classes.");
DEFINE_string(lr_from, "", "An LR curve written by lr_find: its suggested LR becomes schedule.peak_lr.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();
  forge::InitTool(
      "Trains a ResNet, or continues a run.\n"
      "  train --config=recipe.txtpb --train=shards/train.manifest.txtpb "
      "--val=shards/val.manifest.txtpb --stats=stats.txtpb --run_dir=runs/r50\n"
      "Stopped by SIGTERM, SIGINT or SIGUSR1, it saves a checkpoint and exits with 75: run the same\n"
      "command again to continue. A second signal exits at once.\n"
      "Data-parallel on several GPUs or machines: torchrun --nproc-per-node=N --no-python train ...;\n"
      "on CPUs: mpirun -np N train ... (see README.md).",
      &argc, &argv);
  forge::InstallStopSignalHandlers("train");
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"--train", FLAGS_train},
                                    {"--run_dir", FLAGS_run_dir}}) {
    if (value.empty()) {
      return forge::ExitWithUsageError(absl::StrCat(flag, " is required"));
    }
  }
  std::vector<std::string> overrides = forge::SplitOverrides(FLAGS_set);
  if (FLAGS_epochs > 0) overrides.push_back(absl::StrCat("epochs=", FLAGS_epochs));
  if (FLAGS_batch_size > 0) overrides.push_back(absl::StrCat("data.batch_size=", FLAGS_batch_size));
  if (FLAGS_lr > 0) overrides.push_back(absl::StrCat("schedule.peak_lr=", FLAGS_lr));
  if (!FLAGS_model.empty()) overrides.push_back(absl::StrCat("model.name=\"", FLAGS_model, "\""));
  if (!FLAGS_precision.empty()) overrides.push_back(absl::StrCat("precision=\"", FLAGS_precision, "\""));
  if (!FLAGS_lr_from.empty()) {
    if (FLAGS_lr > 0) {
      return forge::ExitWithUsageError("--lr and --lr_from both set the peak LR: pass one");
    }
    forge::LrCurve curve;
    if (absl::Status status = forge::ReadProtoFile(FLAGS_lr_from, &curve); !status.ok()) {
      return forge::ExitWithError(status);
    }
    if (!(curve.suggested_lr() > 0) || !std::isfinite(curve.suggested_lr())) {
      return forge::ExitWithUsageError(
          absl::StrCat(FLAGS_lr_from, " holds no suggested LR (suggested_lr ", curve.suggested_lr(), ")"));
    }
    LOG(INFO) << "peak LR " << curve.suggested_lr() << " from " << FLAGS_lr_from;
    overrides.push_back(absl::StrFormat("schedule.peak_lr=%.17g", curve.suggested_lr()));
  }

  forge::TrainOptions options;
  if (!FLAGS_config.empty()) {
    absl::StatusOr<forge::TrainConfig> config = forge::LoadConfig(FLAGS_config, overrides);
    if (!config.ok()) {
      return forge::ExitWithError(config.status());
    }
    options.config = *config;
  } else {
    options.overrides = overrides;
  }
  absl::StatusOr<forge::Job> job = forge::JoinJob(FLAGS_device, FLAGS_threads);
  if (!job.ok()) {
    return forge::ExitWithError(job.status());
  }
  options.process_group = job->group.get();
  options.local_processes = job->launch.local_world_size;
  options.train_data = FLAGS_train;
  options.val_data = FLAGS_val;
  options.stats = FLAGS_stats;
  options.run_dir = FLAGS_run_dir;
  options.device = job->device;
  options.threads = job->threads;
  options.resume = FLAGS_resume;
  options.extend_epochs = FLAGS_extend_epochs;
  options.freeze_lr = FLAGS_freeze_lr;
  options.init_from = FLAGS_init_from;
  options.init_reset_head = FLAGS_init_reset_head;
  absl::Status status = forge::RunTraining(options);
  if (!status.ok()) {
    return forge::LeaveJob(*job, forge::ExitWithError(status));
  }
  forge::LeaveJob(*job, 0);
  return forge::ExitWithSummary(absl::StrCat("train: run_dir=", FLAGS_run_dir));
}
