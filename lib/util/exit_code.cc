#include "lib/util/exit_code.h"

#include <cstdio>

#include <glog/logging.h>

namespace forge {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return 2;
    case absl::StatusCode::kCancelled:
      return kExitStopped;
    default:
      return 1;
  }
}

int ExitWithError(const absl::Status& status) {
  LOG(ERROR) << status.message();
  return ExitCodeFor(status);
}

int ExitWithUsageError(absl::string_view message) {
  LOG(ERROR) << message;
  return 2;
}

int ExitWithSummary(absl::string_view summary) {
  if (!summary.empty()) {
    std::fwrite(summary.data(), 1, summary.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace forge
