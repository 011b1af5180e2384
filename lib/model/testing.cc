// Implementation of the lib/model test helpers; the formulas mirror testdata/make_golden.py.
#include "lib/model/testing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace forge::model_testing {
namespace {

int64_t KeySeed(const std::string& key) {
  int64_t seed = 0;
  for (size_t j = 0; j < key.size(); ++j) seed += static_cast<unsigned char>(key[j]) * int64_t(j + 1);
  return seed % 1000003;
}

// ((i * 2654435761 + seed * 40503) mod 65536) / 65536; exact in int64 for i < 3.4e9.
double Unit(int64_t seed, int64_t i) {
  return static_cast<double>((i * int64_t{2654435761} + seed * 40503) % 65536) / 65536.0;
}

torch::Tensor DeterministicValues(const std::string& key, at::IntArrayRef shape) {
  torch::Tensor values = torch::empty(shape, torch::kFloat32);
  float* data = values.data_ptr<float>();
  const int64_t seed = KeySeed(key);
  const bool bn_scale = absl::EndsWith(key, "running_var") ||
                        (absl::EndsWith(key, "weight") && shape.size() == 1);
  const bool weight = absl::EndsWith(key, "weight");
  double scale = 0.1;  // biases, running_mean
  if (weight && shape.size() == 4) {
    scale = std::sqrt(3.0 / static_cast<double>(shape[1] * shape[2] * shape[3]));
  } else if (weight && shape.size() == 2) {
    scale = 1.0 / std::sqrt(static_cast<double>(shape[1]));
  }
  for (int64_t i = 0; i < values.numel(); ++i) {
    const double u = Unit(seed, i);
    data[i] = static_cast<float>(bn_scale ? 0.5 + u : (2.0 * u - 1.0) * scale);
  }
  return values;
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> StateDict(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> entries;
  for (const auto& item : module.named_modules(/*name_prefix=*/"", /*include_self=*/true)) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) {
      entries.emplace_back(prefix + p.key(), p.value());
    }
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) {
      entries.emplace_back(prefix + b.key(), b.value());
    }
  }
  return entries;
}

void SetDeterministicWeights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& [key, tensor] : StateDict(module)) {
    if (absl::EndsWith(key, "num_batches_tracked")) continue;
    tensor.copy_(DeterministicValues(key, tensor.sizes()));
  }
}

torch::Tensor DeterministicInput(const std::vector<int64_t>& shape) {
  torch::Tensor values = torch::empty(shape, torch::kFloat32);
  float* data = values.data_ptr<float>();
  const int64_t seed = KeySeed("input");
  for (int64_t i = 0; i < values.numel(); ++i) data[i] = static_cast<float>(2.0 * Unit(seed, i) - 1.0);
  return values;
}

std::vector<std::vector<std::string>> ReadTestdata(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path =
      absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                   workspace != nullptr ? workspace : "resnet_forge", "/lib/model/testdata/", name);
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::vector<std::vector<std::string>> lines;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!fields.empty()) lines.push_back(std::move(fields));
  }
  return lines;
}

std::vector<float> ParseFloats(const std::vector<std::vector<std::string>>& lines, size_t begin,
                               size_t end) {
  std::vector<float> values;
  for (size_t i = begin; i < end && i < lines.size(); ++i) {
    float value = 0;
    EXPECT_TRUE(absl::SimpleAtof(lines[i][0], &value)) << lines[i][0];
    values.push_back(value);
  }
  return values;
}

}  // namespace forge::model_testing
