#include "lib/engine/state_dict.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace forge {
namespace {

// safetensors stores little-endian bytes; LibTorch's CPU tensors hold native ones.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors bytes are copied as they are");

struct DtypePair {
  SafetensorsDtype file;
  torch::ScalarType torch;
};

constexpr DtypePair kDtypes[] = {
    {SafetensorsDtype::kBool, torch::kBool},         {SafetensorsDtype::kU8, torch::kByte},
    {SafetensorsDtype::kI8, torch::kChar},           {SafetensorsDtype::kI16, torch::kShort},
    {SafetensorsDtype::kU16, torch::kUInt16},        {SafetensorsDtype::kF16, torch::kHalf},
    {SafetensorsDtype::kBF16, torch::kBFloat16},     {SafetensorsDtype::kI32, torch::kInt},
    {SafetensorsDtype::kU32, torch::kUInt32},        {SafetensorsDtype::kF32, torch::kFloat},
    {SafetensorsDtype::kI64, torch::kLong},          {SafetensorsDtype::kU64, torch::kUInt64},
    {SafetensorsDtype::kF64, torch::kDouble},        {SafetensorsDtype::kF8E4M3, torch::kFloat8_e4m3fn},
    {SafetensorsDtype::kF8E5M2, torch::kFloat8_e5m2},
};

std::string ShapeText(at::IntArrayRef shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

bool IsInteger(const torch::Tensor& tensor) {
  return !tensor.is_floating_point() && !tensor.is_complex() && tensor.scalar_type() != torch::kBool;
}

// At most `limit` of `items`, then how many more.
std::string Listed(const std::vector<std::string>& items, size_t limit = 8) {
  std::vector<std::string> shown(items.begin(), items.begin() + std::min(limit, items.size()));
  std::string text = absl::StrJoin(shown, ", ");
  if (items.size() > limit) absl::StrAppend(&text, " and ", items.size() - limit, " more");
  return text;
}

}  // namespace

NamedTensors StateDict(const torch::nn::Module& module) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) tensors[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    if (item.value().defined()) tensors[item.key()] = item.value();
  }
  return tensors;
}

absl::StatusOr<std::vector<SafetensorsTensor>> StateDictTensors(const torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<SafetensorsTensor> out;
  for (const auto& [name, tensor] : StateDict(module)) {
    SafetensorsTensor file_tensor;
    file_tensor.name = name;
    torch::Tensor cpu;
    if (tensor.is_floating_point()) {
      file_tensor.dtype = SafetensorsDtype::kF32;
      cpu = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    } else if (IsInteger(tensor)) {
      file_tensor.dtype = SafetensorsDtype::kI64;
      cpu = tensor.detach().to(torch::kCPU, torch::kLong).contiguous();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot export \"", name, "\": a ", c10::toString(tensor.scalar_type()), " tensor"));
    }
    file_tensor.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    file_tensor.data.assign(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
    out.push_back(std::move(file_tensor));
  }
  return out;
}

absl::StatusOr<NamedTensors> ToTorch(const std::vector<SafetensorsTensor>& tensors, const std::string& source) {
  NamedTensors out;
  for (const SafetensorsTensor& tensor : tensors) {
    const DtypePair* pair = nullptr;
    for (const DtypePair& candidate : kDtypes) {
      if (candidate.file == tensor.dtype) pair = &candidate;
    }
    if (pair == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tensor \"", tensor.name, "\" has dtype ",
                                                     SafetensorsDtypeName(tensor.dtype), ", which LibTorch lacks"));
    }
    torch::Tensor copy = torch::empty(tensor.shape, torch::TensorOptions(pair->torch));
    if (copy.nbytes() != tensor.data.size()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tensor \"", tensor.name, "\" holds ",
                                                     tensor.data.size(), " bytes for shape ", ShapeText(tensor.shape)));
    }
    if (!tensor.data.empty()) std::memcpy(copy.data_ptr(), tensor.data.data(), tensor.data.size());
    out[tensor.name] = std::move(copy);
  }
  return out;
}

absl::Status LoadStateDict(const NamedTensors& tensors, torch::nn::Module& module, const std::string& source,
                           const LoadStateDictOptions& options) {
  const NamedTensors targets = StateDict(module);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, target] : targets) {
    if (options.keep.count(name) > 0) continue;
    const auto found = tensors.find(name);
    if (found == tensors.end()) {
      missing.push_back(name);
      continue;
    }
    const torch::Tensor& tensor = found->second;
    if (tensor.sizes() != target.sizes()) {
      mismatched.push_back(absl::StrCat(name, " is ", ShapeText(tensor.sizes()), " in the file, ",
                                        ShapeText(target.sizes()), " in the model"));
    } else if (target.is_floating_point() != tensor.is_floating_point() || IsInteger(target) != IsInteger(tensor)) {
      mismatched.push_back(absl::StrCat(name, " is ", c10::toString(tensor.scalar_type()), " in the file, ",
                                        c10::toString(target.scalar_type()), " in the model"));
    }
  }
  for (const auto& [name, tensor] : tensors) {
    if (targets.count(name) == 0 && options.keep.count(name) == 0) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> problems;
    if (!mismatched.empty()) problems.push_back(Listed(mismatched));
    if (!missing.empty()) problems.push_back(absl::StrCat("missing from the file: ", Listed(missing)));
    if (!unexpected.empty()) problems.push_back(absl::StrCat("not in the model: ", Listed(unexpected)));
    return absl::InvalidArgumentError(absl::StrCat(source, " does not fit the model (", targets.size(),
                                                   " tensors; the file has ", tensors.size(),
                                                   "): ", absl::StrJoin(problems, "; ")));
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    if (options.keep.count(name) > 0) continue;
    torch::Tensor destination = target;  // shares the module's storage
    destination.copy_(tensors.at(name));
  }
  return absl::OkStatus();
}

}  // namespace forge
