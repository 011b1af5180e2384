#include "lib/util/tool_init.h"

#include <cstdio>
#include <cstdlib>

#include <gflags/gflags.h>
#include <glog/logging.h>

namespace forge {

void InitTool(const char* usage, int* argc, char*** argv) {
  FLAGS_logtostderr = true;
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(argc, argv, /*remove_flags=*/true);
  google::InitGoogleLogging((*argv)[0]);
  if (*argc > 1) {
    std::fprintf(stderr, "%s: unexpected argument '%s' (flags are --name=value)\n", (*argv)[0],
                 (*argv)[1]);
    std::exit(2);
  }
}

}  // namespace forge
