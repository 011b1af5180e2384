// c10d's Backend over Open MPI, so that data-parallel training runs on CPUs (and in every test
// here) through LibTorch's own distributed machinery: c10d's ProcessGroup dispatches to it and
// c10d's Reducer averages gradients through it, as they do through NCCL on GPUs.
//
// The collectives the engine uses (allreduce, broadcast, allgather, barrier) on contiguous CPU
// tensors run one at a time, in the order they are issued, on one worker thread: the caller gets
// a Work whose future completes when MPI is done, so a backward pass goes on while the buckets
// already handed over are being reduced. MPI is initialised by Create() (MPI_THREAD_SERIALIZED:
// only the worker calls MPI after that) and finalised by FinalizeMpi().
//
//   absl::StatusOr<c10::intrusive_ptr<MpiBackend>> backend = MpiBackend::Create();
//   std::vector<at::Tensor> tensors = {gradients};
//   (*backend)->allreduce(tensors)->wait();  // the sum over all ranks, in place
#ifndef FORGE_LIB_DISTRIBUTED_MPI_BACKEND_H_
#define FORGE_LIB_DISTRIBUTED_MPI_BACKEND_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/torch.h>

#include "absl/status/statusor.h"

namespace forge {

class MpiBackend final : public c10d::Backend {
 public:
  // Joins MPI_COMM_WORLD (MPI_Init_thread on the first call in the process). Errors: MPI cannot
  // start, or gives less thread support than needed.
  static absl::StatusOr<c10::intrusive_ptr<MpiBackend>> Create();
  MpiBackend(int rank, int size);
  ~MpiBackend() override;  // finishes the queued collectives first

  const std::string getBackendName() const override { return "forge-mpi"; }

  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors,
                                           const c10d::AllreduceOptions& options = c10d::AllreduceOptions()) override;
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors,
                                           const c10d::BroadcastOptions& options = c10d::BroadcastOptions()) override;
  c10::intrusive_ptr<c10d::Work> allgather(std::vector<std::vector<at::Tensor>>& outputs,
                                           std::vector<at::Tensor>& inputs,
                                           const c10d::AllgatherOptions& options = c10d::AllgatherOptions()) override;
  c10::intrusive_ptr<c10d::Work> barrier(const c10d::BarrierOptions& options = c10d::BarrierOptions()) override;

  // When the collective now running on the worker started; time_point{} when the worker is idle.
  std::chrono::steady_clock::time_point busy_since() const;
  // Collectives issued and finished so far (issued counts every call, finished those MPI completed).
  int64_t issued() const { return issued_.load(); }
  int64_t finished() const { return finished_.load(); }

 private:
  class MpiWork;
  struct Queued {
    std::function<void()> run;  // the MPI calls; throws on failure
    c10::intrusive_ptr<MpiWork> work;
  };
  c10::intrusive_ptr<c10d::Work> Enqueue(c10d::OpType type, std::vector<at::Tensor> tensors, std::function<void()> run);
  void Serve();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;  // guarded by mutex_
  bool stopping_ = false;     // guarded by mutex_
  std::atomic<int64_t> busy_since_ns_{0};
  std::atomic<int64_t> issued_{0};
  std::atomic<int64_t> finished_{0};
  std::thread worker_;
};

// MPI_Finalize, when MPI was initialised and not yet finalised: after every MpiBackend is gone,
// in every process of the job (it waits for the others).
void FinalizeMpi();

}  // namespace forge

#endif  // FORGE_LIB_DISTRIBUTED_MPI_BACKEND_H_
