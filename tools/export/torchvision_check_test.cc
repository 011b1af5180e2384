// Our safetensors files against torchvision itself, both ways, and the README's Python lines:
// exports ResNet-18 and ResNet-50 with our forward pass's logits, runs torchvision_check.py
// (loads them into torchvision with strict=True and compares logits; runs the README's lines;
// writes torchvision models' state dicts), then loads torchvision's files with LoadTrainedModel
// and compares our logits with torchvision's. Tolerance: max |ours - theirs| <= 1e-5 x max
// |theirs|, on the CPU in float32 (the script states the same).
//
// The interpreter: $PYTHON when the test sees it (bazel test --test_env=PYTHON=/path/to/python),
// else the one of the Python environment whose torch wheel this test links (the build takes
// LibTorch from it: the project's ~/.cache/resnet-forge/venv, or $PYTHON's at build time); it
// must have torchvision (ci/setup.sh installs it). Skipped, saying why, only when LibTorch is an
// archive outside any Python environment (LIBTORCH=...) and $PYTHON is not given.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/engine/export.h"
#include "lib/engine/state_dict.h"
#include "lib/engine/trained_model.h"
#include "lib/io/safetensors.h"
#include "lib/model/resnet.h"
#include "proto/checkpoint.pb.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

constexpr double kRelativeTolerance = 1e-5;
constexpr int kClasses = 10;
const char* const kArchitectures[] = {"resnet18", "resnet50"};

// The python3 of the environment holding the libtorch_cpu.so this process runs with:
// <prefix>/lib/pythonX.Y/site-packages/torch/lib/libtorch_cpu.so -> <prefix>/bin/python3.
std::optional<std::string> PythonOfLinkedTorch(std::string* why) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t at = line.find('/');
    if (at == std::string::npos || !absl::EndsWith(line, "/torch/lib/libtorch_cpu.so")) continue;
    const fs::path library = line.substr(at);
    const fs::path site_packages = library.parent_path().parent_path().parent_path();
    const fs::path prefix = site_packages.parent_path().parent_path().parent_path();
    for (const char* name : {"bin/python3", "bin/python"}) {
      if (fs::exists(prefix / name)) return (prefix / name).string();
    }
    *why = absl::StrCat("LibTorch ", library.string(), " is not inside a Python environment (no ",
                        (prefix / "bin/python3").string(), ")");
    return std::nullopt;
  }
  *why = "libtorch_cpu.so is not among this process's libraries";
  return std::nullopt;
}

// A ResNet with batch-norm statistics as after training (fresh ones are nearly the identity,
// and would hide a mix-up of its tensors).
ResNet TrainedLooking(const std::string& architecture, uint64_t seed) {
  torch::manual_seed(seed);
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(architecture, kClasses);
  EXPECT_TRUE(options.ok());
  ResNet model(*options);
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_modules()) {
    auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(item.value().get());
    if (bn == nullptr) continue;
    bn->running_mean.normal_(0, 0.1);
    bn->running_var.uniform_(0.5, 1.5);
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.normal_(0, 0.1);
    bn->num_batches_tracked.fill_(5);
  }
  model->eval();
  return model;
}

double RelativeDifference(const torch::Tensor& ours, const torch::Tensor& theirs) {
  return ((ours - theirs).abs().max() / theirs.abs().max()).item<double>();
}

TEST(TorchvisionCheckTest, OurFilesLoadIntoTorchvisionAndTheirsIntoOurs) {
  std::string why;
  std::optional<std::string> python;
  if (const char* given = std::getenv("PYTHON"); given != nullptr && *given != '\0') {
    python = given;
  } else {
    python = PythonOfLinkedTorch(&why);
  }
  if (!python) GTEST_SKIP() << "no Python to run torchvision with: " << why << "; pass --test_env=PYTHON=...";
  const std::string dir = testdata::NewScratchDir();

  for (const char* architecture : kArchitectures) {
    ResNet model = TrainedLooking(architecture, 1);
    TrainState state;
    state.mutable_config()->mutable_model()->set_name(architecture);
    for (int c = 0; c < kClasses; ++c) state.add_classes(absl::StrCat("n0144076", c));
    absl::StatusOr<Safetensors> file = ExportModel(*model, state, /*ema=*/false, {});
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE(WriteSafetensors(absl::StrCat(dir, "/ours_", architecture, ".safetensors"), *file).ok());
    torch::manual_seed(2);
    const torch::Tensor input = torch::randn({2, 3, 96, 96});
    torch::Tensor logits;
    {
      torch::NoGradGuard no_grad;
      logits = model->forward(input);
    }
    Safetensors io;
    for (const auto& [name, tensor] : std::vector<std::pair<std::string, torch::Tensor>>{{"input", input},
                                                                                          {"logits", logits}}) {
      SafetensorsTensor entry{name, SafetensorsDtype::kF32, std::vector<int64_t>(tensor.sizes().begin(), tensor.sizes().end()),
                              std::string(static_cast<const char*>(tensor.contiguous().data_ptr()), tensor.nbytes())};
      io.tensors.push_back(std::move(entry));
    }
    ASSERT_TRUE(WriteSafetensors(absl::StrCat(dir, "/ours_", architecture, "_io.safetensors"), io).ok());
  }

  std::vector<std::string> args = {*python, testdata::Runfile("tools/export/torchvision_check.py"),
                                   "--dir=" + dir, "--readme=" + testdata::Runfile("README.md"),
                                   absl::StrCat("--num_classes=", kClasses)};
  for (const char* architecture : kArchitectures) args.push_back(absl::StrCat("--arch=", architecture));
  const std::string log = dir + "/check.log";
  const int exit_code = testdata::WaitForProcess(testdata::StartProcess(args, log));
  const std::string output = testdata::ReadText(log);
  std::cout << output;  // the measured differences, in the test log
  ASSERT_EQ(exit_code, 0) << *python << " torchvision_check.py failed:\n" << output;

  for (const char* architecture : kArchitectures) {
    const std::string path = absl::StrCat(dir, "/theirs_", architecture, ".safetensors");
    absl::StatusOr<TrainedModel> trained = LoadTrainedModel(path, architecture, kClasses);
    ASSERT_TRUE(trained.ok()) << trained.status();
    absl::StatusOr<Safetensors> io = ReadSafetensors(absl::StrCat(dir, "/theirs_", architecture, "_io.safetensors"));
    ASSERT_TRUE(io.ok()) << io.status();
    absl::StatusOr<NamedTensors> tensors = ToTorch(io->tensors, "io");
    ASSERT_TRUE(tensors.ok()) << tensors.status();
    torch::NoGradGuard no_grad;
    trained->model->eval();
    const torch::Tensor ours = trained->model->forward(tensors->at("input"));
    const double difference = RelativeDifference(ours, tensors->at("logits"));
    std::cout << "torchvision -> ours " << architecture << ": max |diff| / max |logit| = " << difference
              << " (tolerance " << kRelativeTolerance << ")\n";
    EXPECT_LE(difference, kRelativeTolerance) << architecture;
    // Their num_batches_tracked came through too (int64, 0-dim).
    EXPECT_EQ(StateDict(*trained->model).at("bn1.num_batches_tracked").item<int64_t>(), 11);
  }
}

}  // namespace
}  // namespace forge
