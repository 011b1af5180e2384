// Fuzzes the checkpoint reader (LoadCheckpoint, ReadTrainState) on a small model with optimizer
// state and EMA weights: the TrainState record and the LibTorch archive behind it (zip container,
// pickled tensors), reached with valid CRCs (see lib/records/fuzz_input.h). Property: a load that
// fails leaves the model's weights unchanged, as checkpoint.h promises.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/records/fuzz_input.h"
#include "lib/train/checkpoint.h"

namespace {

struct Nets {
  torch::nn::Sequential model{torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)), torch::nn::BatchNorm2d(4),
                              torch::nn::Flatten(), torch::nn::Linear(4, 2)};
  torch::nn::Sequential ema{torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)), torch::nn::BatchNorm2d(4),
                            torch::nn::Flatten(), torch::nn::Linear(4, 2)};
  torch::optim::SGD optimizer{model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9)};

  Nets() {
    torch::manual_seed(1);
    optimizer.zero_grad();
    model->forward(torch::randn({2, 3, 3, 3})).sum().backward();
    optimizer.step();
  }
};

Nets& TheNets() {
  static Nets* nets = new Nets;
  return *nets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Nets& nets = TheNets();
  const std::string path = forge::WriteScratchFile(forge::RecordFileFromFuzzInput(data, size), "last.ckpt");
  (void)forge::ReadTrainState(path);
  std::vector<torch::Tensor> before;
  for (const torch::Tensor& t : nets.model->parameters()) before.push_back(t.detach().clone());
  forge::TrainState state;
  if (!forge::LoadCheckpoint(path, &state, *nets.model, &nets.optimizer, nets.ema.get()).ok()) {
    std::vector<torch::Tensor> after = nets.model->parameters();
    for (size_t i = 0; i < before.size(); ++i) CHECK(torch::equal(before[i], after[i])) << "parameter " << i;
  }
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  Nets& nets = TheNets();
  forge::TrainState state;
  state.set_epoch(2);
  state.set_step(40);
  const std::string path = forge::WriteScratchFile("", "seed.ckpt");
  absl::Status status = forge::SaveCheckpoint(path, state, *nets.model, &nets.optimizer, nets.ema.get());
  CHECK(status.ok()) << status;
  return forge::FuzzInputsForRecordFile(path);
}
