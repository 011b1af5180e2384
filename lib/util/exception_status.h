// Exceptions turned into Status at the boundary of code that must not throw: LibTorch throws
// c10::Error, the allocator std::bad_alloc, and an exception that leaves a worker thread calls
// std::terminate and takes the whole process with it.
#ifndef FORGE_LIB_UTIL_EXCEPTION_STATUS_H_
#define FORGE_LIB_UTIL_EXCEPTION_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forge {

// The exception being handled, as a Status whose message is "<context>: <what()>":
// ResourceExhausted for std::bad_alloc (and its subclasses), Internal for any other
// std::exception (c10::Error included; LibTorch's backtrace is cut off) or a non-standard
// exception. Call only inside a catch block.
//
//   try {
//     status = transform(bytes, seed, out);
//   } catch (...) {
//     status = CurrentExceptionStatus(dataset.Describe(i));
//   }
absl::Status CurrentExceptionStatus(absl::string_view context);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_EXCEPTION_STATUS_H_
