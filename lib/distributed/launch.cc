#include "lib/distributed/launch.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace forge {
namespace {

// The variable as an integer >= minimum; `fallback` when unset.
absl::StatusOr<int> Integer(const GetEnv& env, const char* name, int fallback, int minimum) {
  const char* text = env(name);
  if (text == nullptr) return fallback;
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < minimum) {
    return absl::InvalidArgumentError(absl::StrCat("environment variable ", name, "=", text, " is not an integer >= ",
                                                   minimum));
  }
  return value;
}

struct Names {
  const char* launcher;
  const char* rank;
  const char* size;
  const char* local_rank;
  const char* local_size;
};

// SLURM_NTASKS_PER_NODE may read "4" or "4(x2)"; SLURM_TASKS_PER_NODE likewise.
absl::StatusOr<int> SlurmTasksPerNode(const GetEnv& env, int fallback) {
  for (const char* name : {"SLURM_NTASKS_PER_NODE", "SLURM_TASKS_PER_NODE"}) {
    const char* text = env(name);
    if (text == nullptr) continue;
    const std::string first(text, std::strcspn(text, "(,"));
    int value = 0;
    if (!absl::SimpleAtoi(first, &value) || value < 1) {
      return absl::InvalidArgumentError(absl::StrCat("environment variable ", name, "=", text, " is not a task count"));
    }
    return value;
  }
  return fallback;
}

}  // namespace

std::string FirstSlurmHost(const std::string& nodelist) {
  const size_t end = nodelist.find_first_of(",[");
  if (end == std::string::npos || nodelist[end] == ',') return nodelist.substr(0, end);
  // prefix[first-last,...]suffix: the prefix, the bracket's first number (zero padding kept), the
  // text after the bracket up to the next host.
  const size_t close = nodelist.find(']', end);
  if (close == std::string::npos) return nodelist.substr(0, end);
  const std::string inside = nodelist.substr(end + 1, close - end - 1);
  const std::string first = inside.substr(0, inside.find_first_of("-,"));
  const size_t next = nodelist.find(',', close);
  return nodelist.substr(0, end) + first + nodelist.substr(close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
}

GetEnv ProcessEnvironment() {
  return [](const char* name) { return static_cast<const char*>(std::getenv(name)); };
}

absl::StatusOr<Launch> DetectLaunch(const GetEnv& env) {
  static const Names kLaunchers[] = {
      {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"},
      {"mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
       "OMPI_COMM_WORLD_LOCAL_SIZE"},
      {"srun", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", nullptr},
  };
  Launch launch;
  for (const Names& names : kLaunchers) {
    if (env(names.rank) == nullptr || env(names.size) == nullptr) continue;
    launch.launcher = names.launcher;
    absl::StatusOr<int> size = Integer(env, names.size, 1, 1);
    if (!size.ok()) return size.status();
    absl::StatusOr<int> rank = Integer(env, names.rank, 0, 0);
    if (!rank.ok()) return rank.status();
    if (*rank >= *size) {
      return absl::InvalidArgumentError(
          absl::StrCat(names.rank, "=", *rank, " is not below ", names.size, "=", *size));
    }
    absl::StatusOr<int> local_rank = Integer(env, names.local_rank, 0, 0);
    if (!local_rank.ok()) return local_rank.status();
    absl::StatusOr<int> local_size = names.local_size != nullptr ? Integer(env, names.local_size, *size, 1)
                                                                 : SlurmTasksPerNode(env, *size);
    if (!local_size.ok()) return local_size.status();
    if (*local_rank >= *local_size) {
      return absl::InvalidArgumentError(absl::StrCat(names.local_rank, "=", *local_rank,
                                                     " is not below the local process count ", *local_size));
    }
    launch.rank = *rank;
    launch.world_size = *size;
    launch.local_rank = *local_rank;
    launch.local_world_size = *local_size;
    break;
  }
  if (const char* addr = env("MASTER_ADDR")) launch.master_addr = addr;
  int default_port = 0;
  if (launch.launcher == "srun") {
    // The job's first node hosts the store unless the batch script said otherwise.
    if (launch.master_addr.empty()) {
      if (const char* nodelist = env("SLURM_JOB_NODELIST")) launch.master_addr = FirstSlurmHost(nodelist);
    }
    absl::StatusOr<int> job = Integer(env, "SLURM_JOB_ID", 0, 0);
    if (!job.ok()) return job.status();
    if (*job > 0) default_port = 20000 + *job % 20000;
  }
  absl::StatusOr<int> port = Integer(env, "MASTER_PORT", default_port, 1);
  if (!port.ok()) return port.status();
  if (*port > 65535) return absl::InvalidArgumentError(absl::StrCat("MASTER_PORT=", *port, " is not a port"));
  launch.master_port = *port;
  const char* agent = env("TORCHELASTIC_USE_AGENT_STORE");
  launch.agent_store = agent != nullptr && (std::string(agent) == "True" || std::string(agent) == "1");
  absl::StatusOr<int> restarts = Integer(env, "TORCHELASTIC_RESTART_COUNT", 0, 0);
  if (!restarts.ok()) return restarts.status();
  launch.restart_count = *restarts;
  return launch;
}

}  // namespace forge
