#include "lib/engine/input.h"

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

int TrainImageSize(const TrainConfig& config, int epoch) { return config.data().image_size(); }

LoaderOptions TrainLoaderOptions(const TrainConfig& config, int batch_size, int epoch) {
  const DataConfig& data = config.data();
  const int image_size = TrainImageSize(config, epoch);
  LoaderOptions options = CommonOptions(data, batch_size, image_size);
  options.sampler.seed = config.seed();
  options.sampler.drop_last_batch = true;
  TrainTransformOptions transform;
  transform.size = image_size;
  transform.min_scale = data.min_scale();
  transform.flip = data.flip();
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
