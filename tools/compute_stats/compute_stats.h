// compute_stats: exact per-channel mean and standard deviation of a dataset, seen through the
// same resize and center crop that evaluation uses.
#ifndef FORGE_TOOLS_COMPUTE_STATS_COMPUTE_STATS_H_
#define FORGE_TOOLS_COMPUTE_STATS_COMPUTE_STATS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/stats.pb.h"

namespace forge {

struct ComputeStatsOptions {
  std::string data;            // an ImageFolder directory or a shard manifest
  int resize_shorter = 256;    // shorter side after resizing; 0 keeps the decoded size
  int center_crop = 224;       // square center crop; 0 keeps the whole (resized) image
  int64_t sample = 0;          // > 0: a uniform random sample of this many images
  uint64_t seed = 0;           // seed of the sample
  int threads = 0;             // 0: UsableCores(), the cores this process may use
  bool strict = false;         // an unreadable image fails the run instead of being skipped
  int64_t max_pixels = 178956970;  // decompression-bomb limit; <= 0 disables
  bool progress = true;        // report progress on stderr
};

// Reads the images of `options.data` and returns their statistics. The result is identical
// whatever `threads` is. Unreadable images, and images whose resize would exceed lib/image's
// size bounds (an extreme aspect ratio; see ShorterSideSize), are skipped and listed in
// dataset order (or, with `strict`, the first of them fails the run with InvalidArgument
// naming the file). Fails if the dataset cannot be listed, if the options are invalid, if no
// image could be read, or (ResourceExhausted / Internal, naming the file) if reading one threw.
absl::StatusOr<ChannelStats> ComputeStats(const ComputeStatsOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_COMPUTE_STATS_COMPUTE_STATS_H_
