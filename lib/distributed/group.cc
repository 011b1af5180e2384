#include "lib/distributed/group.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <glog/logging.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef FORGE_HAS_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/distributed/mpi_backend.h"
#include "lib/util/exception_status.h"

namespace forge {
namespace {

using Clock = std::chrono::steady_clock;

// DistributedDataParallel's bucket sizes: a small first bucket starts communicating early.
constexpr int64_t kFirstBucketBytes = 1 << 20;
constexpr int64_t kBucketBytes = 25 << 20;
constexpr auto kHeartbeatEvery = std::chrono::seconds(1);

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HeartbeatKey(int rank) { return absl::StrCat("heartbeat/", rank); }

// What `call` returns, or the exception it throws as a Status naming `context`.
template <typename Call>
absl::Status ExceptionToStatus(const Call& call, absl::string_view context) {
  try {
    return call();
  } catch (...) {
    return CurrentExceptionStatus(context);
  }
}

class CollectiveGroup;

// sum over the group forward, sum of the gradients over the group backward.
class SumFunction : public torch::autograd::Function<SumFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& input,
                               int64_t group_address) {
    context->saved_data["group"] = group_address;
    return Reduce(input, group_address);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list gradients) {
    return {Reduce(gradients[0], context->saved_data["group"].toInt()), torch::Tensor()};
  }

 private:
  static torch::Tensor Reduce(const torch::Tensor& tensor, int64_t group_address);
};

class CollectiveGroup final : public ProcessGroup {
 public:
  CollectiveGroup(const GroupOptions& options, c10::intrusive_ptr<c10d::Store> store,
                  c10::intrusive_ptr<c10d::ProcessGroup> group, c10::intrusive_ptr<MpiBackend> mpi)
      : options_(options), store_(std::move(store)), group_(std::move(group)), mpi_(std::move(mpi)) {
    watchdog_ = std::thread([this] { Watch(); });
  }

