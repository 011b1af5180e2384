#include "tools/shard/shard.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/data/image_folder.h"
#include "lib/io/temporaries.h"
#include "lib/data/random.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/records/crc32c.h"
#include "lib/records/record_index.h"
#include "lib/parallel/ordered_pipeline.h"
#include "lib/records/record_writer.h"
#include "lib/util/cores.h"
#include "lib/util/exception_status.h"
#include "lib/util/progress.h"
#include "tools/shard/classes.h"
#include "tools/shard/prepare.h"
#include "tools/shard/verify.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

constexpr int kFormatVersion = 1;
constexpr double kBytesPerMb = 1 << 20;
// Results the workers may hold ahead of the writer, per thread.
constexpr int64_t kWindowPerThread = 16;

struct Source {
  std::string path;  // relative to options.data
  int label = 0;
  uint64_t size = 0;  // 0 if it could not be read (the image is then skipped when processed)
};

// Everything decided before any image is processed.
struct Plan {
  std::string split;
  std::vector<Source> sources;  // in listing order
  std::vector<size_t> order;    // order[position] = index into sources
  int num_shards = 0;
  // Shard s holds positions [first[s], first[s + 1]) of the order.
  std::vector<size_t> first;
  // Everything the manifest says that does not depend on processing.
  DatasetManifest header;
};

absl::Status Validate(const ShardRunOptions& options) {
  if (options.data.empty()) return absl::InvalidArgumentError("--data is required");
  if (options.out_dir.empty()) return absl::InvalidArgumentError("--out_dir is required");
  if (options.num_shards < 0) return absl::InvalidArgumentError("--num_shards must be >= 0");
  if (!(options.shard_size_mb >= 0) || !std::isfinite(options.shard_size_mb)) {
    return absl::InvalidArgumentError("--shard_size_mb must be a finite number >= 0");
  }
  if (options.num_shards > 0 && options.shard_size_mb > 0) {
    return absl::InvalidArgumentError("give --num_shards or --shard_size_mb, not both");
  }
  if (options.threads < 0) return absl::InvalidArgumentError("--threads must be >= 0");
  if (options.max_side < 0) return absl::InvalidArgumentError("--max_side must be >= 0");
  if (options.quality < 1 || options.quality > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("--quality must be in 1..100, got ", options.quality));
  }
  if (options.split.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--split=", options.split, " must not contain '/'"));
  }
  return absl::OkStatus();
}

// --split, or the base name of --data ("imagenet/train/" gives "train").
absl::StatusOr<std::string> SplitName(const ShardRunOptions& options) {
  if (!options.split.empty()) return options.split;
  std::error_code error;
  std::string path = fs::absolute(options.data, error).lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string name = fs::path(path).filename().string();
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot name the split after --data=", options.data, "; give --split"));
  }
  return name;
}

int ThreadCount(int requested) { return requested > 0 ? requested : UsableCores(); }

// Fills source sizes, statting files on `threads` threads (network disks answer slowly).
absl::Status StatSources(const std::string& root, int threads, std::vector<Source>* sources) {
  return RunOrderedPipeline<uint64_t>(
      static_cast<int64_t>(sources->size()),
      {.threads = threads, .window = kWindowPerThread * threads},
      [&](int64_t i) -> absl::StatusOr<uint64_t> {
        std::error_code error;
        const uintmax_t size = fs::file_size(fs::path(root) / (*sources)[i].path, error);
        return error ? 0 : static_cast<uint64_t>(size);
      },
      [&](int64_t i, uint64_t size) {
        (*sources)[i].size = size;
        return absl::OkStatus();
      });
}

