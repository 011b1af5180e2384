#include "tools/predict/predict.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include <glog/logging.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/data/image_folder.h"
#include "lib/io/file.h"
#include "lib/parallel/ordered_pipeline.h"
#include "lib/util/progress.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

bool Hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

// The image files below `dir`, sorted; error naming `dir` when it cannot be listed.
absl::Status AppendFolder(const std::string& dir, std::vector<std::string>* paths) {
  std::vector<std::string> found;
  std::error_code error;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (Hidden(it->path())) {
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory(error) && HasImageExtension(it->path().filename().string())) {
      found.push_back(it->path().string());
    }
  }
  if (error) return absl::InvalidArgumentError(absl::StrCat("cannot list ", dir, ": ", error.message()));
  if (found.empty()) LOG(WARNING) << dir << " holds no image file";
  std::sort(found.begin(), found.end());
  paths->insert(paths->end(), found.begin(), found.end());
  return absl::OkStatus();
}

absl::Status AppendEntry(const std::string& entry, std::vector<std::string>* paths) {
  std::error_code error;
  if (fs::is_directory(entry, error)) return AppendFolder(entry, paths);
  paths->push_back(entry);  // a file, or a path whose failure its line will report
  return absl::OkStatus();
}

// One batch's files: their bytes, or why they could not be read.
using FileBatch = std::vector<absl::StatusOr<std::string>>;

}  // namespace

absl::StatusOr<std::vector<std::string>> ListImages(const PredictToolOptions& options) {
  if (options.images.empty() && options.images_from.empty()) {
    return absl::InvalidArgumentError("no images: pass --images and/or --images_from");
  }
  std::vector<std::string> paths;
  for (const std::string& entry : options.images) {
    if (absl::Status status = AppendEntry(entry, &paths); !status.ok()) return status;
  }
  if (!options.images_from.empty()) {
    absl::StatusOr<std::string> list = ReadFile(options.images_from);
    if (!list.ok()) return list.status();
    for (absl::string_view line : absl::StrSplit(*list, '\n')) {
      if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      if (absl::Status status = AppendEntry(std::string(line), &paths); !status.ok()) return status;
    }
  }
  return paths;
}

absl::StatusOr<PredictSummary> RunPredict(const PredictToolOptions& options, std::ostream& out) {
  if (options.top_k < 1 || options.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("need --top_k >= 1 and --batch_size >= 1, not ", options.top_k,
                                                   " and ", options.batch_size));
  }
  absl::StatusOr<std::vector<std::string>> paths = ListImages(options);
  if (!paths.ok()) return paths.status();
  absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(options.predictor);
  if (!predictor.ok()) return predictor.status();

  const int64_t count = static_cast<int64_t>(paths->size());
  const int64_t batch_size = options.batch_size;
  const int64_t batches = (count + batch_size - 1) / batch_size;
  // Files are read a batch ahead on a thread of their own while the Predictor decodes and runs the
  // current batch.
  const PipelineOptions ahead = {.threads = 1, .window = 2};
  OrderedPipeline<FileBatch> reader(0, batches, ahead, [&](int64_t b) -> absl::StatusOr<FileBatch> {
    FileBatch files;
    for (int64_t i = b * batch_size; i < std::min(count, (b + 1) * batch_size); ++i) {
      const std::string& path = (*paths)[i];
      files.push_back(ReadFile(path == "-" ? "./-" : path));  // a file named "-", not standard input
    }
    return files;
  });
  ProgressBar progress("predict", count);
  PredictSummary summary;
  FileBatch files;
  for (int64_t b = 0; reader.Next(&files); ++b) {
    std::vector<absl::string_view> encoded;
    std::vector<int64_t> readable;  // positions in the batch of the files read
    for (int64_t i = 0; i < static_cast<int64_t>(files.size()); ++i) {
      if (files[i].ok()) {
        encoded.push_back(*files[i]);
        readable.push_back(i);
      }
    }
    std::vector<absl::StatusOr<TopK>> answers = (*predictor)->Predict(encoded, options.top_k);
    for (int64_t i = 0, r = 0; i < static_cast<int64_t>(files.size()); ++i) {
      const std::string& path = (*paths)[b * batch_size + i];
      const bool read = r < static_cast<int64_t>(readable.size()) && readable[r] == i;
      const absl::StatusOr<TopK> answer = read ? std::move(answers[r++]) : absl::StatusOr<TopK>(files[i].status());
      summary.failed += answer.ok() ? 0 : 1;
      out << PredictionLine(path, answer, (*predictor)->classes(), options.format);
    }
    out.flush();
    summary.images += static_cast<int64_t>(files.size());
    progress.Add(static_cast<int64_t>(files.size()));
  }
  progress.Finish();
  if (!reader.status().ok()) return reader.status();
  return summary;
}

}  // namespace forge
