// train: trains a ResNet on a dataset with a TrainConfig, evaluating on a validation set after
// every epoch, and writes everything a run produces into its run directory:
//   config.txtpb          the resolved TrainConfig
//   model_summary.txtpb   layers, output shapes, parameters (for report)
//   train_log.pb          per-epoch metrics and subsampled per-step LR/loss, rewritten each epoch
//   checkpoints/last.ckpt and best.ckpt (by validation top-1)
//   tensorboard/events.out.tfevents.*
#ifndef FORGE_TOOLS_TRAIN_TRAINER_H_
#define FORGE_TOOLS_TRAIN_TRAINER_H_

#include <string>

#include "absl/status/status.h"
#include "proto/train_config.pb.h"

namespace forge {

struct TrainOptions {
  TrainConfig config;         // resolved (see config.h)
  std::string train_data;     // manifest or ImageFolder directory
  std::string val_data;       // manifest or ImageFolder directory; empty: no validation
  std::string stats;          // ChannelStats proto (compute_stats)
  std::string run_dir;
  std::string device;         // "cpu", "cuda", "cuda:1"; empty: CUDA when present
  int threads = 0;            // intra-op threads on the CPU; 0: LibTorch's default
  bool resume = false;        // continue from run_dir/checkpoints/last.ckpt
};

// Runs the whole training. Fails with InvalidArgument/NotFound for bad inputs (naming the file),
// FailedPrecondition when run_dir already holds a run and resume is false.
absl::Status RunTraining(const TrainOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_TRAIN_TRAINER_H_
