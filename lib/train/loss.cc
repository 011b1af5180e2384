// CrossEntropy of loss.h.
#include "lib/train/loss.h"

#include <c10/core/DispatchKeySet.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

namespace forge {

torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing) {
  // float32 even when called inside an autocast region (autocast would leave it alone on CUDA
  // but its op lists differ per device and version): autocast is off for these ops, and the cast
  // is explicit (a no-op for float32 logits; its backward casts the gradient back).
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  return torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat32), labels,
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
}

}  // namespace forge
