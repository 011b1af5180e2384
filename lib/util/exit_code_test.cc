#include "lib/util/exit_code.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(ExitCodeTest, MapsStatusToDocumentedCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("bad flag")), 2);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("no file")), 2);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("not prepared")), 2);
  EXPECT_EQ(ExitCodeFor(absl::AlreadyExistsError("exists")), 2);
  EXPECT_EQ(ExitCodeFor(absl::OutOfRangeError("range")), 2);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("bug")), 1);
  EXPECT_EQ(ExitCodeFor(absl::DataLossError("disk")), 1);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("denied")), 1);
  EXPECT_EQ(ExitCodeFor(absl::CancelledError("stopped by SIGTERM")), kExitStopped);
  EXPECT_EQ(kExitStopped, 75);
}

}  // namespace
}  // namespace forge
