// Test-only helpers shared by the lib/model tests: torchvision-ordered state dicts, the
// deterministic weights and inputs of testdata/make_golden.py, and the golden files.
#ifndef FORGE_LIB_MODEL_TESTING_H_
#define FORGE_LIB_MODEL_TESTING_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace forge::model_testing {

// The module's parameters and buffers in the order and under the names of PyTorch's
// Module.state_dict(): each module's own parameters, then its own buffers, then its children.
std::vector<std::pair<std::string, torch::Tensor>> StateDict(torch::nn::Module& module);

// Overwrites every state-dict entry of `module` but num_batches_tracked with the closed-form
// values of make_golden.py's deterministic_values(key, shape): the same float32 bits as Python.
void SetDeterministicWeights(torch::nn::Module& module);

// make_golden.py's deterministic_input(shape): float32 values in [-1, 1).
torch::Tensor DeterministicInput(const std::vector<int64_t>& shape);

// The whitespace-separated fields of each non-empty line of lib/model/testdata/<name>. Fails
// the current test (ADD_FAILURE) and returns nothing when the file cannot be read.
std::vector<std::vector<std::string>> ReadTestdata(const std::string& name);

// Floats, one per line of lines[begin, end) (first field).
std::vector<float> ParseFloats(const std::vector<std::vector<std::string>>& lines, size_t begin,
                               size_t end);

}  // namespace forge::model_testing

#endif  // FORGE_LIB_MODEL_TESTING_H_
