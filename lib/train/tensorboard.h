// TensorBoard event files: scalars written in TensorFlow's format (TFRecord framing of Event
// protos, proto/tensorboard.proto), and the rewrite a resumed run needs so that no step appears
// twice.
#ifndef FORGE_LIB_TRAIN_TENSORBOARD_H_
#define FORGE_LIB_TRAIN_TENSORBOARD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge {

// The first record of every event file, as TensorFlow writes it.
inline constexpr char kEventFileVersion[] = "brain.Event:2";

// Writes one event file, <dir>/events.out.tfevents.<unix seconds>.<hostname>[.<suffix>], which
// TensorBoard reads (point `tensorboard --logdir` at `dir` or a parent). Each AddScalar hands its
// record to the operating system at once, so TensorBoard sees it live and a killed process loses
// nothing; Flush() makes it durable. Not thread-safe.
//
//   absl::StatusOr<std::unique_ptr<EventWriter>> events = EventWriter::Create(run_dir + "/tb");
//   if (!events.ok()) return events.status();
//   absl::Status status = (*events)->AddScalar("train/loss", step, loss, now_seconds);
//   if (status.ok()) status = (*events)->Flush();
//   if (!status.ok()) return status;
//
// A resumed run rewrites the existing files (RewriteEvents) before Create(): see
// lib/engine/hooks.h's MakeTensorBoardHook.
class EventWriter {
 public:
  // Creates `dir` (and missing parents) and a new event file in it, holding the file-version
  // record. Never reuses a name: if the file exists (a run resumed within the same second),
  // ".1", ".2", ... is appended, which sorts after it. Fails with the error of the file system,
  // naming the path.
  static absl::StatusOr<std::unique_ptr<EventWriter>> Create(const std::string& dir,
                                                             const std::string& suffix = "");
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // Appends one Event holding the scalar `tag` = `value` (stored as float, as TensorBoard does).
  // After a failed write every later call fails with the first error.
  absl::Status AddScalar(const std::string& tag, int64_t step, double value, double wall_time_seconds);

  // Makes everything added so far durable (fsync). Returns the first error of any call so far.
  absl::Status Flush();

  const std::string& path() const { return path_; }

 private:
  EventWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status WriteEvent(const std::string& serialized_event);

  const std::string path_;
  const int fd_;
  absl::Status status_;
};

// What a rewrite did.
struct EventRewriteResult {
  int files_rewritten = 0;     // files that lost events and were replaced
  int64_t events_dropped = 0;  // events the rule did not keep
  // One message per damaged spot: a record that cannot be read (torn by a crash, a CRC
  // mismatch) drops everything from it to the end of its file; a record that reads but is not
  // an Event is dropped alone. Expected after kill -9.
  std::vector<std::string> damaged;
};

// Which events a rewrite keeps: called with the tag and step of each value of an event.
using KeepEvent = std::function<bool(const std::string& tag, int64_t step)>;

// Prepares the event files in `dir` for a resumed run: every events.out.tfevents.* file keeps
// the events whose every value `keep` keeps (and, always, the file-version record) and loses the
// damaged records described at EventRewriteResult; each changed file is replaced atomically,
// unchanged files are not touched. Also removes temporary files a crashed rewrite left behind
// (TensorBoard would read them as event files). Call it before EventWriter::Create of the
// resumed run: an event file still being written by a live writer would lose that writer's
// later records. A missing `dir` is not an error (nothing to rewrite). Fails only if a file
// cannot be read or replaced, naming it. `result`, if not null, says what was done.
absl::Status RewriteEvents(const std::string& dir, const KeepEvent& keep, EventRewriteResult* result = nullptr);

// RewriteEvents keeping the events of steps up to `last_kept_step`.
absl::Status RewriteEventsWithoutStepsAfter(const std::string& dir, int64_t last_kept_step,
                                            EventRewriteResult* result = nullptr);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_TENSORBOARD_H_
