#include "lib/util/exit_code.h"

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace forge {
namespace {

TEST(ExitCodeTest, MapsStatusToDocumentedCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("bad flag")), 2);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("no file")), 2);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("not prepared")), 2);
  EXPECT_EQ(ExitCodeFor(absl::AlreadyExistsError("exists")), 2);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("denied")), 2);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("bug")), 1);
  EXPECT_EQ(ExitCodeFor(absl::DataLossError("disk")), 1);
  EXPECT_EQ(ExitCodeFor(absl::OutOfRangeError("file too large")), 1);
  EXPECT_EQ(ExitCodeFor(absl::CancelledError("stopped by SIGTERM")), kExitStopped);
  EXPECT_EQ(kExitStopped, 75);
}

// The same errno exits the same way whichever tool meets it.
TEST(ExitCodeTest, FileErrorsFromErrno) {
  for (int error : {ENOENT, EACCES, EPERM, EROFS, EISDIR, ENOTDIR, EEXIST}) {
    EXPECT_EQ(ExitCodeFor(absl::ErrnoToStatus(error, "cannot open x")), 2) << std::strerror(error);
  }
  for (int error : {EIO, ENOSPC, EDQUOT, EFBIG, EMFILE, ENOMEM}) {
    EXPECT_EQ(ExitCodeFor(absl::ErrnoToStatus(error, "cannot write x")), 1) << std::strerror(error);
  }
}

TEST(ExitCodeTest, TheEndOfAMain) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(ExitWithError(absl::NotFoundError("no such file: x.pb")), 2);
  EXPECT_EQ(ExitWithError(absl::CancelledError("stopped")), kExitStopped);
  EXPECT_EQ(ExitWithUsageError("--out is required"), 2);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "") << "errors go to stderr only";

  ::testing::internal::CaptureStdout();
  EXPECT_EQ(ExitWithSummary("tool: images=3 out=x.pb"), 0);
  EXPECT_EQ(ExitWithSummary(""), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "tool: images=3 out=x.pb\n");
}

}  // namespace
}  // namespace forge
