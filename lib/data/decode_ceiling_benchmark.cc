// The decode-only ceiling of the input pipeline, single-threaded, on the bytes of every
// sample of --data (ImageFolder directory or shard manifest) already in memory:
//   turbojpeg   plain libjpeg-turbo: tjDecompress2 of the whole JPEG to RGB with default flags
//               (accurate integer IDCT, fancy upsampling: the settings DecodeImage uses too);
//               non-JPEG samples are left out of every figure
//   decode      our DecodeImage (the libjpeg API, Pillow-exact; same library)
//   train       our TrainTransform (DecodeRegion + Resize + flip), size 224, no loader
// Each is timed over --epochs passes over all samples, --rounds times; the fastest round is
// printed as one line of key=value pairs (rates in images per second).
//   bazel run -c opt //lib/data:decode_ceiling_benchmark -- --data=DIR_OR_MANIFEST [--epochs=10]
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gflags/gflags.h>

#include "absl/status/statusor.h"
#include "lib/data/augment.h"
#include "lib/data/dataset.h"
#include "lib/data/random.h"
#include "lib/image/decode.h"

DEFINE_string(data, "", "ImageFolder directory or shard manifest. Required.");
DEFINE_int32(rounds, 3, "Timed rounds; the fastest is reported.");
DEFINE_int32(epochs, 1, "Passes over all samples in one round.");
DEFINE_string(only, "", "Time only this one: turbojpeg, decode or train (for profiling).");

namespace forge {
namespace {

template <typename F>
double FastestSeconds(int rounds, F pass) {
  double best = 1e300;
  for (int r = 0; r < rounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int epoch = 0; epoch < FLAGS_epochs; ++epoch) pass();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

int Main() {
  if (FLAGS_data.empty()) {
    std::fprintf(stderr, "decode_ceiling_benchmark: --data is required\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(FLAGS_data);
  if (!dataset.ok()) {
    std::fprintf(stderr, "decode_ceiling_benchmark: %s\n", dataset.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> jpegs;
  int64_t bytes = 0, others = 0;
  for (size_t i = 0; i < (*dataset)->size(); ++i) {
    absl::StatusOr<EncodedSample> sample = (*dataset)->Read(i);
    if (!sample.ok()) {
      std::fprintf(stderr, "decode_ceiling_benchmark: %s\n", sample.status().ToString().c_str());
      return 1;
    }
    if (DetectFormat(sample->image) != ImageFormat::kJpeg) {
      ++others;
      continue;
    }
    bytes += static_cast<int64_t>(sample->image.size());
    jpegs.push_back(std::move(sample->image));
  }
  if (jpegs.empty()) {
    std::fprintf(stderr, "decode_ceiling_benchmark: no JPEG samples in %s\n", FLAGS_data.c_str());
    return 1;
  }
  const int64_t n = static_cast<int64_t>(jpegs.size());
  const int64_t decodes = n * FLAGS_epochs;  // Per round.
  const bool all = FLAGS_only.empty();
  int failures = 0;
  int64_t pixels = 0;

  double turbojpeg = 0;
  if (all || FLAGS_only == "turbojpeg") {
    tjhandle handle = tjInitDecompress();
    std::vector<unsigned char> rgb;
    turbojpeg = FastestSeconds(FLAGS_rounds, [&] {
      pixels = 0;
      for (const std::string& jpeg : jpegs) {
        const auto* data = reinterpret_cast<const unsigned char*>(jpeg.data());
        int width = 0, height = 0, subsampling = 0, colorspace = 0;
        if (tjDecompressHeader3(handle, data, jpeg.size(), &width, &height, &subsampling,
                                &colorspace) != 0) {
          ++failures;
          continue;
        }
        rgb.resize(static_cast<size_t>(width) * height * 3);
        if (tjDecompress2(handle, data, jpeg.size(), rgb.data(), width, 0, height, TJPF_RGB, 0) != 0) {
          ++failures;
        }
        pixels += int64_t{width} * height;
      }
    });
    tjDestroy(handle);
  }
  double decode = 0;
  if (all || FLAGS_only == "decode") {
    decode = FastestSeconds(FLAGS_rounds, [&] {
      for (const std::string& jpeg : jpegs) {
        if (!DecodeImage(jpeg).ok()) ++failures;
      }
    });
  }
  double train = 0;
  if (all || FLAGS_only == "train") {
    const TrainTransformOptions options;
    std::vector<uint8_t> out(static_cast<size_t>(options.size) * options.size * 3);
    uint64_t draw = 0;  // A new crop every time, as in training.
    train = FastestSeconds(FLAGS_rounds, [&] {
      for (const std::string& jpeg : jpegs) {
        if (!TrainTransform(jpeg, options, MixSeed(1, draw++), out.data()).ok()) ++failures;
      }
    });
  }
  const auto rate = [decodes](double seconds) { return seconds > 0 ? decodes / seconds : 0.0; };
  std::printf(
      "decode_ceiling_benchmark: images=%lld decodes_per_round=%lld non_jpeg_left_out=%lld "
      "mean_bytes=%.0f "
      "mean_pixels=%.0f failures=%d turbojpeg_images_per_second=%.1f "
      "decode_image_images_per_second=%.1f train_transform_images_per_second=%.1f\n",
      static_cast<long long>(n), static_cast<long long>(decodes), static_cast<long long>(others),
      static_cast<double>(bytes) / n,
      static_cast<double>(pixels) / n, failures, rate(turbojpeg), rate(decode), rate(train));
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  gflags::SetUsageMessage("decode_ceiling_benchmark --data=DIR_OR_MANIFEST [--rounds=3]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return forge::Main();
}
