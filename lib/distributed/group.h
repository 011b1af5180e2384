// The processes of a data-parallel job as the engine's ProcessGroup (lib/engine/process_group.h),
// over c10d: NCCL (ProcessGroupNCCL) for CUDA devices, Open MPI (mpi_backend.h) for the CPU.
// Gradients are averaged by c10d's Reducer, the engine behind PyTorch's DistributedDataParallel:
// in buckets (1 MB first, then 25 MB, rebuilt after the first step in the order gradients become
// ready), each reduced while the backward pass goes on.
//
// The processes meet through c10d's TCPStore: torchrun's agent store, or one rank 0 hosts at
// MASTER_ADDR:MASTER_PORT (under mpirun rank 0 picks a free port and tells the others). Each
// process also posts a heartbeat there every second. A collective that has not finished after
// `timeout` (a rank died, hangs, or is stuck elsewhere) ends this process with a message naming
// the ranks that are behind, exit code kExitPeerLost: never an endless hang.
//
//   absl::StatusOr<std::unique_ptr<ProcessGroup>> group = JoinProcessGroup(launch, options);
//   train_options.process_group = group->get();
#ifndef FORGE_LIB_DISTRIBUTED_GROUP_H_
#define FORGE_LIB_DISTRIBUTED_GROUP_H_

#include <memory>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/distributed/launch.h"
#include "lib/engine/process_group.h"

namespace forge {

// The exit code of a process that gave up on its group (a peer died or hangs).
inline constexpr int kExitPeerLost = 70;

struct GroupOptions {
  // "nccl", "mpi", or "auto": NCCL when `device` is CUDA, Open MPI otherwise.
  std::string engine = "auto";
  torch::Device device = torch::kCPU;  // this process's device (see LocalDevice)
  // How long a collective may wait for the other processes before the job is given up.
  absl::Duration timeout = absl::Minutes(5);
};

// `device` for this process: "cuda" (no index) becomes cuda:<local rank modulo the GPUs it can
// see> when several processes share a machine (a process shown one GPU, as SLURM's
// --gpus-per-task does, takes cuda:0); anything else is kept.
std::string LocalDevice(const std::string& device, const Launch& launch, int visible_gpus);

// SingleProcess for a launch of one process with engine "auto"; otherwise joins the job's group
// (blocking until every process has joined, or failing after the timeout). A named engine makes
// a group even of one process (what the GPU check kit runs NCCL with). Errors: Unavailable (the engine
// cannot start, the store cannot be reached), InvalidArgument (an unknown engine, NCCL without
// CUDA, MASTER_ADDR/MASTER_PORT missing where needed).
absl::StatusOr<std::unique_ptr<ProcessGroup>> JoinProcessGroup(const Launch& launch, const GroupOptions& options);

// Ends a process of a group whose run failed, without the collective shutdown the others could
// never join: flushes the logs and exits with `code` at once (the launcher then ends the job).
[[noreturn]] void AbandonGroup(int code);

}  // namespace forge

#endif  // FORGE_LIB_DISTRIBUTED_GROUP_H_
