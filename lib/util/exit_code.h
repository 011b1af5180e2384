// The process exit code every tool returns for a Status, and the common end of every main():
//
//   absl::StatusOr<Result> result = Run(options);
//   if (!result.ok()) return ExitWithError(result.status());
//   return ExitWithSummary(SummaryLine(*result));
#ifndef FORGE_LIB_UTIL_EXIT_CODE_H_
#define FORGE_LIB_UTIL_EXIT_CODE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forge {

// The exit code of a tool stopped by a stop signal after saving its state (lib/util/stop_signals.h):
// run the same command again to continue. 75 is EX_TEMPFAIL of sysexits.h, "try again later".
inline constexpr int kExitStopped = 75;

// 0 for OK; 2 for bad usage or bad input (InvalidArgument, NotFound, PermissionDenied,
// FailedPrecondition, AlreadyExists); kExitStopped (75) for Cancelled, which tools return when a
// stop signal made them save their state and stop; 1 for any other failure at run time
// (DataLoss, ResourceExhausted such as a full disk, OutOfRange such as a file over the size
// limit, Internal, Unknown, ...).
//
// File errors reach here through absl::ErrnoToStatus, so a given errno exits the same way from
// every tool: ENOENT (NotFound), EACCES/EPERM/EROFS (PermissionDenied), EISDIR/ENOTDIR
// (FailedPrecondition) and EEXIST (AlreadyExists) name a path the user can fix before rerunning,
// hence 2; EIO, ENOSPC, EFBIG and the like are failures of the run, hence 1.
int ExitCodeFor(const absl::Status& status);

// A failed tool's last words: `status`'s message on stderr (glog ERROR), and ExitCodeFor(status).
int ExitWithError(const absl::Status& status);

// Bad usage found by main() itself (a missing flag, flags that conflict): `message` on stderr,
// and 2.
int ExitWithUsageError(absl::string_view message);

// A successful tool's one-line, machine-readable summary ("tool: key=value ...") on stdout,
// nothing when `summary` is empty (say, the tool's output went to stdout), and 0.
int ExitWithSummary(absl::string_view summary);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_EXIT_CODE_H_