ShardOptions RecordedOptions(const ShardRunOptions& options, const std::string& split) {
  ShardOptions recorded;
  recorded.set_data(options.data);
  recorded.set_split(split);
  recorded.set_num_shards(options.num_shards);
  recorded.set_shard_size_mb(options.num_shards > 0      ? 0
                             : options.shard_size_mb > 0 ? options.shard_size_mb
                                                         : kDefaultShardSizeMb);
  recorded.set_max_side(options.max_side);
  recorded.set_quality(options.quality);
  recorded.set_classes_from(options.classes_from);
  recorded.set_synset_mapping(options.synset_mapping);
  recorded.set_strict(options.strict);
  recorded.set_seed(options.seed);
  recorded.set_max_pixels(std::max<int64_t>(options.max_pixels, 0));
  return recorded;
}

// True if `inner` is `outer` or lies below it (both need not exist yet).
bool IsWithin(const std::string& inner, const std::string& outer) {
  std::error_code error;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner, error), error);
  const fs::path b = fs::weakly_canonical(fs::absolute(outer, error), error);
  auto a_it = a.begin();
  for (auto b_it = b.begin(); b_it != b.end(); ++b_it, ++a_it) {
    if (b_it->empty()) continue;  // a trailing separator
    if (a_it == a.end() || *a_it != *b_it) return false;
  }
  return true;
}

absl::StatusOr<Plan> MakePlan(const ShardRunOptions& options) {
  Plan plan;
  // Inside the split, the output folder would be listed as a class.
  if (IsWithin(options.out_dir, options.data)) {
    return absl::InvalidArgumentError(absl::StrCat("--out_dir=", options.out_dir,
                                                   " must not lie inside --data=", options.data));
  }
  absl::StatusOr<std::string> split = SplitName(options);
  if (!split.ok()) return split.status();
  plan.split = *split;

  absl::StatusOr<ImageFolder> folder = ListImageFolder(options.data);
  if (!folder.ok()) return folder.status();
  absl::StatusOr<std::vector<ClassInfo>> classes =
      BuildClasses(folder->classes, options.classes_from, options.synset_mapping);
  if (!classes.ok()) return classes.status();
  absl::flat_hash_map<std::string, int> label_of;
  for (const ClassInfo& info : *classes) label_of[info.wnid()] = info.index();

  plan.sources.reserve(folder->samples.size());
  for (ImageFolderSample& sample : folder->samples) {
    plan.sources.push_back({std::move(sample.path), label_of.at(folder->classes[sample.label]), 0});
  }
  if (absl::Status status = StatSources(options.data, ThreadCount(options.threads), &plan.sources);
      !status.ok()) {
    return status;
  }
  uint64_t source_bytes = 0;
  uint32_t fingerprint = 0;
  for (const Source& source : plan.sources) {
    source_bytes += source.size;
    fingerprint = Crc32cExtend(fingerprint, absl::StrCat(source.path, "\t", source.size, "\n"));
  }

  const size_t n = plan.sources.size();
  if (options.num_shards > 0) {
    if (static_cast<size_t>(options.num_shards) > n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--num_shards=", options.num_shards, " exceeds the ", n, " images of ", options.data));
    }
    plan.num_shards = options.num_shards;
  } else {
    const double size_mb = options.shard_size_mb > 0 ? options.shard_size_mb : kDefaultShardSizeMb;
    const double shards = std::ceil(static_cast<double>(source_bytes) / (size_mb * kBytesPerMb));
    plan.num_shards = static_cast<int>(std::clamp<double>(shards, 1, static_cast<double>(n)));
  }
  plan.order = Permutation(n, options.seed);
  for (int s = 0; s <= plan.num_shards; ++s) {
    plan.first.push_back(
        static_cast<size_t>(static_cast<unsigned __int128>(n) * s / plan.num_shards));
  }

  DatasetManifest& header = plan.header;
  header.set_format_version(kFormatVersion);
  header.set_split(plan.split);
  for (ClassInfo& info : *classes) *header.add_classes() = std::move(info);
  *header.mutable_options() = RecordedOptions(options, plan.split);
  header.set_source_files(static_cast<int64_t>(n));
  header.set_source_bytes(static_cast<int64_t>(source_bytes));
  header.set_source_fingerprint(fingerprint);
  return plan;
}

