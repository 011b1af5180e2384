// The flags that say which model answers and how its inputs are made, shared by `predict` and
// `serve` (--checkpoint, --weights, --model, --stats, --synset_mapping, --resize_shorter,
// --center_crop, --device, --threads), and the PredictorOptions they describe.
#ifndef FORGE_LIB_ENGINE_PREDICTOR_FLAGS_H_
#define FORGE_LIB_ENGINE_PREDICTOR_FLAGS_H_

#include "absl/status/statusor.h"
#include "lib/engine/predictor.h"

namespace forge {

// InvalidArgument naming the flag when --checkpoint is missing or --weights is neither model nor ema.
absl::StatusOr<PredictorOptions> PredictorOptionsFromFlags();

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_PREDICTOR_FLAGS_H_