  ~CollectiveGroup() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    watchdog_.join();
    reducer_.reset();
    group_.reset();
    const bool mpi = mpi_ != nullptr;
    mpi_.reset();
    if (mpi) FinalizeMpi();
  }

  int rank() const override { return group_->getRank(); }
  int size() const override { return group_->getSize(); }

  absl::Status ShareModel(torch::nn::Module& model) override {
    return ExceptionToStatus([&]() -> absl::Status {
      std::vector<at::Tensor> parameters;
      for (const torch::Tensor& parameter : model.parameters()) {
        if (parameter.requires_grad()) parameters.push_back(parameter);
      }
      Blocking([&] { c10d::verify_params_across_processes(group_, parameters, std::nullopt); });
      std::vector<torch::Tensor> state = model.parameters();
      for (const torch::Tensor& buffer : model.buffers()) state.push_back(buffer);
      if (absl::Status status = Broadcast(state); !status.ok()) return status;
      // Checked equal: every process's float64 sum of every parameter and buffer against rank 0's.
      torch::Tensor checksum = torch::zeros({static_cast<int64_t>(state.size())},
                                            torch::TensorOptions(torch::kFloat64).device(options_.device));
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < state.size(); ++i) checksum[static_cast<int64_t>(i)] = state[i].to(torch::kFloat64).sum();
      }
      torch::Tensor rank_zeros = checksum.clone();
      if (absl::Status status = Broadcast({rank_zeros}); !status.ok()) return status;
      if (Any(!torch::equal(checksum, rank_zeros))) {
        return absl::InternalError(absl::StrCat("rank ", rank(), ": the model differs from rank 0's after the broadcast"));
      }

      std::vector<int64_t> order(parameters.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(order.size() - 1 - i);
      std::vector<std::vector<size_t>> buckets =
          std::get<0>(c10d::compute_bucket_assignment_by_size(parameters, {kFirstBucketBytes, kBucketBytes},
                                                              std::vector<bool>(parameters.size(), false), order));
      reducer_ = std::make_unique<c10d::Reducer>(
          parameters, std::move(buckets), group_, std::vector<bool>(parameters.size(), false), kBucketBytes,
          /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
          std::unordered_map<size_t, std::string>(), kFirstBucketBytes, /*skip_all_reduce_unused_params=*/false,
          /*use_python_reducer=*/false, std::vector<int64_t>());
      return absl::OkStatus();
    }, "sharing the model across the group");
  }

  void BeforeBackward(bool average_gradients) override {
    if (reducer_ == nullptr || !average_gradients) return;
    ++entered_;
    reducer_->rebuild_buckets();  // after the first step: buckets in the order gradients became ready
    reducer_->prepare_for_backward({});
  }

  bool Any(bool local) override { return AnyLater({local})()[0]; }

  std::function<Flags()> AnyLater(const Flags& local) override {
    // Filled on the device (no copy from the host to wait for), reduced after the work queued so
    // far, copied back into pinned memory behind an event: reading waits for that event only.
    const auto on_device = torch::TensorOptions(torch::kInt32).device(options_.device);
    torch::Tensor flags = torch::zeros({static_cast<int64_t>(local.size())}, on_device);
    for (size_t i = 0; i < local.size(); ++i) {
      if (local[i]) flags[static_cast<int64_t>(i)].fill_(1);
    }
    std::vector<at::Tensor> tensors = {flags};
    ++entered_;
    c10::intrusive_ptr<c10d::Work> work = group_->allreduce(tensors, c10d::AllreduceOptions{c10d::ReduceOp::MAX});
    if (!options_.device.is_cuda()) {
      return [this, work, flags, size = local.size()] {
        Blocking([&] { work->wait(); });
        return ToFlags(flags, size);
      };
    }
    work->wait();  // the current stream waits for NCCL's; the host does not
    torch::Tensor host = torch::empty(flags.sizes(), torch::TensorOptions(torch::kInt32).pinned_memory(true));
    host.copy_(flags, /*non_blocking=*/true);
    auto done = std::make_shared<c10::Event>(options_.device.type());
    c10::impl::VirtualGuardImpl guard(options_.device.type());
    done->record(guard.getStream(options_.device));
    return [this, host, done, size = local.size()] {
      Blocking([&] { done->synchronize(); });
      return ToFlags(host, size);
    };
  }

  absl::Status Sum(const std::vector<torch::Tensor>& tensors) override {
    return ExceptionToStatus([&] {
      Blocking([&] {
        for (const torch::Tensor& tensor : tensors) {
          std::vector<at::Tensor> one = {tensor};
          group_->allreduce(one)->wait();
        }
        Synchronize();
      });
      return absl::OkStatus();
    }, "summing over the group");
  }

  absl::Status Broadcast(const std::vector<torch::Tensor>& tensors) override {
    return ExceptionToStatus([&] {
      torch::NoGradGuard no_grad;
      Blocking([&] {
        for (const torch::Tensor& tensor : tensors) {
          std::vector<at::Tensor> one = {tensor.detach()};
          group_->broadcast(one)->wait();
        }
        Synchronize();
      });
      return absl::OkStatus();
    }, "broadcasting rank 0's tensors");
  }

  torch::Tensor SumWithGradient(const torch::Tensor& tensor) override {
    return SumFunction::apply(tensor, reinterpret_cast<int64_t>(this));
  }

  // The sum over the group, waited for (the autograd function's both directions).
  torch::Tensor SumNow(const torch::Tensor& tensor) {
    std::vector<at::Tensor> one = {tensor.contiguous().clone()};
    ++entered_;
    group_->allreduce(one)->wait();
    return one[0];
  }

 private:
  // Runs `wait`, a call that blocks until the other processes take part, under the watchdog.
  template <typename Wait>
  void Blocking(const Wait& wait) {
    ++entered_;
    pending_since_ns_ = Clock::now().time_since_epoch().count();
    try {
      wait();
    } catch (...) {
      pending_since_ns_ = 0;
      throw;
    }
    pending_since_ns_ = 0;
  }

  static Flags ToFlags(const torch::Tensor& flags, size_t size) {
    const torch::Tensor host = flags.cpu();
    Flags result(size);
    for (size_t i = 0; i < size; ++i) result[i] = host[static_cast<int64_t>(i)].item<int32_t>() != 0;
    return result;
  }

  // Waits for the device to finish what the collectives queued (a no-op on the CPU).
  void Synchronize() {
    if (options_.device.is_cuda()) torch::cuda::synchronize(options_.device.index());
  }

  // Since when this process has been waiting for the others; time_point{} when it is not.
  Clock::time_point WaitingSince() const {
    Clock::time_point since;
    if (const int64_t ns = pending_since_ns_.load(); ns != 0) since = Clock::time_point(Clock::duration(ns));
    if (mpi_ != nullptr) {
      const Clock::time_point busy = mpi_->busy_since();
      if (busy != Clock::time_point{} && (since == Clock::time_point{} || busy < since)) since = busy;
    }
    return since;
  }

  void PostHeartbeat() {
    try {
      store_->set(HeartbeatKey(rank()), absl::StrCat(entered_.load(), " ", UnixMillis()));
    } catch (const std::exception& e) {
      // The store's host is gone: a collective that waits for it times out below.
      LOG_FIRST_N(WARNING, 1) << "rank " << rank() << " cannot post its heartbeat: " << e.what();
    }
  }

  void Watch() {
    PostHeartbeat();
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, kHeartbeatEvery, [this] { return stopping_; })) {
      PostHeartbeat();
      const Clock::time_point since = WaitingSince();
      if (since == Clock::time_point{} || Clock::now() - since < absl::ToChronoMilliseconds(options_.timeout)) continue;
      LOG(ERROR) << "rank " << rank() << ": a collective has waited "
                 << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - since).count()
                 << " s for the other processes (timeout " << absl::FormatDuration(options_.timeout)
                 << ", --dist_timeout): " << DiagnoseOthers() << "; giving up";
      AbandonGroup(kExitPeerLost);
    }
  }

  // Which ranks this one waits for, from their heartbeats.
  std::string DiagnoseOthers() {
    std::vector<std::string> findings;
    const int64_t now = UnixMillis();
    const int64_t entered = entered_.load();
    const int64_t stale_after_ms = 5 * std::chrono::duration_cast<std::chrono::milliseconds>(kHeartbeatEvery).count();
    for (int other = 0; other < size(); ++other) {
      if (other == rank()) continue;
      std::string text;
      try {
        store_->setTimeout(std::chrono::seconds(5));
        if (!store_->check({HeartbeatKey(other)})) {
          findings.push_back(absl::StrCat("rank ", other, " has posted no heartbeat at all (it never started, or died "
                                          "or stopped as it did)"));
          continue;
        }
        const std::vector<uint8_t> value = store_->get(HeartbeatKey(other));
        text.assign(value.begin(), value.end());
      } catch (const std::exception&) {
        findings.push_back(absl::StrCat("rank ", other, " cannot be asked (the store on rank 0 does not answer: rank 0 is ",
                                        "dead or stopped)"));
        continue;
      }
      const std::vector<std::string> fields = absl::StrSplit(text, ' ');
      int64_t their_entered = 0, their_time = 0;
      if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &their_entered) ||
          !absl::SimpleAtoi(fields[1], &their_time)) {
        continue;
      }
      if (now - their_time > stale_after_ms) {
        findings.push_back(absl::StrCat("rank ", other, " has posted no heartbeat for ", (now - their_time) / 1000,
                                        " s (dead, stopped or cut off)"));
      } else if (their_entered < entered) {
        findings.push_back(absl::StrCat("rank ", other, " is alive but behind (at collective ", their_entered,
                                        ", this rank at ", entered, "): stuck outside the collectives"));
      }
    }
    if (findings.empty()) return "every other rank is alive and as far along (a network or engine failure?)";
    return absl::StrJoin(findings, "; ");
  }

  const GroupOptions options_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  c10::intrusive_ptr<MpiBackend> mpi_;  // null for NCCL
  std::unique_ptr<c10d::Reducer> reducer_;
  std::atomic<int64_t> entered_{0};           // collectives this process has started
  std::atomic<int64_t> pending_since_ns_{0};  // of the blocking call under way; 0: none

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread watchdog_;
};

