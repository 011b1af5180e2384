// The training log as tables: the two CSV files, the summary (best epoch, totals) and the
// Markdown epoch table of logs.md.
#ifndef FORGE_TOOLS_REPORT_TRAIN_LOG_TABLES_H_
#define FORGE_TOOLS_REPORT_TRAIN_LOG_TABLES_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "proto/train_log.pb.h"

namespace forge {

// Checks what report relies on: every epoch row has an epoch >= 1 and a phase. Fails with
// InvalidArgument naming `source` and the row.
absl::Status ValidateTrainLog(const TrainLog& log, const std::string& source);

// `log` with one row per (epoch, phase), the last one logged winning (a resumed run may have
// logged an epoch twice), ordered by epoch and then phase ("train", "val", "val_ema", others
// by name); and one step point per step, the last winning, ordered by step.
TrainLog NormalizeTrainLog(const TrainLog& log);

// train_log.csv: exactly "epoch,phase,loss,top1,top5,lr,imgs_per_sec", the train and val rows of
// a normalized log, numbers as printf "%.6g".
std::string TrainLogCsv(const TrainLog& normalized);

// train_log_full.csv: every row of a normalized log and every scalar field of EpochMetrics,
// named as in the .proto and in its order (fields added later appear by themselves); floating
// point as "%.6g", integers in full.
std::string TrainLogFullCsv(const TrainLog& normalized);

struct TrainSummary {
  int epochs = 0;                            // distinct epochs logged
  int last_epoch = 0;
  std::optional<EpochMetrics> best_val_top1;  // highest val top-1, earliest epoch on ties
  std::optional<EpochMetrics> best_val_top5;
  std::optional<EpochMetrics> best_ema_top1;  // val_ema
  std::optional<EpochMetrics> final_val;      // val row of the last epoch
  std::optional<EpochMetrics> final_ema;
  double total_seconds = 0;     // TrainLog.total_seconds, else the sum of the rows' seconds
  double mean_train_images_per_sec = 0;  // over train rows that report a rate; 0 if none
  double last_train_images_per_sec = 0;
  int train_rate_epochs = 0;    // train rows that report a rate
};

TrainSummary SummarizeTrainLog(const TrainLog& normalized);

// One line for the top of logs.md and the README block, e.g. "Best val top-1 **76.13%** at
// epoch 88 (top-5 92.90%); ...".
std::string HeadlineMarkdown(const TrainLog& normalized, const TrainSummary& summary);

// The "Summary" bullet list of logs.md.
std::string SummaryMarkdown(const TrainLog& normalized, const TrainSummary& summary);

// One Markdown table, one row per epoch: train, val and (when logged) val_ema loss, top-1 and
// top-5, the train lr, train images/s and the epoch's time; the best val top-1 in bold.
std::string EpochTableMarkdown(const TrainLog& normalized, const TrainSummary& summary);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_TRAIN_LOG_TABLES_H_
