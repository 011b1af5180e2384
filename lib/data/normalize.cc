#include "lib/data/normalize.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"

namespace forge {

absl::StatusOr<Normalizer> Normalizer::Create(const ChannelStats& stats, torch::Device device) {
  if (stats.mean_size() != 3 || stats.std_size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat("stats must hold 3 means and 3 stds, not ",
                                                   stats.mean_size(), " and ", stats.std_size()));
  }
  for (int c = 0; c < 3; ++c) {
    if (!(stats.std(c) > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("stats std[", c, "] = ", stats.std(c), " is not positive"));
    }
  }
  auto channel_tensor = [&](const google::protobuf::RepeatedField<double>& values) {
    return torch::tensor({values.Get(0) * 255, values.Get(1) * 255, values.Get(2) * 255}, torch::kFloat32)
        .view({1, 3, 1, 1})
        .to(device);
  };
  return Normalizer(channel_tensor(stats.mean()), channel_tensor(stats.std()), device);
}

torch::Tensor Normalizer::operator()(const torch::Tensor& images, bool channels_last) const {
  CHECK_EQ(images.dim(), 4);
  CHECK(images.scalar_type() == torch::kUInt8);
  torch::Tensor x = images.to(device_, /*non_blocking=*/true);
  if (x.size(3) == 3 && x.size(1) != 3) x = x.permute({0, 3, 1, 2});  // NHWC -> NCHW view
  CHECK_EQ(x.size(1), 3);
  x = x.contiguous(channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous)
          .to(torch::kFloat32);
  return x.sub_(mean_).div_(std_);
}

}  // namespace forge
