// Times the training input pipeline: the Loader with TrainTransform (RandomResizedCrop to
// --size, random horizontal flip, uint8 N x H x W x 3 batches) over every sample of --data
// (an ImageFolder directory or a shard manifest), for --epochs epochs, on --threads workers.
// The consumer takes batches and does nothing else, so the figure is the pipeline's ceiling.
// Prints one line: images, seconds (dataset opening included), images/s, and the share of the
// time the consumer waited for a batch.
//   bazel run -c opt //lib/data:loader_benchmark -- --data=DIR_OR_MANIFEST --threads=2
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>

#include <gflags/gflags.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/data/augment.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/util/cores.h"

DEFINE_string(data, "", "ImageFolder directory or shard manifest. Required.");
DEFINE_int32(epochs, 1, "Epochs over all samples.");
DEFINE_int32(threads, 0, "Loader worker threads; 0 uses the cores this process may use.");
DEFINE_int32(batch_size, 64, "Samples per batch.");
DEFINE_int32(size, 224, "Output side of RandomResizedCrop.");
DEFINE_int32(prefetch, 4, "Batches prepared ahead.");
DEFINE_uint64(seed, 0, "Sampler and augmentation seed.");

namespace forge {
namespace {

int Main() {
  if (FLAGS_data.empty()) {
    std::fprintf(stderr, "loader_benchmark: --data is required\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(FLAGS_data);
  if (!dataset.ok()) {
    std::fprintf(stderr, "loader_benchmark: %s\n", dataset.status().ToString().c_str());
    return 1;
  }
  TrainTransformOptions transform;
  transform.size = FLAGS_size;
  transform.flip = true;
  LoaderOptions options;
  options.sampler.shuffle = true;
  options.sampler.seed = FLAGS_seed;
  options.sampler.batch_size = FLAGS_batch_size;
  options.height = options.width = FLAGS_size;
  options.threads = FLAGS_threads;
  options.prefetch_batches = FLAGS_prefetch;
  options.buffers = std::make_shared<BatchBufferPool>();  // Shared by the epochs, as in training.
  options.transform = [transform](absl::string_view encoded, uint64_t seed, uint8_t* out) {
    return TrainTransform(encoded, transform, seed, out);
  };
  int64_t images = 0, skipped = 0;
  double wait = 0;
  for (int epoch = 0; epoch < FLAGS_epochs; ++epoch) {
    Loader loader(**dataset, options, epoch);
    Batch batch;
    while (loader.Next(&batch)) images += batch.images.size(0);
    if (!loader.status().ok()) {
      std::fprintf(stderr, "loader_benchmark: %s\n", loader.status().ToString().c_str());
      return 1;
    }
    wait += loader.wait_seconds();
    skipped += loader.skipped();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int threads = FLAGS_threads > 0 ? FLAGS_threads : UsableCores();
  std::printf(
      "loader_benchmark: images=%lld skipped=%lld threads=%d seconds=%.4f images_per_second=%.1f "
      "wait_share=%.3f\n",
      static_cast<long long>(images), static_cast<long long>(skipped), threads, seconds,
      images / seconds, wait / seconds);
  return 0;
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  gflags::SetUsageMessage("loader_benchmark --data=DIR_OR_MANIFEST [--threads=N --epochs=E]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return forge::Main();
}
