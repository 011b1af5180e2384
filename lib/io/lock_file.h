// An exclusive lock held by one process on a file, e.g. to keep two `train` processes off one
// run directory. The lock is flock(2)'s: the kernel drops it when the process ends however it
// ends (kill -9 included), so a stale lock never blocks a restart. The file holds the holder's
// pid, for the error message of the next process that tries.
//
//   absl::StatusOr<std::unique_ptr<LockFile>> lock = LockFile::Acquire(run_dir + "/train.lock");
//   if (!lock.ok()) return lock.status();  // "... is locked by process 1234"
//   ... the lock is held until *lock is destroyed.
#ifndef FORGE_LIB_IO_LOCK_FILE_H_
#define FORGE_LIB_IO_LOCK_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace forge {

class LockFile {
 public:
  // Creates `path` if missing and locks it without waiting. FailedPrecondition naming the file
  // and the holder's pid if another process (or another LockFile of this one) holds it; the
  // file system's error otherwise.
  static absl::StatusOr<std::unique_ptr<LockFile>> Acquire(const std::string& path);
  ~LockFile();  // releases the lock; the file stays
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

 private:
  explicit LockFile(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace forge

#endif  // FORGE_LIB_IO_LOCK_FILE_H_
