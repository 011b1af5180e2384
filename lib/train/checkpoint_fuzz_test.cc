// Fuzzes the checkpoint reader (LoadCheckpoint, ReadTrainState) on a small model with optimizer
// state and EMA weights: the TrainState record and the LibTorch archive behind it (zip container,
// pickled tensors), reached with valid CRCs (see lib/records/fuzz_input.h). Property: a load that
// fails leaves the model's weights unchanged, as checkpoint.h promises.
#include <cstdint>
#include <cstring>
#include <limits>
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

// Bit for bit: torch::equal calls a NaN unequal to itself, and a fuzzed checkpoint that loads may
// well hold NaNs.
bool SameBits(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.contiguous(), y = b.contiguous();
  return x.sizes() == y.sizes() && x.dtype() == y.dtype() && std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Nets& nets = TheNets();
  const std::string path = forge::WriteScratchFile(forge::RecordFileFromFuzzInput(data, size), "last.ckpt");
  (void)forge::ReadTrainState(path);
  std::vector<torch::Tensor> before;
  for (const torch::Tensor& t : nets.model->parameters()) before.push_back(t.detach().clone());
  forge::TrainState state;
  const absl::Status status = forge::LoadCheckpoint(path, &state, *nets.model, &nets.optimizer, nets.ema.get());
  if (!status.ok()) {
    std::vector<torch::Tensor> after = nets.model->parameters();
    for (size_t i = 0; i < before.size(); ++i) {
      CHECK(SameBits(before[i], after[i])) << "parameter " << i << " changed by a load that failed: " << status;
    }
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
  std::vector<std::string> seeds = forge::FuzzInputsForRecordFile(path);
  // A checkpoint with a NaN weight, which loads, then a truncated one, which does not: the
  // property must hold with NaNs in the model (it once failed the long run that way).
  torch::Tensor bias = nets.model->parameters()[3];
  const torch::Tensor kept = bias.detach().clone();
  {
    torch::NoGradGuard no_grad;
    bias.fill_(std::numeric_limits<float>::quiet_NaN());
  }
  status = forge::SaveCheckpoint(path, state, *nets.model, &nets.optimizer, nets.ema.get());
  CHECK(status.ok()) << status;
  {
    torch::NoGradGuard no_grad;
    bias.copy_(kept);
  }
  const std::vector<std::string> with_nan = forge::FuzzInputsForRecordFile(path);
  seeds.push_back(with_nan.back());
  seeds.push_back(with_nan.back().substr(0, with_nan.back().size() / 2) + with_nan.back().back());
  return seeds;
}
