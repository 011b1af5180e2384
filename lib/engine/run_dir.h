// A run directory's layout and the checkpoints in it: where `train` writes, and which checkpoint
// a resumed run continues from.
//
//   RunPaths paths("runs/r50");
//   std::vector<std::string> damaged;
//   std::vector<SavedState> saved = FindCheckpoints(paths.checkpoints, &damaged);
//   if (!saved.empty()) LOG(INFO) << "newest: " << saved.front().path;
#ifndef FORGE_LIB_ENGINE_RUN_DIR_H_
#define FORGE_LIB_ENGINE_RUN_DIR_H_

#include <string>
#include <vector>

#include "proto/checkpoint.pb.h"

namespace forge {

// The files of a run directory.
struct RunPaths {
  explicit RunPaths(const std::string& run_dir);
  // checkpoints/epoch_NNNN.ckpt
  std::string EpochCheckpoint(int epoch) const;

  std::string run_dir;
  std::string config;       // config.txtpb: the resolved TrainConfig
  std::string summary;      // model_summary.txtpb
  std::string log;          // train_log.pb
  std::string lock;         // train.lock
  std::string checkpoints;  // checkpoints/
  std::string last;         // checkpoints/last.ckpt: the end of the newest epoch
  std::string best;         // checkpoints/best.ckpt: by validation top-1
  std::string mid_epoch;    // checkpoints/mid_epoch.ckpt: within an epoch
  std::string tensorboard;  // tensorboard/
};

// A checkpoint file and the training state it holds (without the tensors).
struct SavedState {
  std::string path;
  TrainState state;
};

// The checkpoints in `dir` whose state reads, newest first: by step, then completed epochs before
// mid-epoch states of the same step, then last.ckpt before its copies (best, epoch_N). Why each
// file whose state does not read was refused goes to `refused`. A missing `dir` holds none.
std::vector<SavedState> FindCheckpoints(const std::string& dir, std::vector<std::string>* refused);

// Removes the temporary files a checkpoint writer killed mid-write left in `dir`
// ("<name>.ckpt.tmp.XXXXXX", lib/io/file.h's AtomicFile); only the process that holds the run's
// lock may call it. Returns the paths removed.
std::vector<std::string> RemoveCheckpointTemporaries(const std::string& dir);

// The epoch_NNNN.ckpt files in `dir`, oldest first.
std::vector<std::string> EpochCheckpoints(const std::string& dir);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_RUN_DIR_H_