// Why a manifest or journal from an earlier run cannot be resumed from; empty if it can.
// `strict` does not matter: it only decides whether a bad image stops the run.
std::string Mismatch(const DatasetManifest& prior, const DatasetManifest& header) {
  if (prior.format_version() != header.format_version()) {
    return absl::StrCat("format version ", prior.format_version());
  }
  ShardOptions prior_options = prior.options();
  ShardOptions options = header.options();
  prior_options.clear_strict();
  options.clear_strict();
  if (prior_options.SerializeAsString() != options.SerializeAsString()) {
    return absl::StrCat("other options: {", prior_options.ShortDebugString(), "}; now {",
                        options.ShortDebugString(), "}");
  }
  if (prior.source_files() != header.source_files() ||
      prior.source_bytes() != header.source_bytes() ||
      prior.source_fingerprint() != header.source_fingerprint()) {
    return absl::StrCat("other input files (", prior.source_files(), " files, ",
                        prior.source_bytes(), " bytes; now ", header.source_files(), " files, ",
                        header.source_bytes(), " bytes)");
  }
  if (prior.classes_size() != header.classes_size()) return "other classes";
  for (int i = 0; i < prior.classes_size(); ++i) {
    if (prior.classes(i).SerializeAsString() != header.classes(i).SerializeAsString()) {
      return absl::StrCat("other classes (class ", i, " was ", prior.classes(i).ShortDebugString(),
                          ")");
    }
  }
  return "";
}

// What the run has finished: per shard its entry and the files of its range it skipped.
struct FinishedShards {
  std::vector<std::optional<ShardInfo>> shards;
  std::vector<std::vector<SkippedFile>> skipped;
};

// The manifest of the shards finished so far (all of them at the end), in shard order.
DatasetManifest Assemble(const Plan& plan, const FinishedShards& done) {
  DatasetManifest manifest = plan.header;
  for (int s = 0; s < plan.num_shards; ++s) {
    if (!done.shards[s]) continue;
    const ShardInfo& shard = *done.shards[s];
    *manifest.add_shards() = shard;
    for (const SkippedFile& file : done.skipped[s]) *manifest.add_skipped() = file;
    manifest.set_records(manifest.records() + shard.records());
    manifest.set_bytes(manifest.bytes() + shard.bytes());
    manifest.set_converted(manifest.converted() + shard.converted());
    manifest.set_reencoded(manifest.reencoded() + shard.reencoded());
    manifest.set_images_skipped(manifest.images_skipped() + shard.images_skipped());
  }
  return manifest;
}

// Takes from `prior` (same plan) every shard whose files still check out, and the skipped files
// of those shards.
void ReuseShards(const Plan& plan, const std::string& out_dir, const DatasetManifest& prior,
                 FinishedShards* done) {
  absl::flat_hash_map<std::string, int> shard_of_name;
  for (int s = 0; s < plan.num_shards; ++s)
    shard_of_name[ShardFileName(plan.split, s, plan.num_shards)] = s;
  for (const ShardInfo& shard : prior.shards()) {
    auto it = shard_of_name.find(shard.path());
    if (it == shard_of_name.end() || shard.index_path() != shard.path() + ".idx") continue;
    if (absl::Status status = CheckShardFiles(out_dir, shard); !status.ok()) {
      LOG(WARNING) << "redoing shard " << shard.path() << ": " << status.message();
      continue;
    }
    done->shards[it->second] = shard;
  }
  if (prior.skipped_size() == 0) return;
  absl::flat_hash_map<std::string, size_t> position_of;
  for (size_t p = 0; p < plan.order.size(); ++p) position_of[plan.sources[plan.order[p]].path] = p;
  for (const SkippedFile& file : prior.skipped()) {
    auto it = position_of.find(file.path());
    if (it == position_of.end()) continue;
    const int s =
        static_cast<int>(std::upper_bound(plan.first.begin(), plan.first.end(), it->second) -
                         plan.first.begin()) -
        1;
    if (done->shards[s]) done->skipped[s].push_back(file);
  }
}

