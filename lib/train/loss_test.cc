// CrossEntropy against torch.nn.functional.cross_entropy (goldens from
// testdata/make_loss_golden.py, float32 and bfloat16 logits, compared to 1e-6 relative).
#include "lib/train/loss.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lib/train/golden_file.h"

namespace forge {
namespace {

using ::forge::train_testing::ParseDouble;
using ::forge::train_testing::ParseDoubles;
using ::forge::train_testing::ReadGoldenLines;

struct GoldenCase {
  std::string name;
  torch::Dtype dtype;
  double label_smoothing;
  double expected;
  torch::Tensor logits;  // in dtype
  torch::Tensor labels;
};

std::vector<GoldenCase> ReadCases() {
  std::vector<GoldenCase> cases;
  for (const std::vector<std::string>& line : ReadGoldenLines("loss_golden.txt")) {
    if (line.size() < 3) {
      ADD_FAILURE() << "short line";
      continue;
    }
    if (line[0] == "case") {
      // case <name> <dtype> <N> <C> <eps> <loss>
      EXPECT_EQ(line.size(), 7u);
      if (line.size() != 7) continue;
      GoldenCase c;
      c.name = line[1];
      c.dtype = line[2] == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
      c.label_smoothing = ParseDouble(line[5]);
      c.expected = ParseDouble(line[6]);
      c.logits = torch::empty({static_cast<int64_t>(ParseDouble(line[3])), static_cast<int64_t>(ParseDouble(line[4]))});
      cases.push_back(c);
    } else if (!cases.empty() && line[0] == cases.back().name) {
      GoldenCase& c = cases.back();
      const std::vector<double> values = ParseDoubles(line, 2, line.size());
      if (line[1] == "logits") {
        // Exactly representable in c.dtype: the conversion is exact.
        c.logits = torch::tensor(values, torch::kFloat64).view(c.logits.sizes()).to(c.dtype);
      } else {
        c.labels = torch::tensor(values, torch::kFloat64).to(torch::kInt64);
      }
    }
  }
  return cases;
}

TEST(CrossEntropyTest, MatchesPyTorchGoldens) {
  constexpr double kRelativeTolerance = 1e-6;
  const std::vector<GoldenCase> cases = ReadCases();
  ASSERT_EQ(cases.size(), 7u);
  int bf16 = 0;
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(c.labels.defined());
    ASSERT_EQ(c.labels.size(0), c.logits.size(0));
    torch::Tensor loss = CrossEntropy(c.logits, c.labels, c.label_smoothing);
    EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
    EXPECT_EQ(loss.dim(), 0);
    EXPECT_NEAR(loss.item<double>(), c.expected, kRelativeTolerance * std::abs(c.expected));
    bf16 += c.dtype == torch::kBFloat16;
  }
  EXPECT_EQ(bf16, 2);
}

TEST(CrossEntropyTest, SmoothingByHand) {
  // Two classes, logits (0, 0): log-softmax = -ln 2 everywhere, whatever the smoothing.
  torch::Tensor logits = torch::zeros({3, 2});
  torch::Tensor labels = torch::tensor({0, 1, 1}, torch::kInt64);
  EXPECT_NEAR(CrossEntropy(logits, labels, 0.3).item<double>(), std::log(2.0), 1e-6);
  // One sample, logits (ln 3, 0) -> p = (3/4, 1/4); label 0, eps 0.2: target (0.9, 0.1).
  torch::Tensor one = torch::tensor({{std::log(3.0), 0.0}});
  const double expected = -(0.9 * std::log(0.75) + 0.1 * std::log(0.25));
  EXPECT_NEAR(CrossEntropy(one, torch::tensor({0}, torch::kInt64), 0.2).item<double>(), expected, 1e-6);
}

TEST(CrossEntropyTest, Bf16LogitsGetFloat32LossAndGradients) {
  torch::manual_seed(0);
  torch::Tensor logits = (torch::randn({4, 1000}) * 8).to(torch::kBFloat16).requires_grad_();
  torch::Tensor labels = torch::randint(0, 1000, {4}, torch::kInt64);
  torch::Tensor loss = CrossEntropy(logits, labels, 0.1);
  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
  // The same numbers as float32 logits (the bf16 -> float32 conversion is exact).
  torch::Tensor reference = CrossEntropy(logits.detach().to(torch::kFloat32), labels, 0.1);
  EXPECT_EQ(loss.item<float>(), reference.item<float>());
  loss.backward();
  ASSERT_TRUE(logits.grad().defined());
  EXPECT_EQ(logits.grad().scalar_type(), torch::kBFloat16);
}

TEST(CrossEntropyTest, Float32InsideCpuAutocast) {
  torch::manual_seed(1);
  torch::nn::Linear head(16, 10);
  torch::Tensor x = torch::randn({8, 16});
  torch::Tensor labels = torch::randint(0, 10, {8}, torch::kInt64);
  const bool was_enabled = at::autocast::is_autocast_enabled(at::kCPU);
  const at::ScalarType was_dtype = at::autocast::get_autocast_dtype(at::kCPU);
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, true);
  torch::Tensor logits = head->forward(x);  // bf16 under autocast
  torch::Tensor inside = CrossEntropy(logits, labels, 0.1);
  at::autocast::set_autocast_enabled(at::kCPU, was_enabled);
  at::autocast::set_autocast_dtype(at::kCPU, was_dtype);
  at::autocast::clear_cache();
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(inside.scalar_type(), torch::kFloat32);
  EXPECT_EQ(inside.item<float>(), CrossEntropy(logits.detach().to(torch::kFloat32), labels, 0.1).item<float>());
}

}  // namespace
}  // namespace forge
