// model_summary.txt: a ModelSummary as an aligned text table, like torchinfo's or Keras's.
#ifndef FORGE_TOOLS_REPORT_MODEL_SUMMARY_TEXT_H_
#define FORGE_TOOLS_REPORT_MODEL_SUMMARY_TEXT_H_

#include <cstdint>
#include <string>

#include "proto/model_summary.pb.h"

namespace forge {

// The total parameter count: total_parameters, or the sum over the layers when that is unset.
int64_t TotalParameters(const ModelSummary& summary);

// A table with columns Layer (the last part of the module path, indented two spaces per
// depth), Type, Output shape ("[1, 64, 112, 112]") and Param # (thousands separated, "--"
// for none), framed by "=" lines, then the total, trainable and non-trainable counts (an unset
// trainable_parameters counts as all of them).
std::string ModelSummaryText(const ModelSummary& summary);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_MODEL_SUMMARY_TEXT_H_
