// channels_last for a whole module: nn::Module::to has no memory-format overload in LibTorch.
#ifndef FORGE_LIB_MODEL_MEMORY_FORMAT_H_
#define FORGE_LIB_MODEL_MEMORY_FORMAT_H_

#include <torch/torch.h>

namespace forge {

// Converts, in place, every 4-D parameter (and its gradient, if defined) and every 4-D buffer of
// `module` and its descendants to channels_last. The tensors keep their identity (set_data), so
// references held elsewhere (an optimizer's parameter list) see the new layout; optimizer
// *state* (momentum buffers) is not converted: convert before creating the optimizer.
// Values are unchanged; feed the model channels_last inputs to get channels_last kernels.
void ConvertToChannelsLast(torch::nn::Module& module);

}  // namespace forge

#endif  // FORGE_LIB_MODEL_MEMORY_FORMAT_H_
