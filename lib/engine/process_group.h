// The processes that train one model together (data parallelism). Each computes gradients on its
// share of a global batch; the gradients are averaged during the backward pass of a step's last
// micro-batch; the decisions that must be the same in every process (stop now, write a
// checkpoint now) are agreed at step boundaries; evaluation counts are summed over the group.
// Only the process that writes outputs (rank 0) writes logs, events and checkpoints.
//
// SingleProcess is a group of one. lib/distributed implements the interface over c10d (NCCL on
// GPUs, Open MPI on CPUs) and the tools hand it to the engine (TrainOptions::process_group).
//
//   group.ShareModel(*model);            // rank 0's weights everywhere; averaging from now on
//   group.BeforeBackward(/*average=*/last_micro_batch);
//   loss.backward();
//   bool stop = group.Any(StopRequested());  // the same answer in every process
#ifndef FORGE_LIB_ENGINE_PROCESS_GROUP_H_
#define FORGE_LIB_ENGINE_PROCESS_GROUP_H_

#include <functional>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"

namespace forge {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;

  // This process's index in [0, size()).
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Gives every process rank 0's parameters and buffers (FailedPrecondition when the models'
  // shapes differ) and, from then on, averages `model`'s gradients over the group in the
  // backward passes that BeforeBackward(true) announces. Call once, with the model on its device.
  virtual absl::Status ShareModel(torch::nn::Module& model) = 0;
  // Before each backward pass of the shared model: true when this pass ends a step (its gradients,
  // with those accumulated before, are averaged), false when it only accumulates locally.
  virtual void BeforeBackward(bool average_gradients) = 0;

  // Whether `local` is true in any process of the group; every process gets the same answer.
  virtual bool Any(bool local) = 0;
  // Any, for each flag, without waiting now: the returned call gives the answers, waiting only
  // for this agreement (on a GPU: for the device to reach it, not for work queued after it), so
  // that a loop can decide at step k on what was agreed at step k - 1 without stalling the device.
  // Every process must start the same agreements in the same order.
  using Flags = std::vector<bool>;
  virtual std::function<Flags()> AnyLater(const Flags& local) = 0;
  // Replaces each tensor (on the model's device) by its sum over the group.
  virtual absl::Status Sum(const std::vector<torch::Tensor>& tensors) = 0;
  // Replaces each tensor (on the model's device) by rank 0's.
  virtual absl::Status Broadcast(const std::vector<torch::Tensor>& tensors) = 0;
  // The sum of `tensor` over the group, differentiable: each process's input gets the sum of the
  // gradients of every process's output (synchronised batch normalisation). Throws on failure.
  virtual torch::Tensor SumWithGradient(const torch::Tensor& tensor) = 0;

  // Whether this process writes the run's outputs.
  bool writes_outputs() const { return rank() == 0; }
};

// A group of one: averaging and sums are the identity, agreement is the process's own answer.
class SingleProcess final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  absl::Status ShareModel(torch::nn::Module&) override { return absl::OkStatus(); }
  void BeforeBackward(bool) override {}
  bool Any(bool local) override { return local; }
  std::function<Flags()> AnyLater(const Flags& local) override {
    return [local] { return local; };
  }
  absl::Status Sum(const std::vector<torch::Tensor>&) override { return absl::OkStatus(); }
  absl::Status Broadcast(const std::vector<torch::Tensor>&) override { return absl::OkStatus(); }
  torch::Tensor SumWithGradient(const torch::Tensor& tensor) override { return tensor; }
};

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_PROCESS_GROUP_H_
