#include "lib/engine/input.h"

#include <algorithm>
#include <cmath>

#include "lib/data/augment.h"
#include "lib/util/cores.h"

namespace forge {
namespace {

LoaderOptions CommonOptions(const DataConfig& data, int batch_size, int image_size) {
  LoaderOptions options;
  options.sampler.batch_size = batch_size;
  options.height = options.width = image_size;
  options.threads = data.loader_threads();
  options.prefetch_batches = data.prefetch_batches();
  options.skip_corrupt = data.skip_corrupt();
  return options;
}

}  // namespace

int TrainImageSize(const TrainConfig& config, int epoch) {
  if (!config.data().has_progressive_resizing()) return config.data().image_size();
  const ProgressiveResizingConfig& resizing = config.data().progressive_resizing();
  if (epoch <= resizing.start_epoch()) return resizing.start_size();
  if (epoch >= resizing.end_epoch()) return resizing.end_size();
  const double size = resizing.start_size() + static_cast<double>(resizing.end_size() - resizing.start_size()) *
                                                  (epoch - resizing.start_epoch()) /
                                                  (resizing.end_epoch() - resizing.start_epoch());
  const int step = resizing.has_size_step() ? resizing.size_step() : 32;
  return static_cast<int>(std::nearbyint(size / step)) * step;
}

int TrainBatchSize(const TrainConfig& config, int epoch) {
  const int size = TrainImageSize(config, epoch);
  for (const SizeBatch& size_batch : config.data().progressive_resizing().batch_sizes()) {
    if (size_batch.size() == size) return size_batch.batch_size();
  }
  return config.data().batch_size();
}

LoaderOptions TrainLoaderOptions(const TrainConfig& config, int batch_size, int epoch) {
  const DataConfig& data = config.data();
  const int image_size = TrainImageSize(config, epoch);
  LoaderOptions options = CommonOptions(data, batch_size, image_size);
  options.sampler.seed = config.seed();
  options.sampler.drop_last_batch = true;
  options.sampler.repeats = std::max(1, data.repeated_augmentations());
  TrainTransformOptions transform;
  transform.size = image_size;
  transform.min_scale = data.min_scale();
  transform.flip = data.flip();
  if (data.has_auto_augment()) {  // resolved: a known policy, every field set
    const AutoAugmentConfig& augment = data.auto_augment();
    transform.auto_augment.policy = *ParseAutoAugmentPolicy(augment.policy());
    transform.auto_augment.num_ops = augment.num_ops();
    transform.auto_augment.magnitude = augment.magnitude();
    transform.auto_augment.num_magnitude_bins = augment.num_magnitude_bins();
  }
  options.transform = [transform](absl::string_view encoded, uint64_t seed, uint8_t* out) {
    return TrainTransform(encoded, transform, seed, out);
  };
  return options;
}

LoaderOptions CenterCropLoaderOptions(const EvalTransformOptions& transform, int batch_size) {
  LoaderOptions options;
  options.sampler.batch_size = batch_size;
  options.sampler.shuffle = false;
  options.height = options.width = transform.size;
  options.transform = [transform](absl::string_view encoded, uint64_t, uint8_t* out) {
    return EvalTransform(encoded, transform, out);
  };
  return options;
}

LoaderOptions EvalLoaderOptions(const TrainConfig& config, int batch_size) {
  const DataConfig& data = config.data();
  EvalTransformOptions transform;
  transform.size = data.eval_size();
  transform.crop_ratio = data.eval_crop_ratio();
  LoaderOptions options = CenterCropLoaderOptions(transform, batch_size);
  options.threads = data.loader_threads();
  options.prefetch_batches = data.prefetch_batches();
  options.skip_corrupt = data.skip_corrupt();
  return options;
}

LoaderOptions RankShare(LoaderOptions options, int rank, int world_size, int local_processes) {
  options.sampler.rank = rank;
  options.sampler.world_size = world_size;
  options.sampler.uneven =
      options.sampler.drop_last_batch ? SamplerOptions::Uneven::kDrop : SamplerOptions::Uneven::kUnequal;
  if (options.threads == 0) options.threads = CoreShare(local_processes);
  return options;
}

}  // namespace forge