// The outcome of preparing one image: a payload to write, or why the file is skipped.
struct Prepared {
  std::string payload;
  std::string error;
  bool converted = false;
  bool reencoded = false;
};

Prepared PrepareRecordOrSkip(const ShardRunOptions& options, const DatasetManifest& header,
                             const Source& source) {
  Prepared result;
  absl::StatusOr<std::string> bytes = ReadFile((fs::path(options.data) / source.path).string());
  if (!bytes.ok()) {
    result.error = std::string(bytes.status().message());
    return result;
  }
  PrepareOptions prepare_options;
  prepare_options.max_side = options.max_side;
  prepare_options.quality = options.quality;
  prepare_options.max_pixels = options.max_pixels;
  absl::StatusOr<PreparedImage> image = PrepareImage(std::move(*bytes), prepare_options);
  if (!image.ok()) {
    result.error = std::string(image.status().message());
    return result;
  }
  ImageRecord record;
  record.set_image(std::move(image->jpeg));
  record.set_label(source.label);
  record.set_wnid(header.classes(source.label).wnid());
  record.set_source(source.path);
  record.set_width(image->width);
  record.set_height(image->height);
  record.set_format(STORED_FORMAT_JPEG);
  result.payload = record.SerializeAsString();
  result.converted = image->converted;
  result.reencoded = image->reencoded;
  return result;
}

// PrepareRecordOrSkip, with what it throws (std::bad_alloc, ...) as an error naming the file:
// on a worker thread an exception would end the process. Not a skip: nothing says the file is
// at fault, and a rerun resumes.
absl::StatusOr<Prepared> PrepareRecord(const ShardRunOptions& options,
                                       const DatasetManifest& header, const Source& source) {
  try {
    return PrepareRecordOrSkip(options, header, source);
  } catch (...) {
    return CurrentExceptionStatus(
        absl::StrCat("preparing image ", (fs::path(options.data) / source.path).string()));
  }
}

