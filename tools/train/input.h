// The input pipelines of a TrainConfig: what `train` and `lr_find` feed the model.
#ifndef FORGE_TOOLS_TRAIN_INPUT_H_
#define FORGE_TOOLS_TRAIN_INPUT_H_

#include "lib/data/loader.h"
#include "proto/train_config.pb.h"

namespace forge {

// Training batches of `batch_size` images: shuffled by config.seed (the same order for any
// thread count), RandomResizedCrop to data.image_size with data.min_scale, optional flip, the
// last partial batch dropped.
LoaderOptions TrainLoaderOptions(const TrainConfig& config, int batch_size);

// Evaluation batches in dataset order: resize the shorter side to data.eval_size /
// data.eval_crop_ratio, center crop data.eval_size.
LoaderOptions EvalLoaderOptions(const TrainConfig& config, int batch_size);

}  // namespace forge

#endif  // FORGE_TOOLS_TRAIN_INPUT_H_
