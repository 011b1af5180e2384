// The process exit code every tool returns for a Status.
#ifndef FORGE_LIB_UTIL_EXIT_CODE_H_
#define FORGE_LIB_UTIL_EXIT_CODE_H_

#include "absl/status/status.h"

namespace forge {

// 0 for OK; 2 for bad usage or bad input (InvalidArgument, NotFound, FailedPrecondition,
// AlreadyExists, OutOfRange); 1 for any other failure at run time.
int ExitCodeFor(const absl::Status& status);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_EXIT_CODE_H_
