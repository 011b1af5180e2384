// The start of every tool's main(): flags, logging to stderr, usage text.
#ifndef FORGE_LIB_UTIL_TOOL_INIT_H_
#define FORGE_LIB_UTIL_TOOL_INIT_H_

namespace forge {

// Parses gflags (removing them from argv), sends glog output to stderr and sets the usage text
// shown by --help. Exits with code 2 if positional arguments remain, since no tool takes any.
void InitTool(const char* usage, int* argc, char*** argv);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_TOOL_INIT_H_
