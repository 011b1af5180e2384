// Progress reporting for long loops: a bar with rate and ETA when stderr is a terminal,
// periodic log lines otherwise (so CI logs and `2> file` stay readable).
#ifndef FORGE_LIB_UTIL_PROGRESS_H_
#define FORGE_LIB_UTIL_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace forge {

struct ProgressOptions {
  // Redraw in place on a terminal; false prints one line per report. Default: whether stderr
  // is a terminal.
  bool interactive;
  // Seconds between reports: 0.1 on a terminal, 10 otherwise by default.
  double interval_seconds;
  FILE* out = stderr;
  // Name of the counted things, e.g. "img".
  std::string unit = "img";

  ProgressOptions();
};

// One report line, e.g. "stats [#####     ] 512/1024 50% 123.4 img/s ETA 0:04" when
// interactive, "stats: 512/1024 (50%) 123.4 img/s ETA 0:04" otherwise. `total` <= 0 means
// unknown (no bar, no ETA).
std::string FormatProgress(const std::string& label, int64_t done, int64_t total,
                           double elapsed_seconds, const ProgressOptions& options);

// Counts work done from any thread and reports it at most every interval.
//
//   ProgressBar progress("shard", files.size());
//   for (...) { ...; progress.Add(1); }
//   progress.Finish();
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, ProgressOptions options = ProgressOptions());
  ~ProgressBar();  // calls Finish()

  // Adds `n` units; thread-safe and cheap.
  void Add(int64_t n = 1);
  // Prints the final report once (with a newline on a terminal).
  void Finish();
  // Text shown after the rate, e.g. "loss 2.31"; thread-safe.
  void SetNote(std::string note);

  int64_t done() const { return done_.load(std::memory_order_relaxed); }

 private:
  void Report(bool final);

  const std::string label_;
  const int64_t total_;
  const ProgressOptions options_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> next_report_ns_;
  std::mutex report_mutex_;
  bool finished_ = false;
  std::mutex note_mutex_;
  std::string note_;  // guarded by note_mutex_
};

}  // namespace forge

#endif  // FORGE_LIB_UTIL_PROGRESS_H_
