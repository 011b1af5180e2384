// Writes a sample TensorBoard run into the directory given as the only argument, the way `train`
// does across a resume: a first run logs steps 0..29 (and crashes with a torn record at the
// end), a checkpoint at step 19 is resumed, and the resumed run logs steps 20..39 with other
// values. testdata/check_tensorboard.py reads the result with TensorBoard's own loader.
//
//   bazel run //lib/train:write_sample_events -- /tmp/tb_sample
//
// With --no_rewrite as a second argument it skips the rewrite, which check_tensorboard.py must
// then refuse (steps 20..29 twice).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/train/tensorboard.h"

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "write_sample_events: %s\n", std::string(status.message()).c_str());
  return 1;
}

// The value check_tensorboard.py expects for `tag` at `step`.
double Value(const std::string& tag, int64_t step) {
  if (tag == "train/loss") return 2.5 * std::exp(-0.05 * step);
  return 0.1 * (step + 1);  // train/lr
}

}  // namespace

int main(int argc, char** argv) {
  const bool rewrite = argc == 2;
  if (argc != 2 && !(argc == 3 && std::string(argv[2]) == "--no_rewrite")) {
    std::fprintf(stderr, "usage: write_sample_events <dir> [--no_rewrite]\n");
    return 2;
  }
  const std::string dir = argv[1];
  absl::StatusOr<std::unique_ptr<forge::EventWriter>> first = forge::EventWriter::Create(dir, "run1");
  if (!first.ok()) return Fail(first.status());
  for (int64_t step = 0; step < 30; ++step) {
    for (const char* tag : {"train/loss", "train/lr"}) {
      // Steps after the checkpoint get values the resumed run does not repeat (-1).
      const double value = step <= 19 ? Value(tag, step) : -1.0;
      if (absl::Status s = (*first)->AddScalar(tag, step, value, 1.7e9 + step); !s.ok()) return Fail(s);
    }
  }
  if (absl::Status s = (*first)->Flush(); !s.ok()) return Fail(s);
  const std::string first_path = (*first)->path();
  first->reset();
  // The crash: half a record at the end of the file.
  std::ofstream(first_path, std::ios::binary | std::ios::app).write("\x20\x00\x00\x00\x00\x00", 6);

  forge::EventRewriteResult result;
  if (rewrite) {
    if (absl::Status s = forge::RewriteEventsWithoutStepsAfter(dir, 19, &result); !s.ok()) return Fail(s);
  }
  std::printf("rewrite: %d file(s) rewritten, %lld event(s) dropped, %zu damaged tail(s)\n", result.files_rewritten,
              static_cast<long long>(result.events_dropped), result.damaged.size());

  absl::StatusOr<std::unique_ptr<forge::EventWriter>> resumed = forge::EventWriter::Create(dir, "run2");
  if (!resumed.ok()) return Fail(resumed.status());
  for (int64_t step = 20; step < 40; ++step) {
    for (const char* tag : {"train/loss", "train/lr"}) {
      if (absl::Status s = (*resumed)->AddScalar(tag, step, Value(tag, step), 1.7e9 + 100 + step); !s.ok()) {
        return Fail(s);
      }
    }
  }
  if (absl::Status s = (*resumed)->AddScalar("val/top1", 39, 76.5, 1.7e9 + 200); !s.ok()) return Fail(s);
  if (absl::Status s = (*resumed)->Flush(); !s.ok()) return Fail(s);
  std::printf("wrote %s and %s\n", first_path.c_str(), (*resumed)->path().c_str());
  return 0;
}
