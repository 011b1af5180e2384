#include "lib/util/exception_status.h"

#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace forge {
namespace {

// c10::Error's what() appends a backtrace of a few kilobytes after this line; the message
// before it is what a user can act on.
constexpr absl::string_view kBacktraceStart = "\nException raised from ";

std::string WithoutBacktrace(absl::string_view what) {
  const size_t cut = what.find(kBacktraceStart);
  return std::string(cut == absl::string_view::npos ? what : what.substr(0, cut));
}

}  // namespace

absl::Status CurrentExceptionStatus(absl::string_view context) {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat(context, ": out of memory (", e.what(), ")"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", WithoutBacktrace(e.what())));
  } catch (...) {
    return absl::InternalError(absl::StrCat(context, ": unknown exception"));
  }
}

}  // namespace forge
