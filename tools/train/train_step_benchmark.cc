// Training-step throughput on random inputs (no data loading): the same step `train` takes
// (forward, label-smoothed cross-entropy, backward, SGD with momentum and weight decay), for
// comparison with PyTorch eager in Python (ci/bench/train_step_baseline.py).
#include <chrono>
#include <cstdio>

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include "lib/model/memory_format.h"
#include "lib/model/resnet.h"
#include "lib/train/autocast.h"
#include "lib/train/loss.h"
#include "lib/train/optimizer.h"
#include "lib/util/memory.h"
#include "lib/util/tool_init.h"

DEFINE_string(model, "resnet50", "Model name.");
DEFINE_int32(batch_size, 32, "Images per step.");
DEFINE_int32(image_size, 224, "Input height and width.");
DEFINE_int32(threads, 0, "LibTorch CPU threads; 0: its default.");
DEFINE_bool(channels_last, false, "channels_last memory format for the model and inputs.");
DEFINE_bool(bf16, false, "CPU bf16 autocast.");
DEFINE_int32(warmup, 2, "Untimed steps first.");
DEFINE_int32(steps, 5, "Timed steps.");

int main(int argc, char** argv) {
  forge::KeepFreedMemory();
  forge::InitTool("Times training steps of a ResNet on random inputs.", &argc, &argv);
  if (FLAGS_threads > 0) torch::set_num_threads(FLAGS_threads);
  torch::manual_seed(0);
  absl::StatusOr<forge::ResNetOptions> options = forge::ResNetOptionsFromName(FLAGS_model, 1000);
  CHECK(options.ok()) << options.status();
  forge::ResNet model(*options);
  torch::Tensor x = torch::randn({FLAGS_batch_size, 3, FLAGS_image_size, FLAGS_image_size});
  torch::Tensor y = torch::randint(0, 1000, {FLAGS_batch_size}, torch::kInt64);
  if (FLAGS_channels_last) {
    forge::ConvertToChannelsLast(*model);
    x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  model->train();
  forge::OptimizerConfig config;
  config.mutable_sgd()->set_momentum(0.9);
  config.set_weight_decay(1e-4);
  auto optimizer = forge::MakeOptimizer(config, *model, 0.1);
  CHECK(optimizer.ok()) << optimizer.status();
  auto step = [&] {
    (*optimizer)->zero_grad();
    torch::Tensor logits;
    {
      forge::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, FLAGS_bf16);
      logits = model->forward(x);
    }
    torch::Tensor loss = forge::CrossEntropy(logits, y, 0.1);
    loss.backward();
    (*optimizer)->step();
    return loss.item<double>();
  };
  for (int i = 0; i < FLAGS_warmup; ++i) step();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_steps; ++i) step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("forge model=%s batch=%d size=%d threads=%d channels_last=%d images_per_sec=%.2f\n",
              FLAGS_model.c_str(), FLAGS_batch_size, FLAGS_image_size, torch::get_num_threads(),
              FLAGS_channels_last ? 1 : 0, FLAGS_batch_size * FLAGS_steps / seconds);
  return 0;
}
