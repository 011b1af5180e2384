#include "lib/distributed/mpi_backend.h"

#include <mpi.h>

#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"

namespace forge {
namespace {

using Clock = std::chrono::steady_clock;

// Throws a c10::Error naming the call when `code` is not MPI_SUCCESS (errors are returned, not
// fatal: see Create()).
void Check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  TORCH_CHECK(false, "MPI ", call, " failed: ", std::string(text, length));
}

MPI_Datatype DataType(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    case at::kInt: return MPI_INT32_T;
    case at::kByte: return MPI_UINT8_T;
    case at::kChar: return MPI_INT8_T;
    case at::kBool: return MPI_C_BOOL;
    default: TORCH_CHECK(false, "MPI collectives do not take ", tensor.scalar_type(), " tensors");
  }
}

MPI_Op ReduceOperation(const c10d::ReduceOp& op) {
  switch (op.op_) {
    case c10d::ReduceOp::SUM: return MPI_SUM;
    case c10d::ReduceOp::MIN: return MPI_MIN;
    case c10d::ReduceOp::MAX: return MPI_MAX;
    case c10d::ReduceOp::PRODUCT: return MPI_PROD;
    default: TORCH_CHECK(false, "MPI collectives do not support reduce operation ", static_cast<int>(op.op_));
  }
}

// One CPU tensor, contiguous: what MPI reads and writes in place.
const at::Tensor& OnlyTensor(const std::vector<at::Tensor>& tensors, const char* call) {
  TORCH_CHECK(tensors.size() == 1, call, " over MPI takes one tensor, got ", tensors.size());
  const at::Tensor& tensor = tensors[0];
  TORCH_CHECK(tensor.device().is_cpu(), call, " over MPI takes CPU tensors, got one on ", tensor.device());
  TORCH_CHECK(tensor.is_non_overlapping_and_dense(), call, " over MPI takes dense tensors");
  return tensor;
}

int Count(const at::Tensor& tensor) {
  TORCH_CHECK(tensor.numel() <= std::numeric_limits<int>::max(), "tensor too large for one MPI call");
  return static_cast<int>(tensor.numel());
}

}  // namespace

// A collective in the queue: complete (with the tensors, or the error) once the worker ran it.
class MpiBackend::MpiWork final : public c10d::Work {
 public:
  MpiWork(c10d::OpType type, std::vector<at::Tensor> tensors)
      : Work(-1, type),
        tensors_(std::move(tensors)),
        future_(c10::make_intrusive<c10::ivalue::Future>(c10::ListType::create(c10::TensorType::get()))) {}

  void Complete(std::exception_ptr error) {
    if (error) {
      future_->setError(error);
    } else {
      future_->markCompleted(c10::IValue(tensors_));
    }
    finish(error);
  }

  bool wait(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (timeout == kNoTimeout) {
      cv_.wait(lock, [this] { return completed_; });
    } else if (!cv_.wait_for(lock, timeout, [this] { return completed_; })) {
      TORCH_CHECK(false, "MPI collective did not finish within ", timeout.count(), " ms");
    }
    if (exception_) std::rethrow_exception(exception_);
    return true;
  }
  std::vector<at::Tensor> result() override { return tensors_; }
  c10::intrusive_ptr<c10::ivalue::Future> getFuture() override { return future_; }

 private:
  const std::vector<at::Tensor> tensors_;
  const c10::intrusive_ptr<c10::ivalue::Future> future_;
};

absl::StatusOr<c10::intrusive_ptr<MpiBackend>> MpiBackend::Create() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
      return absl::UnavailableError("MPI_Init_thread failed");
    }
    if (provided < MPI_THREAD_SERIALIZED) {
      return absl::UnavailableError(absl::StrCat("this MPI offers thread level ", provided,
                                                 "; MPI_THREAD_SERIALIZED is needed"));
    }
  }
  // Errors come back as codes, so that a failed collective ends the run with a message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return c10::make_intrusive<MpiBackend>(rank, size);
}

MpiBackend::MpiBackend(int rank, int size) : Backend(rank, size), worker_([this] { Serve(); }) {}

