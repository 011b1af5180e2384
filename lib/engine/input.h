// The input pipelines of a TrainConfig: what `train`, `lr_find` and validation feed the model.
#ifndef FORGE_LIB_ENGINE_INPUT_H_
#define FORGE_LIB_ENGINE_INPUT_H_

#include "lib/data/augment.h"
#include "lib/data/loader.h"
#include "proto/train_config.pb.h"

namespace forge {

// The training crop size of `epoch` (1-based): data.image_size, or with data.progressive_resizing
// its start_size through start_epoch, end_size from end_epoch on, and in between the linear
// interpolation rounded to the nearest multiple of size_step (halves to even, as FFCV's np.round).
int TrainImageSize(const TrainConfig& config, int epoch);

// The global batch size of `epoch`: progressive_resizing.batch_sizes' entry for the epoch's
// training size, else data.batch_size.
int TrainBatchSize(const TrainConfig& config, int epoch);

// Training batches of `batch_size` images for `epoch`: shuffled by config.seed (the same order for
// any thread count; data.repeated_augmentations repeats each image), RandomResizedCrop to
// TrainImageSize(config, epoch) with data.min_scale, optional flip, then data.auto_augment's
// TrivialAugmentWide or RandAugment; the last partial batch dropped.
LoaderOptions TrainLoaderOptions(const TrainConfig& config, int batch_size, int epoch);

// Evaluation batches in dataset order: resize the shorter side to data.eval_size /
// data.eval_crop_ratio, center crop data.eval_size; threads, prefetch and corrupt records as
// the config's data says.
LoaderOptions EvalLoaderOptions(const TrainConfig& config, int batch_size);

// Batches in dataset order through EvalTransform with `transform` (resize, center crop of
// transform.size); threads, prefetch and corrupt records at LoaderOptions' defaults. What
// EvalLoaderOptions and `eval` (with its own crop flags) build on.
LoaderOptions CenterCropLoaderOptions(const EvalTransformOptions& transform, int batch_size);

// This process's share of `options`' batches when `world_size` processes split them (rank r
// takes the epoch's positions r, r + world_size, ...: see EpochSampler): training batches
// (drop_last_batch) drop the uneven tail, so that the processes' batch b together are one
// process's batch b; evaluation gives every image to exactly one process. Loader threads left at
// 0 become this process's share of the cores among the `local_processes` on its machine
// (CoreShare, lib/util/cores.h).
LoaderOptions RankShare(LoaderOptions options, int rank, int world_size, int local_processes);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_INPUT_H_