// Writes the shards not yet in `done`, in order, updating the journal after each.
absl::Status WriteShards(const ShardRunOptions& options, const Plan& plan,
                         const std::string& journal_path, FinishedShards* done, int* written) {
  struct Job {
    int shard;
    size_t position;
  };
  std::vector<Job> jobs;
  for (int s = 0; s < plan.num_shards; ++s) {
    if (done->shards[s]) continue;
    for (size_t p = plan.first[s]; p < plan.first[s + 1]; ++p) jobs.push_back({s, p});
  }
  if (jobs.empty()) return absl::OkStatus();

  std::unique_ptr<ProgressBar> progress;
  if (options.progress)
    progress = std::make_unique<ProgressBar>("shard", static_cast<int64_t>(jobs.size()));
  std::unique_ptr<RecordWriter> writer;
  ShardInfo info;
  std::vector<SkippedFile> skipped;

  auto start_shard = [&](int s) -> absl::Status {
    info.Clear();
    skipped.clear();
    info.set_path(ShardFileName(plan.split, s, plan.num_shards));
    info.set_index_path(info.path() + ".idx");
    absl::StatusOr<std::unique_ptr<RecordWriter>> created =
        RecordWriter::Create((fs::path(options.out_dir) / info.path()).string());
    if (!created.ok()) return created.status();
    writer = std::move(*created);
    return absl::OkStatus();
  };
  auto finish_shard = [&](int s) -> absl::Status {
    if (absl::Status status = writer->Close(); !status.ok()) return status;
    const std::string index = FormatDaliIndex(writer->spans());
    if (absl::Status status =
            WriteFileAtomically((fs::path(options.out_dir) / info.index_path()).string(), index);
        !status.ok()) {
      return status;
    }
    info.set_records(static_cast<int64_t>(writer->spans().size()));
    info.set_bytes(static_cast<int64_t>(writer->bytes()));
    info.set_crc32c(writer->file_crc32c());
    info.set_index_crc32c(Crc32c(index));
    writer.reset();
    done->shards[s] = info;
    done->skipped[s] = std::move(skipped);
    ++*written;
    return WriteProtoFile(journal_path, Assemble(plan, *done));
  };

  const Source* sources = plan.sources.data();
  const int threads = ThreadCount(options.threads);
  absl::Status status = RunOrderedPipeline<Prepared>(
      static_cast<int64_t>(jobs.size()), {.threads = threads, .window = threads * kWindowPerThread},
      [&](int64_t j) {
        return PrepareRecord(options, plan.header, sources[plan.order[jobs[j].position]]);
      },
      [&](int64_t j, Prepared prepared) -> absl::Status {
        const Job& job = jobs[j];
        if (job.position == plan.first[job.shard]) {
          if (absl::Status status = start_shard(job.shard); !status.ok()) return status;
        }
        const Source& source = sources[plan.order[job.position]];
        if (!prepared.error.empty()) {
          const std::string path = (fs::path(options.data) / source.path).string();
          if (options.strict) {
            return absl::InvalidArgumentError(
                absl::StrCat("cannot use image ", path, ": ", prepared.error));
          }
          LOG(WARNING) << "skipping " << path << ": " << prepared.error;
          SkippedFile& file = skipped.emplace_back();
          file.set_path(source.path);
          file.set_error(prepared.error);
          info.set_images_skipped(info.images_skipped() + 1);
        } else {
          if (absl::Status status = writer->Write(prepared.payload); !status.ok()) return status;
          info.set_converted(info.converted() + (prepared.converted ? 1 : 0));
          info.set_reencoded(info.reencoded() + (prepared.reencoded ? 1 : 0));
        }
        if (progress) progress->Add();
        if (job.position + 1 == plan.first[job.shard + 1]) return finish_shard(job.shard);
        return absl::OkStatus();
      });
  if (progress) progress->Finish();
  return status;
}

void RemoveIfPresent(const std::string& path) {
  std::error_code error;
  if (fs::remove(path, error) || !error) return;
  LOG(WARNING) << "cannot remove " << path << ": " << error.message();
}

// Removes what a killed run (kill -9, a lost machine) left of the files it was writing: the
// temporaries ("<output>.tmp.XXXXXX", lib/io/file.h) of this split's shards, indexes, manifest and
// journal. A clean exit removes its own; these would otherwise stay forever, each up to a shard.
void RemoveStaleShardTemporaries(const std::string& out_dir, const std::string& split) {
  auto is_output = [&split](absl::string_view name) {
    const std::string output(name);
    int index = 0, count = 0;
    const bool shard_file =
        absl::StartsWith(output, split + "-") &&
        std::sscanf(output.c_str() + split.size(), "-%5d-of-%5d", &index, &count) == 2 &&
        (output == ShardFileName(split, index, count) || output == ShardFileName(split, index, count) + ".idx");
    return shard_file || output == ManifestFileName(split) || output == JournalFileName(split);
  };
  for (const std::string& path : RemoveStaleTemporaries(out_dir, is_output)) {
    LOG(INFO) << "removed " << path << ", left by an interrupted run";
  }
}

}  // namespace

std::string ShardFileName(const std::string& split, int index, int count) {
  return absl::StrFormat("%s-%05d-of-%05d.rec", split, index, count);
}

std::string ManifestFileName(const std::string& split) { return split + ".manifest.txtpb"; }

std::string JournalFileName(const std::string& split) { return split + ".partial.txtpb"; }

