// shard: packs an ImageFolder split (train/ or a prepared val/) into record shards with a DALI
// index each and a DatasetManifest, resumably and reproducibly.
//
//   ShardRunOptions options;
//   options.data = "imagenet/train";
//   options.out_dir = "shards";
//   absl::StatusOr<ShardResult> result = RunShard(options);
//   if (result.ok()) std::cout << SummaryLine(*result) << "\n";
//   // shards/train-00000-of-00008.rec (+ .rec.idx) ... and shards/train.manifest.txtpb
#ifndef FORGE_TOOLS_SHARD_SHARD_H_
#define FORGE_TOOLS_SHARD_SHARD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/dataset.pb.h"

namespace forge {

// Used when neither num_shards nor shard_size_mb is given.
inline constexpr double kDefaultShardSizeMb = 128;

struct ShardRunOptions {
  std::string data;     // required: the split's class folders, root/<wnid>/<image>
  std::string out_dir;  // required: created if missing
  std::string split;    // names the files; default (empty): the base name of `data`
  // How many shards: either num_shards, or ceil(total size of the SOURCE files / shard_size_mb),
  // with 1 MB = 2^20 bytes (stored sizes differ when images are converted or downscaled). At
  // most one may be set; neither means shard_size_mb = 128. Never more shards than images.
  int num_shards = 0;
  double shard_size_mb = 0;
  // Decoding/encoding threads; 0: UsableCores() (lib/util/cores.h). Output never depends on it.
  int threads = 0;
  std::string classes_from;    // a manifest whose classes (indices, names) this split takes
  std::string synset_mapping;  // LOC_synset_mapping.txt: class names
  int max_side = 0;            // > 0: downscale images whose longer side exceeds it
  int quality = 90;            // JPEG quality of converted and downscaled images
  bool strict = false;         // the first unusable image fails the run instead of being skipped
  uint64_t seed = 0;           // of the shuffled image order
  int64_t max_pixels = 178956970;  // decompression-bomb limit; <= 0 disables
  bool progress = true;            // report progress on stderr
};

struct ShardResult {
  DatasetManifest manifest;
  std::string manifest_path;      // <out_dir>/<split>.manifest.txtpb
  int shards_written = 0;         // by this run
  int shards_reused = 0;          // from an earlier, interrupted (or finished) run, after checking
  bool already_complete = false;  // a finished run with the same options and inputs: nothing done
};

// "<split>-<index>-of-<count>.rec", five digits each, e.g. "train-00003-of-01024.rec". The
// index file is this name plus ".idx".
std::string ShardFileName(const std::string& split, int index, int count);
// "<split>.manifest.txtpb" and "<split>.partial.txtpb" (the journal of an unfinished run).
std::string ManifestFileName(const std::string& split);
std::string JournalFileName(const std::string& split);

// Shards `options.data` into `options.out_dir` and returns the manifest it wrote.
//
// Images are listed as ImageFolder lists them, put in the order Permutation(n, seed) and cut
// into num_shards contiguous, near-equal ranges of that order (so every shard mixes classes);
// shard i holds the usable images of range i, in order. The output is byte-identical for the
// same inputs and options, whatever `threads` is.
//
// After each shard the journal is rewritten; a rerun with the same options (`strict` aside) and
// the same listing (paths and sizes) keeps every journaled shard whose .rec and .idx still have
// their recorded sizes and CRC-32Cs and redoes the rest; anything else starts over. A finished
// run (manifest present) is checked the same way and, if intact, left alone.
//
// An image is unusable, skipped and listed, when it cannot be read or decoded or when its
// downscale would break lib/image's size bounds (CheckImageSize).
//
// Fails with InvalidArgument / NotFound for bad options or inputs (a missing folder, unknown
// class folders, an unusable image under `strict`, naming the file), with ResourceExhausted or
// Internal naming the file if preparing an image threw (e.g. out of memory), and with the
// error of the file that could not be written otherwise.
absl::StatusOr<ShardResult> RunShard(const ShardRunOptions& options);

// One line for stdout, e.g. "shard: split=train images=1281167 skipped=0 converted=23
// reencoded=0 shards=1024 written=1024 reused=0 bytes=... out=shards/train.manifest.txtpb".
std::string SummaryLine(const ShardResult& result);

}  // namespace forge

#endif  // FORGE_TOOLS_SHARD_SHARD_H_
