#include "tools/compute_stats/compute_stats.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/data/dataset.h"
#include "lib/data/random.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"
#include "lib/util/progress.h"
#include "tools/compute_stats/channel_moments.h"

namespace forge {
namespace {

// Reads, decodes and transforms sample `i` as evaluation would. Every size it computes from
// the image is bounded: the decoder's max_pixels, then ShorterSideSize's bounds (checked on
// the header before decoding, so an extreme aspect ratio costs no decode).
absl::StatusOr<Image> LoadImage(const ImageDataset& dataset, size_t i,
                                const ComputeStatsOptions& options) {
  absl::StatusOr<EncodedSample> sample = dataset.Read(i);
  if (!sample.ok()) return sample.status();
  if (options.resize_shorter > 0) {
    absl::StatusOr<ImageHeader> header = ReadImageHeader(sample->image);
    if (!header.ok()) return header.status();
    absl::StatusOr<std::pair<int, int>> size =
        ShorterSideSize(header->width, header->height, options.resize_shorter);
    if (!size.ok()) return size.status();
  }
  DecodeOptions decode_options;
  decode_options.max_pixels = options.max_pixels;
  absl::StatusOr<Image> image = DecodeImage(sample->image, decode_options);
  if (!image.ok()) return image.status();
  if (options.resize_shorter > 0) {
    absl::StatusOr<Image> resized = ResizeShorterSide(*image, options.resize_shorter);
    if (!resized.ok()) return resized.status();
    *image = std::move(*resized);
  }
  if (options.center_crop > 0) *image = CenterCrop(*image, options.center_crop, options.center_crop);
  return image;
}

absl::Status ValidateOptions(const ComputeStatsOptions& options) {
  if (options.data.empty()) return absl::InvalidArgumentError("--data is required");
  if (options.resize_shorter < 0) return absl::InvalidArgumentError("--resize_shorter must be >= 0");
  if (options.center_crop < 0) return absl::InvalidArgumentError("--center_crop must be >= 0");
  if (options.center_crop > 0) {
    if (absl::Status status = CheckImageSize(options.center_crop, options.center_crop);
        !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--center_crop=", options.center_crop, ": ", status.message()));
    }
  }
  if (options.resize_shorter > kMaxImageSide) {
    return absl::InvalidArgumentError(absl::StrCat("--resize_shorter must be at most ",
                                                   kMaxImageSide));
  }
  if (options.sample < 0) return absl::InvalidArgumentError("--sample must be >= 0");
  if (options.threads < 0) return absl::InvalidArgumentError("--threads must be >= 0");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ChannelStats> ComputeStats(const ComputeStatsOptions& options) {
  if (absl::Status status = ValidateOptions(options); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<ImageDataset>> opened = OpenImageDataset(options.data);
  if (!opened.ok()) return opened.status();
  const ImageDataset& dataset = **opened;

  const std::vector<size_t> chosen = SampleIndices(
      dataset.size(), options.sample > 0 ? static_cast<size_t>(options.sample) : dataset.size(),
      options.seed);
  const int threads = std::max<int>(
      1, std::min<int>(options.threads > 0 ? options.threads : std::thread::hardware_concurrency(),
                       static_cast<int>(chosen.size())));

  // Each worker keeps its own moments; errors are kept per image so the skipped list comes out
  // in dataset order whatever the scheduling.
  std::vector<ChannelMoments> moments(threads);
  std::vector<std::string> errors(chosen.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::unique_ptr<ProgressBar> progress;
  if (options.progress) progress = std::make_unique<ProgressBar>("compute_stats", chosen.size());

  auto work = [&](int worker) {
    for (size_t i = next++; i < chosen.size() && !stop; i = next++) {
      absl::StatusOr<Image> image = LoadImage(dataset, chosen[i], options);
      if (image.ok()) {
        moments[worker].Add(*image);
      } else {
        errors[i] = std::string(image.status().message());
        if (options.strict) stop = true;
      }
      if (progress) progress->Add();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& thread : pool) thread.join();
  if (progress) progress->Finish();

  ChannelMoments total;
  for (const ChannelMoments& m : moments) total.Merge(m);

  ChannelStats stats;
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (errors[i].empty()) continue;
    const std::string path = dataset.Describe(chosen[i]);
    if (options.strict) {
      return absl::InvalidArgumentError(absl::StrCat("cannot read image ", path, ": ", errors[i]));
    }
    SkippedFile* skipped = stats.add_skipped();
    skipped->set_path(path);
    skipped->set_error(errors[i]);
  }
  stats.set_images_skipped(stats.skipped_size());
  stats.set_images(static_cast<int64_t>(chosen.size()) - stats.images_skipped());
  if (stats.images() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("no image in ", options.data, " could be read (",
                                                   stats.images_skipped(), " skipped)"));
  }
  stats.set_pixels(static_cast<int64_t>(total.pixels()));
  for (int c = 0; c < 3; ++c) {
    stats.add_mean(total.Mean(c));
    stats.add_std(total.Std(c));
    stats.add_sum(total.sum(c));
    stats.add_sum_of_squares(Uint128ToString(total.sum_of_squares(c)));
  }
  StatsOptions* used = stats.mutable_options();
  used->set_data(options.data);
  used->set_resize_shorter(options.resize_shorter);
  used->set_center_crop(options.center_crop);
  used->set_sample(options.sample);
  used->set_seed(options.seed);
  used->set_max_pixels(options.max_pixels);
  return stats;
}

}  // namespace forge
