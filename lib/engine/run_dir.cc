#include "lib/engine/run_dir.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <tuple>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "lib/io/temporaries.h"
#include "lib/train/checkpoint.h"

namespace forge {

namespace fs = std::filesystem;

RunPaths::RunPaths(const std::string& dir)
    : run_dir(dir),
      config(dir + "/config.txtpb"),
      summary(dir + "/model_summary.txtpb"),
      log(dir + "/train_log.pb"),
      lock(dir + "/train.lock"),
      checkpoints(dir + "/checkpoints"),
      last(checkpoints + "/last.ckpt"),
      best(checkpoints + "/best.ckpt"),
      mid_epoch(checkpoints + "/mid_epoch.ckpt"),
      tensorboard(dir + "/tensorboard") {}

std::string RunPaths::EpochCheckpoint(int epoch) const {
  return absl::StrFormat("%s/epoch_%04d.ckpt", checkpoints, epoch);
}

std::vector<SavedState> FindCheckpoints(const std::string& dir, std::vector<std::string>* refused) {
  std::vector<SavedState> found;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string path = entry.path().string();
    if (!absl::EndsWith(path, ".ckpt")) continue;  // AtomicFile's temporaries end in .tmp.XXXXXX
    absl::StatusOr<TrainState> state = ReadTrainState(path);
    if (state.ok()) {
      found.push_back({path, std::move(*state)});
    } else {
      refused->push_back(std::string(state.status().message()));
    }
  }
  std::sort(found.begin(), found.end(), [](const SavedState& a, const SavedState& b) {
    const auto key = [](const SavedState& s) {
      return std::make_tuple(s.state.step(), s.state.epoch(), !s.state.has_epoch_progress());
    };
    if (key(a) != key(b)) return key(a) > key(b);
    const bool a_last = absl::EndsWith(a.path, "/last.ckpt"), b_last = absl::EndsWith(b.path, "/last.ckpt");
    return a_last != b_last ? a_last : a.path < b.path;
  });
  return found;
}

std::vector<std::string> RemoveCheckpointTemporaries(const std::string& dir) {
  return RemoveStaleTemporaries(dir, [](absl::string_view name) { return absl::EndsWith(name, ".ckpt"); });
}

std::vector<std::string> EpochCheckpoints(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    int epoch = 0;
    if (absl::StartsWith(name, "epoch_") && absl::EndsWith(name, ".ckpt") &&
        absl::SimpleAtoi(name.substr(6, name.size() - 11), &epoch)) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace forge
