#include "lib/train/tensorboard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/io/write_all.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"
#include "proto/tensorboard.pb.h"

namespace forge {
namespace {

// "<what> <path>: <strerror>" with absl::ErrnoToStatus's code, as lib/io reports file errors.
absl::Status ErrnoError(int error, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

// mkdir -p.
absl::Status MakeDirectories(const std::string& dir) {
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string prefix = dir.substr(0, end);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "cannot create directory", prefix);
    }
    if (end == std::string::npos) break;
  }
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) return ErrnoError(errno, "cannot create directory", dir);
  if (!S_ISDIR(info.st_mode)) return absl::InvalidArgumentError(absl::StrCat(dir, " is not a directory"));
  return absl::OkStatus();
}

std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// AtomicFile names its temporary files "<path>.tmp.XXXXXX".
bool IsTemporaryFile(absl::string_view name) {
  constexpr size_t kTail = 5 + 6;  // ".tmp." + six random characters
  return name.size() > kTail && name.substr(name.size() - kTail, 5) == ".tmp.";
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventWriter>> EventWriter::Create(const std::string& dir,
                                                                 const std::string& suffix) {
  if (dir.empty()) return absl::InvalidArgumentError("the event file directory is empty");
  if (absl::Status status = MakeDirectories(dir); !status.ok()) return status;
  const absl::Time now = absl::Now();
  std::string base =
      absl::StrCat(dir, dir.back() == '/' ? "" : "/", "events.out.tfevents.", absl::ToUnixSeconds(now), ".", HostName());
  if (!suffix.empty()) absl::StrAppend(&base, ".", suffix);
  // A name taken (a run resumed within the same second) gets ".1", ".2", ...: such names sort
  // after the taken one, and TensorBoard reads the files of a directory in name order.
  std::string path = base;
  int fd = -1;
  for (int attempt = 1; fd < 0; ++attempt) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt > 1000)) return ErrnoError(errno, "cannot create event file", path);
    if (fd < 0) path = absl::StrCat(base, ".", attempt);
  }
  std::unique_ptr<EventWriter> writer(new EventWriter(std::move(path), fd));
  Event event;
  event.set_wall_time(absl::ToDoubleSeconds(now - absl::UnixEpoch()));
  event.set_file_version(kEventFileVersion);
  if (absl::Status status = writer->WriteEvent(event.SerializeAsString()); !status.ok()) return status;
  return writer;
}

EventWriter::~EventWriter() { ::close(fd_); }

absl::Status EventWriter::WriteEvent(const std::string& serialized_event) {
  if (!status_.ok()) return status_;
  std::string framed;
  AppendFramedRecord(serialized_event, &framed);
  status_ = WriteAll(fd_, framed, path_);
  return status_;
}

absl::Status EventWriter::AddScalar(const std::string& tag, int64_t step, double value, double wall_time_seconds) {
  Event event;
  event.set_wall_time(wall_time_seconds);
  event.set_step(step);
  Summary::Value* summary_value = event.mutable_summary()->add_value();
  summary_value->set_tag(tag);
  summary_value->set_simple_value(static_cast<float>(value));
  return WriteEvent(event.SerializeAsString());
}

absl::Status EventWriter::Flush() {
  if (!status_.ok()) return status_;
  if (::fsync(fd_) != 0) status_ = ErrnoError(errno, "cannot write event file", path_);
  return status_;
}

namespace {

// Whether `keep` keeps every value of `event` (an event without values: keep("", step)).
bool Kept(const Event& event, const KeepEvent& keep) {
  if (event.summary().value().empty()) return keep("", event.step());
  for (const Summary::Value& value : event.summary().value()) {
    if (!keep(value.tag(), event.step())) return false;
  }
  return true;
}

}  // namespace

absl::Status RewriteEventsWithoutStepsAfter(const std::string& dir, int64_t last_kept_step,
                                            EventRewriteResult* result) {
  return RewriteEvents(
      dir, [last_kept_step](const std::string&, int64_t step) { return step <= last_kept_step; }, result);
}

absl::Status RewriteEvents(const std::string& dir, const KeepEvent& keep, EventRewriteResult* result) {
  EventRewriteResult local;
  if (result == nullptr) result = &local;
  *result = EventRewriteResult();

  std::vector<std::string> names;
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "cannot list", dir);
  }
  while (const dirent* entry = ::readdir(listing)) {
    // TensorBoard reads every file whose name contains "tfevents".
    if (absl::StrContains(entry->d_name, "tfevents")) names.emplace_back(entry->d_name);
  }
  ::closedir(listing);

  for (const std::string& name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    struct stat info;
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    if (IsTemporaryFile(name)) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "cannot remove", path);
      continue;
    }
    absl::StatusOr<std::unique_ptr<RecordFile>> file = RecordFile::Open(path);
    if (!file.ok()) return file.status();
    std::vector<std::string> kept;
    bool changed = false;
    for (uint64_t offset = 0; offset < (*file)->size();) {
      absl::StatusOr<std::string> record = (*file)->ReadAt(offset);
      if (!record.ok()) {
        result->damaged.push_back(std::string(record.status().message()));
        changed = true;
        break;
      }
      const uint64_t record_offset = offset;
      offset += record->size() + kRecordOverhead;
      Event event;
      if (!event.ParseFromString(*record)) {
        result->damaged.push_back(
            absl::StrCat(path, ": the record at byte offset ", record_offset, " is not an Event"));
        changed = true;
        continue;
      }
      if (event.what_case() != Event::kFileVersion && !Kept(event, keep)) {
        ++result->events_dropped;
        changed = true;
        continue;
      }
      kept.push_back(std::move(*record));
    }
    if (!changed) continue;
    absl::StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(path);
    if (!writer.ok()) return writer.status();
    for (const std::string& record : kept) {
      if (absl::Status status = (*writer)->Write(record); !status.ok()) return status;
    }
    if (absl::Status status = (*writer)->Close(); !status.ok()) return status;
    ++result->files_rewritten;
  }
  return absl::OkStatus();
}

}  // namespace forge