MpiBackend::~MpiBackend() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void MpiBackend::Serve() {
  while (true) {
    Queued next;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    busy_since_ns_ = Clock::now().time_since_epoch().count();
    std::exception_ptr error;
    try {
      next.run();
    } catch (...) {
      error = std::current_exception();
    }
    busy_since_ns_ = 0;
    ++finished_;
    next.work->Complete(error);
  }
}

Clock::time_point MpiBackend::busy_since() const {
  const int64_t ns = busy_since_ns_.load();
  return ns == 0 ? Clock::time_point{} : Clock::time_point(Clock::duration(ns));
}

c10::intrusive_ptr<c10d::Work> MpiBackend::Enqueue(c10d::OpType type, std::vector<at::Tensor> tensors,
                                                   std::function<void()> run) {
  auto work = c10::make_intrusive<MpiWork>(type, std::move(tensors));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    TORCH_CHECK(!stopping_, "the MPI backend is shutting down");
    queue_.push_back(Queued{std::move(run), work});
    ++issued_;
  }
  wake_.notify_one();
  return work;
}

c10::intrusive_ptr<c10d::Work> MpiBackend::allreduce(std::vector<at::Tensor>& tensors,
                                                     const c10d::AllreduceOptions& options) {
  const at::Tensor tensor = OnlyTensor(tensors, "allreduce");
  const MPI_Datatype type = DataType(tensor);
  const MPI_Op op = ReduceOperation(options.reduceOp);
  return Enqueue(c10d::OpType::ALLREDUCE, tensors, [tensor, type, op] {
    Check(MPI_Allreduce(MPI_IN_PLACE, tensor.data_ptr(), Count(tensor), type, op, MPI_COMM_WORLD), "Allreduce");
  });
}

c10::intrusive_ptr<c10d::Work> MpiBackend::broadcast(std::vector<at::Tensor>& tensors,
                                                     const c10d::BroadcastOptions& options) {
  const at::Tensor tensor = OnlyTensor(tensors, "broadcast");
  const MPI_Datatype type = DataType(tensor);
  const int root = static_cast<int>(options.rootRank);
  return Enqueue(c10d::OpType::BROADCAST, tensors, [tensor, type, root] {
    Check(MPI_Bcast(tensor.data_ptr(), Count(tensor), type, root, MPI_COMM_WORLD), "Bcast");
  });
}

c10::intrusive_ptr<c10d::Work> MpiBackend::allgather(std::vector<std::vector<at::Tensor>>& outputs,
                                                     std::vector<at::Tensor>& inputs, const c10d::AllgatherOptions&) {
  const at::Tensor input = OnlyTensor(inputs, "allgather");
  TORCH_CHECK(outputs.size() == 1 && static_cast<int>(outputs[0].size()) == getSize(),
              "allgather over MPI takes one list of ", getSize(), " output tensors");
  std::vector<at::Tensor> gathered = outputs[0];
  for (const at::Tensor& output : gathered) {
    TORCH_CHECK(output.sizes() == input.sizes() && output.scalar_type() == input.scalar_type(),
                "allgather's outputs must have the input's shape and type");
  }
  const MPI_Datatype type = DataType(input);
  return Enqueue(c10d::OpType::ALLGATHER, gathered, [input, gathered, type] {
    at::Tensor flat = at::empty({static_cast<int64_t>(gathered.size()) * input.numel()}, input.options());
    Check(MPI_Allgather(input.data_ptr(), Count(input), type, flat.data_ptr(), Count(input), type, MPI_COMM_WORLD),
          "Allgather");
    for (size_t i = 0; i < gathered.size(); ++i) {
      gathered[i].view({-1}).copy_(flat.narrow(0, static_cast<int64_t>(i) * input.numel(), input.numel()));
    }
  });
}

c10::intrusive_ptr<c10d::Work> MpiBackend::barrier(const c10d::BarrierOptions&) {
  return Enqueue(c10d::OpType::BARRIER, {}, [] { Check(MPI_Barrier(MPI_COMM_WORLD), "Barrier"); });
}

void FinalizeMpi() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
}

}  // namespace forge
