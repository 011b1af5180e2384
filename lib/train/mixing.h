// MixUp and CutMix of a training batch, as torchvision's classification reference applies them
// (RandomMixup, RandomCutmix): each image is mixed with its neighbour in the batch rolled by one,
// with a weight lambda ~ Beta(alpha, alpha); CutMix pastes the neighbour's box, sized by lambda
// and clipped to the image, then sets lambda to the share of the image left unpasted. The loss is
// lambda * CE(label) + (1 - lambda) * CE(neighbour's label), which with label smoothing is
// PyTorch's cross_entropy against the mixed one-hot targets. Every draw comes from `seed`, so a
// resumed run mixes exactly as an uninterrupted one.
//
//   const MixedBatch mixed = MixBatch(images, labels, options, MixSeed(seed, step));
//   torch::Tensor loss = MixedCrossEntropy(model->forward(mixed.images), mixed, 0.1);
#ifndef FORGE_LIB_TRAIN_MIXING_H_
#define FORGE_LIB_TRAIN_MIXING_H_

#include <cstdint>

#include <torch/torch.h>

namespace forge {

struct MixingOptions {
  double mixup_alpha = 0;           // > 0 enables MixUp
  double cutmix_alpha = 0;          // > 0 enables CutMix
  double probability = 1;           // of mixing a batch at all
  double switch_probability = 0.5;  // of CutMix rather than MixUp when both are enabled
  bool enabled() const { return mixup_alpha > 0 || cutmix_alpha > 0; }
};

struct MixedBatch {
  enum class Kind { kNone, kMixUp, kCutMix };
  Kind kind = Kind::kNone;
  torch::Tensor images;          // mixed (a new tensor), or the input when not mixed
  torch::Tensor labels;          // the images' own
  torch::Tensor partner_labels;  // labels rolled by one: image i's partner is image i - 1
  double lambda = 1;             // the weight of `labels`
  // Per image, the label with the larger weight (lambda >= 0.5: its own): what accuracy counts.
  const torch::Tensor& dominant_labels() const { return lambda >= 0.5 ? labels : partner_labels; }
};

// Mixes `images` (N x C x H x W float, normalised; any device and memory format) and their
// `labels` (N int64) as `options` says, drawing from `seed`. A batch of one, or disabled options,
// comes back unmixed.
MixedBatch MixBatch(const torch::Tensor& images, const torch::Tensor& labels, const MixingOptions& options,
                    uint64_t seed);

// The mean over the batch of lambda * CE(logits, labels) + (1 - lambda) * CE(logits, partner
// labels), each with label smoothing (CrossEntropy in loss.h); CE(logits, labels) when unmixed.
torch::Tensor MixedCrossEntropy(const torch::Tensor& logits, const MixedBatch& batch, double label_smoothing);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_MIXING_H_
