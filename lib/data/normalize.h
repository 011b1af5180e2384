// The last step of the input pipeline, run on the consumer's device: uint8 image batches from
// the Loader become normalised float tensors, (x / 255 - mean) / std per channel, with the mean
// and std of a stats proto (compute_stats). Moving uint8 to the device first sends a quarter of
// the bytes a float batch would.
#ifndef FORGE_LIB_DATA_NORMALIZE_H_
#define FORGE_LIB_DATA_NORMALIZE_H_

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "proto/stats.pb.h"

namespace forge {

class Normalizer {
 public:
  // Fails with InvalidArgument unless `stats` has 3 means and 3 positive standard deviations.
  static absl::StatusOr<Normalizer> Create(const ChannelStats& stats, torch::Device device);

  // `images`: uint8, N x H x W x 3 or N x 3 x H x W. Returns float32 N x 3 x H x W on the device,
  // in channels_last memory format when `channels_last` (what convolutions prefer on GPUs and
  // what an N x H x W x 3 batch already is), contiguous otherwise.
  torch::Tensor operator()(const torch::Tensor& images, bool channels_last = true) const;

  torch::Device device() const { return device_; }

 private:
  Normalizer(torch::Tensor mean, torch::Tensor std, torch::Device device)
      : mean_(std::move(mean)), std_(std::move(std)), device_(device) {}

  torch::Tensor mean_;  // 1 x 3 x 1 x 1, in 0..255 units, on device_
  torch::Tensor std_;
  torch::Device device_;
};

}  // namespace forge

#endif  // FORGE_LIB_DATA_NORMALIZE_H_
