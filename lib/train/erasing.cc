#include "lib/train/erasing.h"

#include <cmath>
#include <vector>

#include "lib/data/random.h"

namespace forge {
namespace {

// Uniform in [low, high) from the engine's top 53 bits.
double Uniform(std::mt19937_64& engine, double low, double high) {
  const double unit = static_cast<double>(engine() >> 11) * 0x1.0p-53;
  return low + (high - low) * unit;
}

}  // namespace

std::optional<ErasedBox> SampleErasedBox(int64_t height, int64_t width, const ErasingOptions& options,
                                         std::mt19937_64& engine) {
  if (!(Uniform(engine, 0, 1) < options.probability)) return std::nullopt;
  const double area = static_cast<double>(height * width);
  const double log_min = std::log(options.min_ratio), log_max = std::log(options.max_ratio);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase_area = area * Uniform(engine, options.min_scale, options.max_scale);
    const double ratio = std::exp(Uniform(engine, log_min, log_max));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(erase_area * ratio)));
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(erase_area / ratio)));
    if (!(h < height && w < width)) continue;
    ErasedBox box;
    box.height = h;
    box.width = w;
    box.top = static_cast<int64_t>(UniformBelow(engine, static_cast<uint64_t>(height - h + 1)));
    box.left = static_cast<int64_t>(UniformBelow(engine, static_cast<uint64_t>(width - w + 1)));
    return box;
  }
  return std::nullopt;
}

torch::Tensor EraseBatch(const torch::Tensor& images, const ErasingOptions& options, uint64_t seed,
                         int64_t first_position, int64_t position_stride) {
  if (!options.enabled()) return images;
  const int64_t n = images.size(0), height = images.size(2), width = images.size(3);
  // Per image: top, bottom, left, right (an empty box for images left alone).
  std::vector<int64_t> bounds(4 * n, 0);
  bool any = false;
  for (int64_t k = 0; k < n; ++k) {
    std::mt19937_64 engine(MixSeed(seed, static_cast<uint64_t>(first_position + k * position_stride)));
    const std::optional<ErasedBox> box = SampleErasedBox(height, width, options, engine);
    if (!box) continue;
    any = true;
    bounds[4 * k] = box->top;
    bounds[4 * k + 1] = box->top + box->height;
    bounds[4 * k + 2] = box->left;
    bounds[4 * k + 3] = box->left + box->width;
  }
  if (!any) return images;
  torch::NoGradGuard no_grad;
  const auto on_device = torch::TensorOptions(torch::kInt64).device(images.device());
  const torch::Tensor box = torch::tensor(bounds, torch::kInt64).view({n, 4, 1, 1}).to(on_device, /*non_blocking=*/true);
  const torch::Tensor rows = torch::arange(height, on_device).view({1, height, 1});
  const torch::Tensor cols = torch::arange(width, on_device).view({1, 1, width});
  using torch::indexing::Slice;
  const torch::Tensor inside = (rows >= box.select(1, 0)) & (rows < box.select(1, 1)) & (cols >= box.select(1, 2)) &
                               (cols < box.select(1, 3));  // n x H x W
  const torch::Tensor mask = inside.unsqueeze(1);          // n x 1 x H x W
  if (options.random_value) return torch::where(mask, torch::randn_like(images), images);
  return images.masked_fill(mask, options.value);
}

}  // namespace forge
