// Fuzzes the TensorBoard event reader: RewriteEvents, which a resumed run applies to the event
// files of the run before it (torn or damaged records, payloads that are not Events, values of
// any tag and step). See lib/records/fuzz_input.h for the input. Property: a second rewrite with
// the same rule finds nothing to change.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/records/fuzz_input.h"
#include "lib/train/tensorboard.h"
#include "proto/tensorboard.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int64_t last_kept_step = size > 0 ? data[0] % 8 : 0;
  const std::string path = forge::WriteScratchFile(forge::RecordFileFromFuzzInput(data, size), "tb/events.out.tfevents.1.fuzz");
  const std::string dir = std::filesystem::path(path).parent_path();
  forge::EventRewriteResult first;
  absl::Status status = forge::RewriteEventsWithoutStepsAfter(dir, last_kept_step, &first);
  CHECK(status.ok()) << status;
  forge::EventRewriteResult second;
  status = forge::RewriteEventsWithoutStepsAfter(dir, last_kept_step, &second);
  CHECK(status.ok()) << status;
  CHECK_EQ(second.files_rewritten, 0);
  CHECK_EQ(second.events_dropped, 0);
  CHECK(second.damaged.empty()) << second.damaged.front();
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  const std::string dir = forge::ScratchFolder("seeds");
  absl::StatusOr<std::unique_ptr<forge::EventWriter>> writer = forge::EventWriter::Create(dir);
  CHECK(writer.ok()) << writer.status();
  for (int step = 0; step < 6; ++step) {
    CHECK((*writer)->AddScalar("train/loss", step, 6.9 - step, 1000.0 + step).ok());
    CHECK((*writer)->AddScalar("train/lr", step, 0.1, 1000.0 + step).ok());
  }
  CHECK((*writer)->Flush().ok());
  return forge::FuzzInputsForRecordFile((*writer)->path());
}
