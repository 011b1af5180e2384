// The processes that train one model together. Each computes gradients on its share of a global
// batch; the gradients are averaged before every optimizer step, and the decisions that must be
// the same in every process (stop now, write a checkpoint now) are agreed at step boundaries.
// Only the process that writes outputs (rank 0) writes logs, events and checkpoints.
//
// Today a run is one process (SingleProcess). Data-parallel training implements this interface
// over a collective library and hands it to the engine (TrainOptions::process_group, TrainStep);
// the loop itself does not change.
//
//   SingleProcess group;
//   bool stop = group.Any(StopRequested());  // the same answer in every process
#ifndef FORGE_LIB_ENGINE_PROCESS_GROUP_H_
#define FORGE_LIB_ENGINE_PROCESS_GROUP_H_

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
  // Replaces each tensor by its mean over the group (called with the gradients after backward).
  virtual absl::Status AverageGradients(const std::vector<torch::Tensor>& gradients) = 0;
  // Whether `local` is true in any process of the group; every process gets the same answer.
  virtual bool Any(bool local) = 0;

  // Whether this process writes the run's outputs.
  bool writes_outputs() const { return rank() == 0; }
};

// A group of one: averaging is the identity, agreement is the process's own answer.
class SingleProcess final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  absl::Status AverageGradients(const std::vector<torch::Tensor>&) override { return absl::OkStatus(); }
  bool Any(bool local) override { return local; }
};

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_PROCESS_GROUP_H_
