#include "lib/util/exception_status.h"

#include <new>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace forge {
namespace {

template <typename Throw>
absl::Status Caught(Throw thrower) {
  try {
    thrower();
  } catch (...) {
    return CurrentExceptionStatus("fake@3");
  }
  return absl::OkStatus();
}

TEST(CurrentExceptionStatusTest, BadAllocIsResourceExhausted) {
  const absl::Status status = Caught([] { throw std::bad_alloc(); });
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(status.message().rfind("fake@3: out of memory", 0), 0u) << status;
}

TEST(CurrentExceptionStatusTest, StandardExceptionsAreInternalWithTheirMessage) {
  const absl::Status status = Caught([] { throw std::runtime_error("shape mismatch"); });
  EXPECT_TRUE(absl::IsInternal(status)) << status;
  EXPECT_EQ(status.message(), "fake@3: shape mismatch");
}

TEST(CurrentExceptionStatusTest, LibTorchBacktraceIsCutOff) {
  const absl::Status status = Caught([] {
    throw std::runtime_error(
        "invalid size\nException raised from empty_cpu at aten/src/ATen/Empty.cpp:12 (most "
        "recent call first):\nframe #0: ...");
  });
  EXPECT_EQ(status.message(), "fake@3: invalid size");
}

TEST(CurrentExceptionStatusTest, AnythingElseIsInternal) {
  const absl::Status status = Caught([] { throw 42; });
  EXPECT_TRUE(absl::IsInternal(status)) << status;
  EXPECT_EQ(status.message(), "fake@3: unknown exception");
}

}  // namespace
}  // namespace forge
