// The model summary written beside a training run (proto/model_summary.proto): one row per
// module of a ResNet with its type, output shape, own parameters and depth, plus totals.
#ifndef FORGE_LIB_MODEL_SUMMARY_H_
#define FORGE_LIB_MODEL_SUMMARY_H_

#include <cstdint>
#include <vector>

#include "lib/model/resnet.h"
#include "proto/model_summary.pb.h"

namespace forge {

// Summarises `model` for one input of `input_shape` (N x 3 x H x W; default 1 x 3 x 224 x 224).
// Rows follow the state dict's module order (named_modules, parents before children) and skip
// the model itself: name as in the state dict ("layer1.0.conv1"), type without namespace and
// "Impl" ("Conv2d", "Bottleneck", "Sequential"), output shape (for a module that runs more than
// once, like a block's ReLU, that of its last call: the block's output), parameters the module
// owns itself (not its children's), depth = number of dots in the name (0 for conv1, bn1, relu,
// maxpool, layer1..4, avgpool, fc; 1 for blocks; 2 for their layers; 3 inside downsample).
// model is "resnet<depth>"; total and trainable (requires_grad) parameters are the model's.
//
// Runs one forward pass on zeros with the dtype and device of the model's parameters (give it
// the CPU model, or a CPU copy) under NoGradGuard in eval mode, then restores the training
// mode the model had (also if LibTorch throws c10::Error). BN running statistics are not
// touched (eval mode). CHECK-fails unless input_shape has 4 dimensions with 3 channels.
ModelSummary SummarizeResNet(ResNet& model,
                             const std::vector<int64_t>& input_shape = {1, 3, 224, 224});

}  // namespace forge

#endif  // FORGE_LIB_MODEL_SUMMARY_H_
