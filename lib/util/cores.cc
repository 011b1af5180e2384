#include "lib/util/cores.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace forge {
namespace {

// The CPUs in the calling thread's affinity mask; nullopt if it cannot be read. The mask may
// be larger than cpu_set_t's 1024 CPUs, so grow it until the kernel accepts it.
std::optional<int> AffinityCpus() {
  for (size_t cpus = CPU_SETSIZE; cpus <= (size_t{1} << 20); cpus *= 2) {
    const size_t bytes = CPU_ALLOC_SIZE(cpus);
    std::vector<unsigned long> mask((bytes + sizeof(unsigned long) - 1) / sizeof(unsigned long));
    cpu_set_t* set = reinterpret_cast<cpu_set_t*>(mask.data());
    if (sched_getaffinity(0, bytes, set) == 0) return CPU_COUNT_S(bytes, set);
    if (errno != EINVAL) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// The smallest quota of the process's cgroup and its ancestors, where the cgroup v2 hierarchy
// is mounted at /sys/fs/cgroup. In a container with its own cgroup namespace the path is "/",
// so this reads /sys/fs/cgroup/cpu.max, the container's own limit.
std::optional<int> CgroupQuotaCpus() {
  const std::optional<std::string> proc = ReadSmallFile("/proc/self/cgroup");
  std::string path = "/";
  if (proc) {
    if (std::optional<std::string> found = CgroupV2Path(*proc)) path = *found;
  }
  std::optional<int> quota;
  while (true) {
    const std::string dir = "/sys/fs/cgroup" + (path == "/" ? std::string() : path);
    if (const std::optional<std::string> max = ReadSmallFile(dir + "/cpu.max")) {
      if (const std::optional<int> cpus = CpuQuotaFromCgroupMax(*max)) {
        quota = quota ? std::min(*quota, *cpus) : *cpus;
      }
    }
    if (path == "/" || path.empty()) break;
    const size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return quota;
}

}  // namespace

std::optional<int> CpuQuotaFromCgroupMax(absl::string_view contents) {
  contents = absl::StripAsciiWhitespace(contents);
  const std::vector<absl::string_view> fields = absl::StrSplit(contents, ' ', absl::SkipEmpty());
  if (fields.size() != 2) return std::nullopt;
  int64_t quota = 0, period = 0;
  if (fields[0] == "max" || !absl::SimpleAtoi(fields[0], &quota) ||
      !absl::SimpleAtoi(fields[1], &period) || quota <= 0 || period <= 0) {
    return std::nullopt;
  }
  const int64_t cpus = (quota + period - 1) / period;
  return static_cast<int>(std::clamp<int64_t>(cpus, 1, 1 << 20));
}

std::optional<std::string> CgroupV2Path(absl::string_view proc_cgroup) {
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n')) {
    if (absl::ConsumePrefix(&line, "0::")) return std::string(line);
  }
  return std::nullopt;
}

int UsableCores() {
  int cores = 0;
  if (const std::optional<int> affinity = AffinityCpus()) {
    cores = *affinity;
  } else {
    cores = static_cast<int>(std::thread::hardware_concurrency());
  }
  if (const std::optional<int> quota = CgroupQuotaCpus()) {
    cores = cores > 0 ? std::min(cores, *quota) : *quota;
  }
  return std::max(cores, 1);
}

int CoreShare(int local_processes) {
  const int usable = UsableCores();
  const int machine = static_cast<int>(std::thread::hardware_concurrency());
  if (local_processes <= 1 || (machine > 0 && usable < machine)) return usable;
  return std::max(1, usable / local_processes);
}

}  // namespace forge
