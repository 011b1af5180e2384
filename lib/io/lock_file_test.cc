#include "lib/io/lock_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

// A path in a scratch directory of the test's own.
std::string Path(const std::string& name) { return testdata::NewScratchDir() + "/" + name; }

TEST(LockFileTest, SecondHolderIsRefusedUntilTheFirstLetsGo) {
  const std::string path = Path("run.lock");
  absl::StatusOr<std::unique_ptr<LockFile>> first = LockFile::Acquire(path);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<LockFile>> second = LockFile::Acquire(path);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(second.status().message(), path)) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat("process ", getpid())))
      << second.status();
  first->reset();
  EXPECT_TRUE(LockFile::Acquire(path).ok());
}

TEST(LockFileTest, AnotherProcessIsRefusedAndALockDiesWithItsProcess) {
  const std::string path = Path("shared.lock");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = LockFile::Acquire(path);
    char byte = lock.ok() ? 1 : 0;
    (void)!write(ready[1], &byte, 1);
    pause();  // killed by the parent
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 1);
  absl::StatusOr<std::unique_ptr<LockFile>> refused = LockFile::Acquire(path);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), absl::StrCat("process ", child))) << refused.status();
  kill(child, SIGKILL);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  EXPECT_TRUE(LockFile::Acquire(path).ok());
}

TEST(LockFileTest, MissingDirectoryIsAnErrorNamingThePath) {
  absl::StatusOr<std::unique_ptr<LockFile>> lock = LockFile::Acquire(Path("no/such/dir/x.lock"));
  ASSERT_FALSE(lock.ok());
  EXPECT_TRUE(absl::StrContains(lock.status().message(), "no/such/dir/x.lock")) << lock.status();
}

}  // namespace
}  // namespace forge
