// The process exit code every tool returns for a Status.
#ifndef FORGE_LIB_UTIL_EXIT_CODE_H_
#define FORGE_LIB_UTIL_EXIT_CODE_H_

#include "absl/status/status.h"

namespace forge {

// The exit code of a tool stopped by a stop signal after saving its state (lib/util/stop_signals.h):
// run the same command again to continue. 75 is EX_TEMPFAIL of sysexits.h, "try again later".
inline constexpr int kExitStopped = 75;

// 0 for OK; 2 for bad usage or bad input (InvalidArgument, NotFound, FailedPrecondition,
// AlreadyExists, OutOfRange); kExitStopped (75) for Cancelled, which tools return when a stop
// signal made them save their state and stop; 1 for any other failure at run time.
int ExitCodeFor(const absl::Status& status);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_EXIT_CODE_H_
