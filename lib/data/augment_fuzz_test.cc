// Fuzzes the training transform (decode a random crop, resize, flip, TrivialAugmentWide or
// RandAugment, colour jitter) and the evaluation transform on an encoded image. The input is the
// file, as is; the transforms' options and seed are drawn from a hash of it.
#include <cstdint>
#include <random>
#include <vector>

#include "lib/data/augment.h"
#include "lib/fuzzing/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes = forge::AsStringView(data, size);
  std::mt19937_64 draw(forge::FuzzInputHash(bytes));
  auto uniform = [&draw](double low, double high) { return std::uniform_real_distribution<double>(low, high)(draw); };

  forge::TrainTransformOptions train;
  train.size = 1 + draw() % 96;
  train.min_scale = uniform(0.01, 1.0);
  train.max_scale = uniform(train.min_scale, 1.0);
  train.min_ratio = uniform(0.1, 1.0);
  train.max_ratio = uniform(1.0, 10.0);
  train.flip = draw() % 2;
  train.auto_augment.policy = static_cast<forge::AutoAugmentOptions::Policy>(draw() % 3);
  train.auto_augment.num_ops = draw() % 4;
  train.auto_augment.num_magnitude_bins = 2 + draw() % 40;
  train.auto_augment.magnitude = draw() % train.auto_augment.num_magnitude_bins;
  train.brightness = draw() % 2 ? uniform(0, 1) : 0;
  train.contrast = draw() % 2 ? uniform(0, 1) : 0;
  train.saturation = draw() % 2 ? uniform(0, 1) : 0;
  train.decode.max_pixels = 4 << 20;
  std::vector<uint8_t> out(size_t{3} * train.size * train.size);
  (void)forge::TrainTransform(bytes, train, draw(), out.data());

  forge::EvalTransformOptions eval;
  eval.size = 1 + draw() % 96;
  eval.crop_ratio = uniform(0.05, 1.0);
  eval.resize_shorter = draw() % 2 ? eval.size + draw() % 64 : 0;
  eval.decode.max_pixels = 4 << 20;
  out.resize(size_t{3} * eval.size * eval.size);
  (void)forge::EvalTransform(bytes, eval, out.data());
  return 0;
}
