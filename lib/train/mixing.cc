#include "lib/train/mixing.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "lib/train/loss.h"

namespace forge {
namespace {

// Beta(alpha, alpha) as X / (X + Y) with X, Y ~ Gamma(alpha, 1): what torch._sample_dirichlet
// draws for two equal concentrations.
double SampleBeta(double alpha, std::mt19937_64& engine) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  const double x = gamma(engine), y = gamma(engine);
  return x + y > 0 ? x / (x + y) : 0.5;
}

}  // namespace

MixedBatch MixBatch(const torch::Tensor& images, const torch::Tensor& labels, const MixingOptions& options,
                    uint64_t seed) {
  MixedBatch batch;
  batch.images = images;
  batch.labels = labels;
  batch.partner_labels = labels;
  if (!options.enabled() || images.size(0) < 2) return batch;
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  if (uniform(engine) >= options.probability) return batch;
  const bool cutmix = options.cutmix_alpha > 0 &&
                      (options.mixup_alpha <= 0 || uniform(engine) < options.switch_probability);
  torch::NoGradGuard no_grad;
  const torch::Tensor partners = images.roll(1, 0);
  batch.partner_labels = labels.roll(1, 0);
  if (!cutmix) {
    batch.kind = MixedBatch::Kind::kMixUp;
    batch.lambda = SampleBeta(options.mixup_alpha, engine);
    batch.images = images * batch.lambda + partners * (1.0 - batch.lambda);
    return batch;
  }
  batch.kind = MixedBatch::Kind::kCutMix;
  const double lambda = SampleBeta(options.cutmix_alpha, engine);
  const int64_t height = images.size(2), width = images.size(3);
  const int64_t center_x = std::uniform_int_distribution<int64_t>(0, width - 1)(engine);
  const int64_t center_y = std::uniform_int_distribution<int64_t>(0, height - 1)(engine);
  const double r = 0.5 * std::sqrt(1.0 - lambda);
  const int64_t half_w = static_cast<int64_t>(r * static_cast<double>(width));
  const int64_t half_h = static_cast<int64_t>(r * static_cast<double>(height));
  const int64_t x1 = std::max<int64_t>(center_x - half_w, 0), x2 = std::min(center_x + half_w, width);
  const int64_t y1 = std::max<int64_t>(center_y - half_h, 0), y2 = std::min(center_y + half_h, height);
  batch.images = images.clone();
  using torch::indexing::Slice;
  batch.images.index_put_({Slice(), Slice(), Slice(y1, y2), Slice(x1, x2)},
                          partners.index({Slice(), Slice(), Slice(y1, y2), Slice(x1, x2)}));
  // The share of the image left its own, after clipping the box.
  batch.lambda = 1.0 - static_cast<double>((x2 - x1) * (y2 - y1)) / static_cast<double>(width * height);
  return batch;
}

torch::Tensor MixedCrossEntropy(const torch::Tensor& logits, const MixedBatch& batch, double label_smoothing) {
  const torch::Tensor own = CrossEntropy(logits, batch.labels, label_smoothing);
  if (batch.kind == MixedBatch::Kind::kNone) return own;
  return own * batch.lambda + CrossEntropy(logits, batch.partner_labels, label_smoothing) * (1.0 - batch.lambda);
}

}  // namespace forge
