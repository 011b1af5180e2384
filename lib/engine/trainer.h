// The training engine: trains a ResNet on a dataset with a TrainConfig, evaluating on a
// validation set after every epoch (Evaluate, evaluate.h), and writes everything a run produces
// into its run directory (run_dir.h):
//   config.txtpb          the resolved TrainConfig (with any schedule changes)
//   model_summary.txtpb   layers, output shapes, parameters (for report)
//   train_log.pb          per-epoch metrics and subsampled per-step LR/loss, rewritten each epoch
//   checkpoints/last.ckpt the end of the newest epoch; best.ckpt, by validation top-1;
//              mid_epoch.ckpt, within an epoch (on a timer, every N steps, or when stopped);
//              epoch_NNNN.ckpt, every checkpoint.every_epochs epochs, the newest checkpoint.keep
//   tensorboard/events.out.tfevents.*
//   train.lock            held while a process trains the run
//
// A run directory that holds checkpoints is resumed, not restarted: from the newest checkpoint
// whose every byte checks out (a damaged one is reported and skipped), continuing exactly where
// it stood (the same batches, random numbers and arithmetic: on the CPU with deterministic set,
// the final weights equal an uninterrupted run's bit for bit), with no step or epoch logged twice.
// A stop signal (SIGTERM, SIGINT, SIGUSR1; see lib/util/stop_signals.h) finishes the current
// step, writes mid_epoch.ckpt and ends RunTraining with a Cancelled status (`train` exits 75).
//
// The epoch loop: for each epoch, train (TrainEpoch: a loader per epoch from input.h, the step of
// step.h, mid-epoch checkpoints and stop signals between steps), validate, then the epoch's log,
// checkpoints and best model. Features attach at the loop's hooks (hooks.h); the processes
// training together (process_group.h) agree on stopping and checkpointing.
#ifndef FORGE_LIB_ENGINE_TRAINER_H_
#define FORGE_LIB_ENGINE_TRAINER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/engine/hooks.h"
#include "lib/engine/process_group.h"
#include "proto/train_config.pb.h"

namespace forge {

struct TrainOptions {
  // The command's resolved config (see config.h). Required to start a run; when the run exists,
  // it must describe the same run (CheckSameRun) and only its run settings are taken.
  std::optional<TrainConfig> config;
  // Without `config`: overrides applied to an existing run's own config (which must then still
  // describe the same run), e.g. "data.loader_threads=8".
  std::vector<std::string> overrides;
  std::string train_data;     // manifest or ImageFolder directory
  std::string val_data;       // manifest or ImageFolder directory; empty: no validation
  std::string stats;          // ChannelStats proto (compute_stats); optional when resuming
  std::string run_dir;
  std::string device;         // "cpu", "cuda", "cuda:1"; empty: CUDA when present
  int threads = 0;            // intra-op threads on the CPU; 0: LibTorch's default
  bool resume = false;        // the run must exist (FailedPrecondition if run_dir has none)
  // Changes to an existing run's schedule (see MakeRunSchedule in lib/train/schedule.h), taking
  // effect at its next step. Asking again for a change already made changes nothing, so a
  // preempted command can be rerun as it is.
  int extend_epochs = 0;      // > 0: train to this many epochs in all
  std::string freeze_lr;      // "last" (the LR of the last step) or a value: a constant LR from now
  // A new run only (warm start, fine-tuning): the model's weights and batch-norm buffers start as
  // those of this file instead of their initialisation: a safetensors file (`export`'s, or
  // PyTorch's of a torchvision ResNet) or a checkpoint written by train. Every tensor must match
  // the model by name and shape (see InitializeWeightsFrom in trained_model.h). Refused with
  // `resume`, schedule changes, or a run directory that holds a run. Empty: none.
  std::string init_from;
  // With init_from: the classifier head (fc) keeps its initialisation instead of the file's,
  // as a file trained on other classes needs. Default false: a head of another class count is
  // an error.
  bool init_reset_head = false;
  // Hooks called after the run's own (TensorBoard, epoch log lines), in order; not owned.
  std::vector<TrainHook*> hooks;
  // The processes training the model together; null: this process alone. Not owned. Rank 0
  // alone takes the run's lock and writes its files; the others read its checkpoints (the run
  // directory must be on storage every machine sees).
  ProcessGroup* process_group = nullptr;
  // Processes of the group on this machine: data.loader_threads 0 means this process's share of
  // the machine's cores.
  int local_processes = 1;
};

// Trains, or continues, the run in options.run_dir. Errors: InvalidArgument/NotFound for bad
// inputs (naming the file), FailedPrecondition for a run directory locked by another process or
// holding another run, DataLoss when no checkpoint of the run can be read, Cancelled when a stop
// signal ended it after saving (run it again to continue).
absl::Status RunTraining(const TrainOptions& options);

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_TRAINER_H_
