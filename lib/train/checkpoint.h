// Training checkpoints: one file holding where the run stands (TrainState) and every tensor a
// resumed run needs (model parameters and buffers, optimizer state, optionally EMA weights).
//
// The file is two records in TFRecord framing (see lib/records/record_writer.h), so that every
// byte is covered by a CRC-32C: [TrainState, LibTorch archive]. The archive is what
// torch::serialize::OutputArchive writes, with the model under the key "model" (laid out as
// torch::nn::Module::save lays it out), the optimizer under "optimizer" and EMA weights under
// "ema". Files are replaced atomically, so a crash while saving leaves the previous checkpoint.
//
//   TrainState state;
//   state.set_epoch(epoch);
//   ...
//   if (absl::Status s = SaveCheckpoint(run_dir + "/last.ckpt", state, *model, &optimizer); !s.ok()) ...
//   // later, in a new process, with the model and optimizer built the same way:
//   if (absl::Status s = LoadCheckpoint(run_dir + "/last.ckpt", &state, *model, &optimizer); !s.ok()) ...
#ifndef FORGE_LIB_TRAIN_CHECKPOINT_H_
#define FORGE_LIB_TRAIN_CHECKPOINT_H_

#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"

namespace forge {

// TrainState.format of the files this code writes and reads.
inline constexpr char kCheckpointFormat[] = "forge.checkpoint.v1";

// Writes `state`, the parameters and buffers of `model`, the state of `optimizer` (if not null)
// and the parameters and buffers of `ema` (if not null) to `path`, replacing any file there
// atomically. The stored state has format, has_optimizer_state, has_ema and torch_version set.
// Fails without touching `path` if LibTorch cannot serialise the tensors or the file cannot be
// written (e.g. `path` is a directory); messages name the file.
absl::Status SaveCheckpoint(const std::string& path, const TrainState& state, torch::nn::Module& model,
                            torch::optim::Optimizer* optimizer, torch::nn::Module* ema = nullptr);

// Reads the checkpoint at `path` into `state` (if not null), `model`, `optimizer` (if not null;
// null loads the weights only) and `ema` (if not null). Tensors are copied into the existing
// parameters and buffers, which keep their device, dtype and memory format (channels_last
// stays channels_last); optimizer state is placed on the device of the model's first parameter.
// The model must have exactly the checkpoint's parameter and buffer names and shapes.
//
// Errors, each naming the file: NotFound if it does not exist; DataLoss if any byte is damaged
// or the file is truncated or has trailing bytes; InvalidArgument if it is not a checkpoint or
// the model does not match it; FailedPrecondition if `optimizer` or `ema` is requested but the
// file holds none. On failure the model and `ema` are unchanged; the optimizer may have been
// partly loaded only if LibTorch failed while reading its state.
absl::Status LoadCheckpoint(const std::string& path, TrainState* state, torch::nn::Module& model,
                            torch::optim::Optimizer* optimizer, torch::nn::Module* ema = nullptr);

// Reads only the TrainState of the checkpoint at `path`: cheap, for --resume decisions and eval.
// Checks the CRCs of the state and the framing of the tensor record (so a truncated file is
// refused) but not the tensor bytes themselves. Errors as for LoadCheckpoint.
absl::StatusOr<TrainState> ReadTrainState(const std::string& path);

// Stores the state of LibTorch's default CPU generator and of every CUDA device's generator in
// `state` (cpu_rng_state, cuda_rng_states), so that a resumed run draws the same random numbers.
absl::Status CaptureRngState(TrainState* state);

// Restores what CaptureRngState stored. Generators absent from `state` are left alone; states for
// more CUDA devices than this machine has are InvalidArgument.
absl::Status RestoreRngState(const TrainState& state);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_CHECKPOINT_H_
