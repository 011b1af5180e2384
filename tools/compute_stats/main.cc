// compute_stats: per-channel mean and std of a dataset, written as a stats proto.

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/strings/str_format.h"
#include "lib/io/proto_file.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "tools/compute_stats/compute_stats.h"

DEFINE_string(data, "", "Dataset: an ImageFolder directory (root/<class>/<image>) or a manifest written by shard.");
DEFINE_string(out, "", "Stats proto to write (.pb, .txtpb, .json; - for stdout). Required.");
DEFINE_int32(resize_shorter, 256, "Resize the shorter side to this first; 0 disables.");
DEFINE_int32(center_crop, 224, "Then take a square center crop of this size; 0 disables.");
DEFINE_int64(sample, 0, "Use a uniform random sample of this many images; 0 uses all.");
DEFINE_uint64(seed, 0, "Seed of --sample.");
DEFINE_int32(threads, 0, "Decoding threads; 0 uses the cores this process may use (affinity mask, cgroup CPU quota).");
DEFINE_bool(strict, false, "Fail on the first unreadable image instead of skipping it.");
DEFINE_int64(max_pixels, 178956970, "Refuse images with more pixels than this; 0 disables.");
DEFINE_bool(progress, true, "Report progress on stderr.");

int main(int argc, char** argv) {
  forge::InitTool(
      "Computes per-channel mean/std over a dataset.\n"
      "  compute_stats --data=train/ --out=stats.txtpb [--resize_shorter=256 --center_crop=224]",
      &argc, &argv);
  if (FLAGS_out.empty()) {
    return forge::ExitWithUsageError("--out is required");
  }
  forge::ComputeStatsOptions options;
  options.data = FLAGS_data;
  options.resize_shorter = FLAGS_resize_shorter;
  options.center_crop = FLAGS_center_crop;
  options.sample = FLAGS_sample;
  options.seed = FLAGS_seed;
  options.threads = FLAGS_threads;
  options.strict = FLAGS_strict;
  options.max_pixels = FLAGS_max_pixels;
  options.progress = FLAGS_progress;

  absl::StatusOr<forge::ChannelStats> stats = forge::ComputeStats(options);
  if (!stats.ok()) {
    return forge::ExitWithError(stats.status());
  }
  for (const forge::SkippedFile& skipped : stats->skipped()) {
    LOG(WARNING) << "skipped " << skipped.path() << ": " << skipped.error();
  }
  if (absl::Status status = forge::WriteProtoFile(FLAGS_out, *stats); !status.ok()) {
    return forge::ExitWithError(status);
  }
  if (FLAGS_out == "-") return forge::ExitWithSummary("");
  return forge::ExitWithSummary(absl::StrFormat(
      "compute_stats: images=%d skipped=%d mean=%.6f,%.6f,%.6f std=%.6f,%.6f,%.6f out=%s", stats->images(),
      stats->images_skipped(), stats->mean(0), stats->mean(1), stats->mean(2), stats->std(0), stats->std(1),
      stats->std(2), FLAGS_out));
}