torch::Tensor SumFunction::Reduce(const torch::Tensor& tensor, int64_t group_address) {
  return reinterpret_cast<CollectiveGroup*>(group_address)->SumNow(tensor);
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// Over MPI: rank 0 hosts the store (at MASTER_ADDR:MASTER_PORT when given, else on a free port
// of this host) and broadcasts where it listens.
absl::StatusOr<c10::intrusive_ptr<c10d::Store>> MpiStore(MpiBackend& mpi, const Launch& launch,
                                                          std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions store_options;
  store_options.timeout = timeout;
  store_options.waitWorkers = false;
  c10::intrusive_ptr<c10d::TCPStore> store;
  std::string address(256, '\0');
  if (mpi.getRank() == 0) {
    store_options.isServer = true;
    store_options.port = static_cast<uint16_t>(launch.master_port);  // 0: any free port
    const std::string host = launch.master_addr.empty() ? HostName() : launch.master_addr;
    store = c10::make_intrusive<c10d::TCPStore>(host, store_options);
    const std::string where = absl::StrCat(host, ":", store->getPort());
    std::copy(where.begin(), where.end(), address.begin());
  }
  at::Tensor bytes = torch::from_blob(address.data(), {static_cast<int64_t>(address.size())}, torch::kUInt8);
  std::vector<at::Tensor> tensors = {bytes};
  mpi.broadcast(tensors)->wait();
  if (mpi.getRank() != 0) {
    const std::string where(address.c_str());
    const size_t colon = where.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(where.substr(colon + 1), &port)) {
      return absl::InternalError(absl::StrCat("rank 0 sent a malformed store address '", where, "'"));
    }
    store_options.port = static_cast<uint16_t>(port);
    store = c10::make_intrusive<c10d::TCPStore>(where.substr(0, colon), store_options);
  }
  return c10::intrusive_ptr<c10d::Store>(store);
}

