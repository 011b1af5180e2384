#include "lib/util/exit_code.h"

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

}  // namespace forge
