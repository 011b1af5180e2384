// The training loss: cross-entropy with label smoothing, always computed in float32 so that bf16
// or fp16 logits from autocast lose no precision in the log-softmax and the mean.
#ifndef FORGE_LIB_TRAIN_LOSS_H_
#define FORGE_LIB_TRAIN_LOSS_H_

#include <torch/torch.h>

namespace forge {

// The mean over the batch of the cross-entropy of `logits` (N x C, any float dtype and device)
// against `labels` (N, int64 class indices, same device), with PyTorch's label smoothing: the
// target is (1 - label_smoothing) on the label plus label_smoothing / C on every class. Equals
// torch.nn.functional.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
// (checked against Python goldens). Returns a float32 scalar that keeps the autograd graph back to
// `logits`. label_smoothing must be in [0, 1] (PyTorch throws otherwise).
torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_LOSS_H_
