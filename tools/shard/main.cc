// shard: flags and wiring only; the work is in shard.h and verify.h.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "tools/shard/shard.h"
#include "tools/shard/verify.h"

DEFINE_string(
    data, "",
    "Required. The split's class folders: train/ or the prepared val/ (root/<wnid>/<image>).");
DEFINE_string(out_dir, "", "Required. Where the shards, their indexes and the manifest go.");
DEFINE_string(split, "", "Names the output files. Default: the base name of --data.");
DEFINE_int32(num_shards, 0, "Number of shards; 0: from --shard_size_mb.");
DEFINE_double(shard_size_mb, 0,
              "Target shard size in MB (2^20 bytes) of SOURCE files; default 128 "
              "when --num_shards is not given either.");
DEFINE_int32(threads, 0,
             "Decoding/encoding threads; 0: the cores this process may use. The output does not "
             "depend on it.");
DEFINE_string(classes_from, "", "A manifest (train's) whose classes and indices this split takes.");
DEFINE_string(synset_mapping, "", "LOC_synset_mapping.txt, for class names.");
DEFINE_int32(max_side, 0, "Downscale images whose longer side exceeds this; 0: never.");
DEFINE_int32(quality, 90, "JPEG quality of converted and downscaled images (1..100).");
DEFINE_bool(strict, false, "Fail on the first unusable image instead of skipping it.");
DEFINE_uint64(seed, 0, "Seed of the shuffled image order.");
DEFINE_int64(max_pixels, 178956970, "Skip images with more pixels than this; 0 disables.");
DEFINE_string(verify, "",
              "Instead of sharding: re-read every shard of this manifest and report problems.");
DEFINE_bool(progress, true, "Report progress on stderr.");

namespace forge {
namespace {

constexpr char kUsage[] =
    "Packs an ImageFolder split into record shards with DALI indexes and a manifest.\n"
    "  shard --data=imagenet/train --out_dir=shards [--num_shards=1024 | --shard_size_mb=128]\n"
    "  shard --data=imagenet/val --out_dir=shards --classes_from=shards/train.manifest.txtpb\n"
    "  shard --verify=shards/train.manifest.txtpb\n"
    "Exit codes: 0 done (verify: all good), 1 failure at run time (verify: problems found; "
    "rerun to resume), 2 bad usage or input (verify: unreadable manifest).";

int Verify() {
  if (!FLAGS_data.empty() || !FLAGS_out_dir.empty()) {
    return ExitWithUsageError("--verify is a mode of its own: give it without --data and --out_dir");
  }
  absl::StatusOr<VerifyReport> report = VerifyShards(FLAGS_verify, FLAGS_progress);
  if (!report.ok()) {
    return ExitWithError(report.status());
  }
  for (const std::string& problem : report->problems) std::printf("problem: %s\n", problem.c_str());
  std::printf("%s\n", VerifySummaryLine(FLAGS_verify, *report).c_str());
  return report->ok() ? 0 : 1;
}

int Main() {
  if (!FLAGS_verify.empty()) return Verify();
  ShardRunOptions options;
  options.data = FLAGS_data;
  options.out_dir = FLAGS_out_dir;
  options.split = FLAGS_split;
  options.num_shards = FLAGS_num_shards;
  options.shard_size_mb = FLAGS_shard_size_mb;
  options.threads = FLAGS_threads;
  options.classes_from = FLAGS_classes_from;
  options.synset_mapping = FLAGS_synset_mapping;
  options.max_side = FLAGS_max_side;
  options.quality = FLAGS_quality;
  options.strict = FLAGS_strict;
  options.seed = FLAGS_seed;
  options.max_pixels = FLAGS_max_pixels;
  options.progress = FLAGS_progress;
  absl::StatusOr<ShardResult> result = RunShard(options);
  if (!result.ok()) {
    return ExitWithError(result.status());
  }
  return ExitWithSummary(SummaryLine(*result));
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  forge::InitTool(forge::kUsage, &argc, &argv);
  return forge::Main();
}
