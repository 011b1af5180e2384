// Training-step throughput on random inputs (no data loading): the step `train` takes, built by
// the engine from a TrainConfig (lib/engine/build.h: model, placement and memory format,
// optimizer, loss scaler; lib/engine/step.h: forward under autocast, label-smoothed cross-entropy,
// backward, SGD with momentum and weight decay), for comparison with PyTorch eager in Python
// (ci/bench/train_step_baseline.py) on the CPU or on a GPU (ci/gpu/run.sh).
#include <chrono>
#include <cstdio>
#include <string>

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "lib/engine/build.h"
#include "lib/train/device.h"
#include "lib/util/memory.h"
#include "lib/util/tool_init.h"
#include "proto/train_config.pb.h"

DEFINE_string(model, "resnet50", "Model name.");
DEFINE_int32(batch_size, 32, "Images per step.");
DEFINE_int32(image_size, 224, "Input height and width.");
DEFINE_int32(threads, 0, "LibTorch CPU threads; 0: its default.");
DEFINE_string(device, "cpu", "cpu, cuda or cuda:N; empty: CUDA when present, else the CPU.");
DEFINE_string(precision, "fp32", "fp32, bf16 (autocast) or fp16 (CUDA only: autocast + dynamic loss scaling).");
DEFINE_bool(bf16, false, "Same as --precision=bf16 (kept for older scripts).");
DEFINE_bool(channels_last, false, "channels_last memory format for the model and inputs.");
DEFINE_bool(cudnn_benchmark, false, "cuDNN benchmark mode (torch.backends.cudnn.benchmark).");
DEFINE_int32(warmup, 2, "Untimed steps first.");
DEFINE_int32(steps, 5, "Timed steps.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();
  forge::InitTool("Times training steps of a ResNet on random inputs.", &argc, &argv);
  if (FLAGS_threads > 0) torch::set_num_threads(FLAGS_threads);
  const absl::StatusOr<torch::Device> device = forge::ParseDevice(FLAGS_device);
  if (!device.ok()) {
    LOG(ERROR) << device.status();
    return 2;
  }
  at::globalContext().setBenchmarkCuDNN(FLAGS_cudnn_benchmark);

  forge::TrainConfig config;
  config.mutable_model()->set_name(FLAGS_model);
  config.set_precision(FLAGS_bf16 ? "bf16" : FLAGS_precision);
  config.set_channels_last(FLAGS_channels_last);
  config.set_label_smoothing(0.1);
  config.set_grad_accumulation(1);
  config.mutable_optimizer()->mutable_sgd()->set_momentum(0.9);
  config.mutable_optimizer()->set_weight_decay(1e-4);
  absl::StatusOr<forge::ResNet> model = forge::BuildModel(config, 1000);
  if (!model.ok()) {
    LOG(ERROR) << model.status();
    return 2;
  }
  forge::PlaceModel(config, *device, *model);
  (*model)->train();
  absl::StatusOr<forge::Optimization> optimization = forge::BuildOptimization(config, *model, 0.1, *device);
  if (!optimization.ok()) {
    LOG(ERROR) << optimization.status();
    return 2;
  }
  torch::Tensor x = torch::randn({FLAGS_batch_size, 3, FLAGS_image_size, FLAGS_image_size}, torch::device(*device));
  if (FLAGS_channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor y = torch::randint(0, 1000, {FLAGS_batch_size}, torch::device(*device).dtype(torch::kInt64));

  auto step = [&] {
    optimization->step->Accumulate(x, y);
    CHECK(optimization->step->Apply(0.1).ok());
  };
  auto sync = [&] {
    if (device->is_cuda()) torch::cuda::synchronize(device->index() < 0 ? -1 : device->index());
  };
  for (int i = 0; i < FLAGS_warmup; ++i) step();
  sync();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_steps; ++i) step();
  sync();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("forge model=%s batch=%d size=%d device=%s precision=%s threads=%d channels_last=%d images_per_sec=%.2f\n",
              FLAGS_model.c_str(), FLAGS_batch_size, FLAGS_image_size, device->str().c_str(),
              config.precision().c_str(), torch::get_num_threads(), FLAGS_channels_last ? 1 : 0,
              FLAGS_batch_size * FLAGS_steps / seconds);
  return 0;
}
