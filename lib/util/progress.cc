#include "lib/util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge {
namespace {

constexpr int kBarWidth = 24;

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

}  // namespace

ProgressOptions::ProgressOptions()
    : interactive(::isatty(STDERR_FILENO) == 1), interval_seconds(interactive ? 0.1 : 10.0) {}

std::string FormatProgress(const std::string& label, int64_t done, int64_t total,
                           double elapsed_seconds, const ProgressOptions& options) {
  const double rate = elapsed_seconds > 0 ? done / elapsed_seconds : 0.0;
  std::string line = options.interactive ? absl::StrCat(label, " ") : absl::StrCat(label, ": ");
  if (total > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / total);
    if (options.interactive) {
      const int filled = static_cast<int>(fraction * kBarWidth);
      absl::StrAppend(&line, "[", std::string(filled, '#'), std::string(kBarWidth - filled, ' '), "] ");
    }
    absl::StrAppendFormat(&line, "%d/%d %s%.0f%%%s", done, total, options.interactive ? "" : "(",
                          100 * fraction, options.interactive ? "" : ")");
  } else {
    absl::StrAppend(&line, done);
  }
  absl::StrAppendFormat(&line, " %.1f %s/s", rate, options.unit);
  if (total > 0 && done < total) {
    absl::StrAppend(&line, " ETA ", FormatDuration(rate > 0 ? (total - done) / rate : -1));
  } else {
    absl::StrAppend(&line, " in ", FormatDuration(elapsed_seconds));
  }
  return line;
}

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(total),
      options_(std::move(options)),
      start_(std::chrono::steady_clock::now()),
      next_report_ns_(static_cast<int64_t>(options_.interval_seconds * 1e9)) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Add(int64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - start_)
                             .count();
  if (now_ns < next_report_ns_.load(std::memory_order_relaxed)) return;
  std::unique_lock<std::mutex> lock(report_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  next_report_ns_.store(now_ns + static_cast<int64_t>(options_.interval_seconds * 1e9),
                        std::memory_order_relaxed);
  Report(/*final=*/false);
}

void ProgressBar::Finish() {
  std::lock_guard<std::mutex> lock(report_mutex_);
  if (finished_) return;
  finished_ = true;
  Report(/*final=*/true);
}

void ProgressBar::SetNote(std::string note) {
  std::lock_guard<std::mutex> lock(note_mutex_);
  note_ = std::move(note);
}

void ProgressBar::Report(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = FormatProgress(label_, done(), total_, elapsed, options_);
  {
    std::lock_guard<std::mutex> lock(note_mutex_);
    if (!note_.empty()) absl::StrAppend(&line, " ", note_);
  }
  if (options_.interactive) {
    // \33[K clears what a longer previous line left behind.
    std::fprintf(options_.out, "\r%s\33[K%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(options_.out, "%s\n", line.c_str());
  }
  std::fflush(options_.out);
}

}  // namespace forge