absl::StatusOr<ShardResult> RunShard(const ShardRunOptions& options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  absl::StatusOr<Plan> planned = MakePlan(options);
  if (!planned.ok()) return planned.status();
  const Plan& plan = *planned;
  std::error_code error;
  fs::create_directories(options.out_dir, error);
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot create --out_dir=", options.out_dir));
  RemoveStaleShardTemporaries(options.out_dir, plan.split);

  ShardResult result;
  result.manifest_path = (fs::path(options.out_dir) / ManifestFileName(plan.split)).string();
  const std::string journal_path =
      (fs::path(options.out_dir) / JournalFileName(plan.split)).string();
  LOG(INFO) << "shard: " << plan.sources.size() << " images (" << plan.header.source_bytes()
            << " bytes) in " << plan.header.classes_size() << " classes from " << options.data
            << " -> " << plan.num_shards << " shards in " << options.out_dir;

  // An earlier run's manifest (finished) or journal (interrupted), if any.
  FinishedShards done;
  done.shards.resize(plan.num_shards);
  done.skipped.resize(plan.num_shards);
  const bool have_manifest = fs::exists(result.manifest_path, error);
  const std::string prior_path = have_manifest                     ? result.manifest_path
                                 : fs::exists(journal_path, error) ? journal_path
                                                                   : "";
  DatasetManifest prior;
  if (!prior_path.empty()) {
    if (absl::Status status = ReadProtoFile(prior_path, &prior); !status.ok()) {
      LOG(WARNING) << "starting over: cannot read " << prior_path << ": " << status.message();
    } else if (std::string mismatch = Mismatch(prior, plan.header); !mismatch.empty()) {
      LOG(WARNING) << "starting over: " << prior_path << " was made with " << mismatch;
    } else {
      ReuseShards(plan, options.out_dir, prior, &done);
      for (const auto& shard : done.shards) result.shards_reused += shard ? 1 : 0;
      LOG(INFO) << "resuming from " << prior_path << ": " << result.shards_reused << " of "
                << plan.num_shards << " shards are intact and kept";
    }
  }
  if (options.strict) {
    for (const std::vector<SkippedFile>& files : done.skipped) {
      if (files.empty()) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("cannot use image ", (fs::path(options.data) / files[0].path()).string(),
                       ": ", files[0].error(), " (skipped by an earlier run)"));
    }
  }
  if (have_manifest && result.shards_reused == plan.num_shards) {
    RemoveIfPresent(journal_path);
    LOG(INFO) << result.manifest_path << " is complete and every shard checks out: nothing to do";
    result.manifest = std::move(prior);
    result.already_complete = true;
    return result;
  }

  // From here on the manifest would describe shards being rewritten: the journal takes over.
  if (absl::Status status = WriteProtoFile(journal_path, Assemble(plan, done)); !status.ok())
    return status;
  if (have_manifest) RemoveIfPresent(result.manifest_path);
  if (absl::Status status = WriteShards(options, plan, journal_path, &done, &result.shards_written);
      !status.ok()) {
    return status;
  }
  result.manifest = Assemble(plan, done);
  if (result.manifest.records() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("no image in ", options.data, " could be used (",
                                                   result.manifest.images_skipped(), " skipped)"));
  }
  if (absl::Status status = WriteProtoFile(result.manifest_path, result.manifest); !status.ok())
    return status;
  RemoveIfPresent(journal_path);
  return result;
}

std::string SummaryLine(const ShardResult& result) {
  const DatasetManifest& manifest = result.manifest;
  return absl::StrCat("shard: split=", manifest.split(), " images=", manifest.records(),
                      " skipped=", manifest.images_skipped(), " converted=", manifest.converted(),
                      " reencoded=", manifest.reencoded(), " shards=", manifest.shards_size(),
                      " written=", result.shards_written, " reused=", result.shards_reused,
                      " bytes=", manifest.bytes(), " out=", result.manifest_path);
}

}  // namespace forge
