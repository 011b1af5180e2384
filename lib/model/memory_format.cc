// Parameter-by-parameter channels_last conversion.
#include "lib/model/memory_format.h"

namespace forge {

void ConvertToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  constexpr auto kChannelsLast = torch::MemoryFormat::ChannelsLast;
  for (torch::Tensor& parameter : module.parameters(/*recurse=*/true)) {
    if (parameter.dim() != 4) continue;
    parameter.set_data(parameter.data().contiguous(kChannelsLast));
    if (parameter.grad().defined()) {
      parameter.mutable_grad() = parameter.grad().contiguous(kChannelsLast);
    }
  }
  for (torch::Tensor& buffer : module.buffers(/*recurse=*/true)) {
    if (buffer.dim() == 4) buffer.set_data(buffer.data().contiguous(kChannelsLast));
  }
}

}  // namespace forge
