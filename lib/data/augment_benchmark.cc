// The cost of TrivialAugmentWide and RandAugment in the training transform, single-threaded, on
// the bytes of every JPEG sample of --data (ImageFolder directory or shard manifest) already in
// memory, per image:
//   train       TrainTransform: decode the crop, RandomResizedCrop to --size, flip
//   train_ta    the same + TrivialAugmentWide (31 bins)
//   train_ra    the same + RandAugment (2 ops, magnitude 9 of 31 bins)
//   op_<Op>     ApplyAugmentOp of each of the 14 ops alone at TrivialAugmentWide's middle
//               magnitude (bin 15 of 31, positive: ShearX 0.495, Rotate 67.5 degrees,
//               Posterize 5 bits, Solarize 127.5, ...) on --size x --size images (the photos'
//               training crops); each call copies the crop first, so op_Identity is that copy
// The figures are interleaved: for every sample, the three transforms run one after the other
// with the same seed (so the same crop and flip: train_ta - train is the policy's own cost),
// then the 14 ops on its crop, each call timed alone; a change in the machine's load thus hits
// all figures alike. A round is --epochs passes over the samples (after an untimed pass over
// the first 20); of --rounds rounds the fastest per figure is printed, in microseconds per
// image, as one line of key=value pairs (the keys ci/bench/augment_baseline.py prints for
// torchvision). ci/bench/bench_augment.sh runs both.
//   bazel run -c opt //lib/data:augment_benchmark -- --data=DIR_OR_MANIFEST [--epochs=2]
#include <gflags/gflags.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/data/augment.h"
#include "lib/data/auto_augment.h"
#include "lib/data/dataset.h"
#include "lib/data/random.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"

DEFINE_string(data, "", "ImageFolder directory or shard manifest. Required.");
DEFINE_int32(rounds, 3, "Timed rounds; the fastest per figure is reported.");
DEFINE_int32(epochs, 1, "Passes over all samples in one round.");
DEFINE_int32(size, 224, "Output side of RandomResizedCrop, and the side of the op images.");
DEFINE_string(only, "", "Time only this figure (train, train_ta, train_ra or op_<Op>).");

namespace forge {
namespace {

// Samples run through every figure untimed first.
constexpr size_t kWarmUp = 20;

// One timed figure: `run(sample, seed)` does its work on one sample.
struct Figure {
  std::string name;
  std::function<bool(size_t, uint64_t)> run;  // false: the sample failed.
  double best_seconds = 1e300;                // Of the rounds so far.
};

int Main() {
  if (FLAGS_data.empty()) {
    std::fprintf(stderr, "augment_benchmark: --data is required\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(FLAGS_data);
  if (!dataset.ok()) {
    std::fprintf(stderr, "augment_benchmark: %s\n", dataset.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> jpegs;
  for (size_t i = 0; i < (*dataset)->size(); ++i) {
    absl::StatusOr<EncodedSample> sample = (*dataset)->Read(i);
    if (!sample.ok()) {
      std::fprintf(stderr, "augment_benchmark: %s\n", sample.status().ToString().c_str());
      return 1;
    }
    if (DetectFormat(sample->image) == ImageFormat::kJpeg) {
      jpegs.push_back(std::move(sample->image));
    }
  }
  if (jpegs.empty()) {
    std::fprintf(stderr, "augment_benchmark: no JPEG samples in %s\n", FLAGS_data.c_str());
    return 1;
  }

  TrainTransformOptions plain;
  plain.size = FLAGS_size;
  std::vector<uint8_t> out(static_cast<size_t>(plain.size) * plain.size * 3);
  // The photos' training crops, for the ops alone.
  std::vector<Image> crops;
  for (size_t i = 0; i < jpegs.size(); ++i) {
    Image crop(plain.size, plain.size);
    if (!TrainTransform(jpegs[i], plain, MixSeed(2, i), crop.pixels.data()).ok()) {
      std::fprintf(stderr, "augment_benchmark: sample %zu cannot be decoded\n", i);
      return 1;
    }
    crops.push_back(std::move(crop));
  }

  std::vector<Figure> figures;
  for (const auto& [name, policy] :
       {std::pair{"train", AutoAugmentOptions::Policy::kNone},
        std::pair{"train_ta", AutoAugmentOptions::Policy::kTrivialAugmentWide},
        std::pair{"train_ra", AutoAugmentOptions::Policy::kRandAugment}}) {
    TrainTransformOptions options = plain;
    options.auto_augment.policy = policy;
    figures.push_back({name, [&jpegs, &out, options](size_t i, uint64_t seed) {
                         return TrainTransform(jpegs[i], options, seed, out.data()).ok();
                       }});
  }
  constexpr int kMiddleBin = 15;
  Image work;
  for (int i = 0; i < kNumAugmentOps; ++i) {
    const AugmentOp op = static_cast<AugmentOp>(i);
    const std::vector<double> table = AugmentMagnitudes(
        AutoAugmentOptions::Policy::kTrivialAugmentWide, op, 31, plain.size, plain.size);
    const double magnitude = table.empty() ? 0.0 : table[kMiddleBin];
    figures.push_back({absl::StrCat("op_", AugmentOpName(op)),
                       [&crops, &work, op, magnitude](size_t sample, uint64_t) {
                         work = crops[sample];  // Same size every time: a copy, no allocation.
                         ApplyAugmentOp(op, magnitude, &work);
                         return true;
                       }});
  }
  if (!FLAGS_only.empty()) {
    figures.erase(std::remove_if(figures.begin(), figures.end(),
                                 [](const Figure& f) { return f.name != FLAGS_only; }),
                  figures.end());
  }

  int failures = 0;
  uint64_t draw = 0;  // New crops and ops every time, as in training.
  // One pass over the first `samples` samples, every figure in turn per sample; adds each
  // figure's time to `seconds`.
  const auto pass = [&](size_t samples, std::vector<double>& seconds) {
    for (size_t i = 0; i < samples; ++i) {
      const uint64_t seed = MixSeed(1, draw++);
      for (size_t f = 0; f < figures.size(); ++f) {
        const auto start = std::chrono::steady_clock::now();
        if (!figures[f].run(i, seed)) ++failures;
        seconds[f] +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
    }
  };
  std::vector<double> seconds(figures.size(), 0.0);
  pass(std::min(kWarmUp, jpegs.size()), seconds);
  for (int round = 0; round < FLAGS_rounds; ++round) {
    std::fill(seconds.begin(), seconds.end(), 0.0);
    for (int epoch = 0; epoch < FLAGS_epochs; ++epoch) pass(jpegs.size(), seconds);
    for (size_t f = 0; f < figures.size(); ++f) {
      figures[f].best_seconds = std::min(figures[f].best_seconds, seconds[f]);
    }
  }

  const double images_per_round = static_cast<double>(jpegs.size()) * FLAGS_epochs;
  std::string line = absl::StrCat("augment_benchmark: images=", jpegs.size(),
                                  " epochs=", FLAGS_epochs, " failures=", failures);
  for (const Figure& figure : figures) {
    char value[32];
    std::snprintf(value, sizeof(value), "%.2f", figure.best_seconds / images_per_round * 1e6);
    absl::StrAppend(&line, " ", figure.name, "_us=", value);
  }
  std::printf("%s\n", line.c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  gflags::SetUsageMessage("augment_benchmark --data=DIR_OR_MANIFEST [--rounds=3 --epochs=1]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return forge::Main();
}
