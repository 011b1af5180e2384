#include "lib/distributed/job.h"

#include <algorithm>
#include <utility>

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include "lib/distributed/group.h"
#include "lib/util/cores.h"
#include "lib/util/exit_code.h"
#include "lib/util/stop_signals.h"

DEFINE_string(dist_engine, "auto",
              "Collectives of a job of several processes: auto (NCCL for CUDA devices, Open MPI for the CPU), "
              "nccl or mpi.");
DEFINE_int32(dist_timeout, 300,
             "Seconds a collective may wait for the other processes (a dead or hung one) before the job ends "
             "with a message naming them.");

namespace forge {

absl::StatusOr<Job> JoinJob(const std::string& device, int threads) {
  absl::StatusOr<Launch> launch = DetectLaunch(ProcessEnvironment());
  if (!launch.ok()) return launch.status();
  Job job;
  job.launch = *launch;
  job.device = LocalDevice(device.empty() ? (torch::cuda::is_available() ? "cuda" : "cpu") : device, *launch,
                           static_cast<int>(torch::cuda::device_count()));
  job.threads = threads > 0 || launch->local_world_size == 1
                    ? threads
                    : CoreShare(launch->local_world_size);
  if (FLAGS_dist_timeout <= 0) return absl::InvalidArgumentError("--dist_timeout must be positive");
  GroupOptions options;
  options.engine = FLAGS_dist_engine;
  try {
    options.device = torch::Device(job.device);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("--device=" + device + " is not a device (cpu, cuda, cuda:N)");
  }
  options.timeout = absl::Seconds(FLAGS_dist_timeout);
  absl::StatusOr<std::unique_ptr<ProcessGroup>> group = JoinProcessGroup(*launch, options);
  if (!group.ok()) return group.status();
  job.group = std::move(*group);
  if (job.group->size() > 1) {
    // A launcher may pass on the signal its processes also got (torchrun under SLURM).
    IgnoreRepeatsWithin(5);
    LOG(INFO) << "rank " << job.group->rank() << " of " << job.group->size() << " (" << launch->launcher
              << ", local rank " << launch->local_rank << " of " << launch->local_world_size << ") on " << job.device;
  }
  return job;
}

int LeaveJob(Job& job, int code) {
  if (job.group != nullptr && job.group->size() > 1 && code != 0 && code != kExitStopped) AbandonGroup(code);
  job.group.reset();
  return code;
}

}  // namespace forge
