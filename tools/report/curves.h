// The report's figures as plots: loss, accuracy, learning-rate schedule, throughput (from the
// training log) and the LR range test (from lr_find's curve).
#ifndef FORGE_TOOLS_REPORT_CURVES_H_
#define FORGE_TOOLS_REPORT_CURVES_H_

#include "lib/report/plot.h"
#include "proto/lr_curve.pb.h"
#include "proto/train_log.pb.h"

namespace forge {

// Each takes a normalized log (NormalizeTrainLog). A plot without data (LinePlot::HasData()
// false) is left out by the caller.

// Train, val and val_ema loss per epoch, and the per-step training loss faintly behind them
// when the log has steps.
LinePlot LossPlot(const TrainLog& normalized);

// Top-1 (solid) and top-5 (dashed) per epoch for train, val and val_ema.
LinePlot AccuracyPlot(const TrainLog& normalized);

// The learning rate: per step (at fractional epochs) when the log has steps, else the train
// rows' lr per epoch.
LinePlot LrPlot(const TrainLog& normalized);

// Training images/s per epoch (rows reporting 0 are left out).
LinePlot ThroughputPlot(const TrainLog& normalized);

// Loss against learning rate on a log axis: raw loss faint, smoothed loss solid, dashed markers
// at the suggested LR and at min_loss_lr / 10. The y axis stops a little above the loss at the
// start of the test, so a diverging tail does not squash the rest.
LinePlot LrRangePlot(const LrCurve& curve);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_CURVES_H_
