#include "tools/compute_stats/compute_stats.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/data/dataset.h"
#include "lib/data/random.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"
#include "lib/parallel/ordered_pipeline.h"
#include "lib/util/cores.h"
#include "lib/util/exception_status.h"
#include "lib/util/progress.h"
#include "tools/compute_stats/channel_moments.h"

namespace forge {
namespace {

// Results the workers may hold ahead of the merge, per thread.
constexpr int64_t kWindowPerThread = 16;

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

// The moments of one image, or why it cannot be used (`error`, to skip it). Exceptions
// (std::bad_alloc, ...) are caught: on a worker thread they would end the process.
struct ImageMoments {
  ChannelMoments moments;
  std::string error;
};

absl::StatusOr<ImageMoments> MeasureImage(const ImageDataset& dataset, size_t i,
                                          const ComputeStatsOptions& options) {
  ImageMoments result;
  try {
    absl::StatusOr<Image> image = LoadImage(dataset, i, options);
    if (image.ok()) {
      result.moments.Add(*image);
    } else {
      result.error = std::string(image.status().message());
    }
  } catch (...) {
    return CurrentExceptionStatus(absl::StrCat("reading image ", dataset.Describe(i)));
  }
  return result;
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
  PipelineOptions pipeline;
  pipeline.threads = options.threads > 0 ? options.threads : UsableCores();
  pipeline.window = kWindowPerThread * pipeline.threads;

  std::unique_ptr<ProgressBar> progress;
  if (options.progress) progress = std::make_unique<ProgressBar>("compute_stats", chosen.size());
  // Merged in dataset order on this thread, so the skipped list comes out in that order
  // whatever the scheduling (the sums are exact integers: any order gives the same totals).
  ChannelMoments total;
  ChannelStats stats;
  const absl::Status status = RunOrderedPipeline<ImageMoments>(
      static_cast<int64_t>(chosen.size()), pipeline,
      [&](int64_t i) { return MeasureImage(dataset, chosen[i], options); },
      [&](int64_t i, ImageMoments image) -> absl::Status {
        if (progress) progress->Add();
        if (image.error.empty()) {
          total.Merge(image.moments);
          return absl::OkStatus();
        }
        const std::string path = dataset.Describe(chosen[i]);
        if (options.strict) {
          return absl::InvalidArgumentError(
              absl::StrCat("cannot read image ", path, ": ", image.error));
        }
        SkippedFile* skipped = stats.add_skipped();
        skipped->set_path(path);
        skipped->set_error(image.error);
        return absl::OkStatus();
      });
  if (progress) progress->Finish();
  if (!status.ok()) return status;

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
