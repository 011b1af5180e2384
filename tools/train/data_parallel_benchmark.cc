// Data-parallel training-step throughput on random inputs: the step `train` takes in a job of
// several processes (each on its share of the global batch, gradients averaged by c10d's Reducer
// through the job's engine) or, with --communicate=false, the same per-process work with no
// averaging at all, which bounds what communication costs. Started alone it is one process with
// the whole batch. Rank 0 prints the global images/s. ci/bench/bench_data_parallel.sh runs it.
#include <chrono>
#include <cstdio>

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "lib/distributed/job.h"
#include "lib/engine/build.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "proto/train_config.pb.h"

DEFINE_string(model, "resnet50", "Model name.");
DEFINE_int32(batch_size, 32, "Images per step, over all processes.");
DEFINE_int32(image_size, 128, "Input height and width.");
DEFINE_int32(threads, 0, "LibTorch CPU threads; 0: this process's share of the cores.");
DEFINE_string(device, "cpu", "cpu, cuda (each process its local GPU) or cuda:N.");
DEFINE_bool(communicate, true, "Average gradients over the job (false: each process steps alone).");
DEFINE_int32(warmup, 2, "Untimed steps first.");
DEFINE_int32(steps, 5, "Timed steps.");

int main(int argc, char** argv) {
  forge::InitTool("Times data-parallel training steps of a ResNet on random inputs.", &argc, &argv);
  absl::StatusOr<forge::Job> job = forge::JoinJob(FLAGS_device, FLAGS_threads);
  if (!job.ok()) return forge::ExitWithError(job.status());
  if (job->threads > 0) torch::set_num_threads(job->threads);
  const torch::Device device(job->device);
  forge::ProcessGroup& group = *job->group;

  forge::TrainConfig config;
  config.mutable_model()->set_name(FLAGS_model);
  config.set_label_smoothing(0.1);
  config.set_grad_accumulation(1);
  config.mutable_optimizer()->mutable_sgd()->set_momentum(0.9);
  config.mutable_optimizer()->set_weight_decay(1e-4);
  absl::StatusOr<int64_t> share = forge::MicroBatchSize(config, FLAGS_batch_size, group.size());
  if (!share.ok()) return forge::LeaveJob(*job, forge::ExitWithError(share.status()));
  absl::StatusOr<forge::ResNet> model = forge::BuildModel(config, 1000);
  if (!model.ok()) return forge::LeaveJob(*job, forge::ExitWithError(model.status()));
  forge::PlaceModel(config, device, *model);
  (*model)->train();
  if (FLAGS_communicate) {
    if (absl::Status status = group.ShareModel(**model); !status.ok()) {
      return forge::LeaveJob(*job, forge::ExitWithError(status));
    }
  }
  absl::StatusOr<forge::Optimization> optimization =
      forge::BuildOptimization(config, *model, 0.1, device, FLAGS_communicate ? &group : nullptr);
  if (!optimization.ok()) return forge::LeaveJob(*job, forge::ExitWithError(optimization.status()));
  const torch::Tensor x = torch::randn({*share, 3, FLAGS_image_size, FLAGS_image_size}, torch::device(device));
  const torch::Tensor y = torch::randint(0, 1000, {*share}, torch::device(device).dtype(torch::kInt64));

  const auto step = [&] {
    optimization->step->Accumulate(x, y);
    CHECK(optimization->step->Apply(0.1).ok());
  };
  // Every process starts timing together and stops when the slowest is done.
  const auto together = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
    group.Any(false);
  };
  for (int i = 0; i < FLAGS_warmup; ++i) step();
  together();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_steps; ++i) step();
  together();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (group.writes_outputs()) {
    std::printf("forge model=%s batch=%d size=%d processes=%d threads=%d communicate=%d images_per_sec=%.2f\n",
                FLAGS_model.c_str(), FLAGS_batch_size, FLAGS_image_size, group.size(), torch::get_num_threads(),
                FLAGS_communicate ? 1 : 0, FLAGS_batch_size * FLAGS_steps / seconds);
  }
  return forge::LeaveJob(*job, 0);
}
