// How many threads "one per core" means for this process: the CPUs it may actually run on,
// which in a container or under taskset is often far fewer than the machine has.
#ifndef FORGE_LIB_UTIL_CORES_H_
#define FORGE_LIB_UTIL_CORES_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace forge {

// The cores this process may use, at least 1: the CPUs in the calling thread's affinity mask
// (sched_getaffinity; taskset, numactl, docker --cpuset-cpus), lowered to the cgroup v2 CPU
// quota of the process's cgroup and its ancestors (cpu.max; docker --cpus, Kubernetes CPU
// limits) rounded up. std::thread::hardware_concurrency() counts every CPU of the machine
// instead, so "one thread per core" would oversubscribe a restricted process. Tools use it for
// their "--threads=0". Cheap enough to call once per pool, not per item (reads a few files).
//
//   const int threads = options.threads > 0 ? options.threads : UsableCores();
int UsableCores();

// This process's share of the cores when `local_processes` processes of one job run on this
// machine: UsableCores() divided among them (at least 1), unless the launcher already gave the
// process fewer CPUs than the machine has (mpirun's core binding, srun --cpus-per-task): then
// all of those. What the training tools' "--threads=0" means in a job.
int CoreShare(int local_processes);

// The CPUs a cgroup v2 `cpu.max` file grants: ceil(quota / period) from its "<quota> <period>"
// line, at least 1; nullopt for "max <period>" (no quota) and for contents that do not parse.
//   CpuQuotaFromCgroupMax("150000 100000\n") == 2
std::optional<int> CpuQuotaFromCgroupMax(absl::string_view contents);

// The cgroup v2 path of a process from its /proc/<pid>/cgroup contents: the path of the
// "0::<path>" line (e.g. "/user.slice/session-1.scope"); nullopt without one (cgroup v1 only).
std::optional<std::string> CgroupV2Path(absl::string_view proc_cgroup);

}  // namespace forge

#endif  // FORGE_LIB_UTIL_CORES_H_
