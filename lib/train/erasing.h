// Random erasing (Zhong et al.), as torchvision's RandomErasing applies it to each normalised
// training image: with probability p, a box whose area is U(min_scale, max_scale) of the image's
// and whose aspect ratio (height / width) is log-uniform in [min_ratio, max_ratio] (up to 10
// attempts to fit strictly inside the image; none fitting leaves the image alone) is set to
// `value`, or to standard normal noise. Box sides are round(sqrt(area * ratio)) and
// round(sqrt(area / ratio)), halves to even (Python's round), placed uniformly. The draws are
// ours, from a seed per image derived from its position in the epoch's global order (the same
// for a resumed run and for any number of processes); the noise comes from torch's generator of
// the images' device (saved in checkpoints).
//
//   images = EraseBatch(images, options, MixSeed(seed, epoch), first_position, processes);
#ifndef FORGE_LIB_TRAIN_ERASING_H_
#define FORGE_LIB_TRAIN_ERASING_H_

#include <cstdint>
#include <optional>
#include <random>

#include <torch/torch.h>

namespace forge {

struct ErasingOptions {
  double probability = 0;  // > 0 enables
  double min_scale = 0.02, max_scale = 0.33;
  double min_ratio = 0.3, max_ratio = 3.3;
  double value = 0;           // in normalised units
  bool random_value = false;  // standard normal noise instead of `value`
  bool enabled() const { return probability > 0; }
};

struct ErasedBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// Whether one image of height x width is erased, and where (torchvision's get_params).
std::optional<ErasedBox> SampleErasedBox(int64_t height, int64_t width, const ErasingOptions& options,
                                         std::mt19937_64& engine);

// `images` (N x C x H x W float; any device and memory format) with each image's box erased,
// image k's drawn from MixSeed(seed, first_position + k * position_stride); the input itself when
// none is. No host sync.
torch::Tensor EraseBatch(const torch::Tensor& images, const ErasingOptions& options, uint64_t seed,
                         int64_t first_position = 0, int64_t position_stride = 1);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_ERASING_H_