absl::StatusOr<std::unique_ptr<ProcessGroup>> JoinMpi(const Launch& launch, const GroupOptions& options) {
  if (!options.device.is_cpu()) {
    return absl::InvalidArgumentError(absl::StrCat("the mpi engine works on CPU tensors; --device=",
                                                   options.device.str(), " needs --dist_engine=nccl"));
  }
  absl::StatusOr<c10::intrusive_ptr<MpiBackend>> mpi = MpiBackend::Create();
  if (!mpi.ok()) return mpi.status();
  if ((*mpi)->getSize() != launch.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the launcher (", launch.launcher, ") started ", launch.world_size, " processes but MPI sees ",
        (*mpi)->getSize(), ": the mpi engine needs mpirun, or srun --mpi=pmix"));
  }
  const auto timeout = absl::ToChronoMilliseconds(options.timeout);
  absl::StatusOr<c10::intrusive_ptr<c10d::Store>> store = MpiStore(**mpi, launch, timeout);
  if (!store.ok()) return store.status();
  auto group = c10::make_intrusive<c10d::ProcessGroup>(*store, (*mpi)->getRank(), (*mpi)->getSize());
  group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::CUSTOM, *mpi);
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::CUSTOM);
  return std::unique_ptr<ProcessGroup>(std::make_unique<CollectiveGroup>(options, *store, group, *mpi));
}

absl::StatusOr<std::unique_ptr<ProcessGroup>> JoinNccl(const Launch& launch, const GroupOptions& options) {
#ifdef FORGE_HAS_NCCL
  if (!options.device.is_cuda()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the nccl engine needs CUDA devices; --device=", options.device.str(), " needs --dist_engine=mpi"));
  }
  if (launch.master_addr.empty() || launch.master_port == 0) {
    return absl::InvalidArgumentError(
        "the nccl engine meets at MASTER_ADDR:MASTER_PORT (torchrun sets them; under srun, export them in the batch "
        "script)");
  }
  const auto timeout = absl::ToChronoMilliseconds(options.timeout);
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(launch.master_port);
  store_options.isServer = launch.rank == 0 && !launch.agent_store;
  if (store_options.isServer) store_options.numWorkers = launch.world_size;
  store_options.waitWorkers = false;
  store_options.timeout = timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, store_options);
  // torchrun's agent store outlives restarts of the job: each attempt keeps to its own keys.
  auto store = c10::make_intrusive<c10d::PrefixStore>(absl::StrCat("forge/", launch.restart_count, "/"), tcp);
  auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
  nccl_options->timeout = timeout;
  auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, launch.rank, launch.world_size, nccl_options);
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, launch.rank, launch.world_size);
  group->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
  return std::unique_ptr<ProcessGroup>(std::make_unique<CollectiveGroup>(options, store, group, nullptr));
#else
  return absl::UnavailableError("this build has no NCCL (no CUDA toolkit with nccl.h was found at build time)");
#endif
}

}  // namespace

std::string LocalDevice(const std::string& device, const Launch& launch, int visible_gpus) {
  if (device == "cuda" && launch.world_size > 1 && visible_gpus > 0) {
    return absl::StrCat("cuda:", launch.local_rank % visible_gpus);
  }
  return device;
}

absl::StatusOr<std::unique_ptr<ProcessGroup>> JoinProcessGroup(const Launch& launch, const GroupOptions& options) {
  if (launch.world_size == 1 && options.engine == "auto") {
    return std::unique_ptr<ProcessGroup>(std::make_unique<SingleProcess>());
  }
  std::string engine = options.engine;
  if (engine == "auto") engine = options.device.is_cuda() ? "nccl" : "mpi";
  try {
    if (engine == "mpi") return JoinMpi(launch, options);
    if (engine == "nccl") return JoinNccl(launch, options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot join the ", engine, " group as rank ", launch.rank, " of ",
                                               launch.world_size, ": ", e.what()));
  }
  return absl::InvalidArgumentError(absl::StrCat("--dist_engine=", engine, " is not one of auto, nccl, mpi"));
}

void AbandonGroup(int code) {
  google::FlushLogFiles(google::GLOG_INFO);
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

}  // namespace forge
