// What serve's tests serve (testonly): a freshly initialised ResNet-18 checkpoint for the tiny
// training inputs' 10 classes, their synset mapping (one name given quotes, a backslash and
// non-ASCII letters, to test escaping), and the 40 images as files and bytes.
//
//   absl::StatusOr<ServeTestInputs> inputs = WriteServeTestInputs(testdata::NewScratchDir());
//   absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(inputs->predictor);
#ifndef FORGE_TOOLS_SERVE_SERVE_TESTING_H_
#define FORGE_TOOLS_SERVE_SERVE_TESTING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/engine/predictor.h"

namespace forge {

struct ServeTestInputs {
  // weights_path, synset_mapping, device "cpu", and a 32-pixel crop of the shorter side resized
  // to 37 (the images are 40-56 px), so that a batch takes milliseconds.
  PredictorOptions predictor;
  std::vector<std::string> image_paths;  // sorted
  std::vector<std::string> images;       // their bytes, JPEG and PNG
};

// Writes the inputs under `dir`. The checkpoint's model is seeded, so the same on every call.
absl::StatusOr<ServeTestInputs> WriteServeTestInputs(const std::string& dir);

// The name WriteServeTestInputs gives the first class (in WNID order) in its synset mapping.
inline constexpr char kOddClassName[] = "tench \"Tinca\" \\ caf\xc3\xa9";

}  // namespace forge

#endif  // FORGE_TOOLS_SERVE_SERVE_TESTING_H_
