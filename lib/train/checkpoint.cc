#include "lib/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/version.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "lib/records/crc32c.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"
#include "lib/train/torch_archive.h"

namespace forge {
namespace {

constexpr char kModelKey[] = "model";
constexpr char kOptimizerKey[] = "optimizer";
constexpr char kEmaKey[] = "ema";

std::string TorchVersion() {
  return absl::StrCat(TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ".", TORCH_VERSION_PATCH);
}

// The message of a LibTorch exception without its C++ stack trace.
std::string ExceptionMessage(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) return error->what_without_backtrace();
  return e.what();
}

uint64_t LoadLittleEndian(const unsigned char* bytes, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Checks the framing of the record starting at `offset` without reading its payload: the length
// CRC, and that the record ends exactly where the file does.
absl::Status CheckLastRecordHeader(const RecordFile& file, uint64_t offset) {
  auto corrupt = [&](absl::string_view problem) {
    return absl::DataLossError(
        absl::StrCat(file.path(), ": corrupt checkpoint: the tensor record at byte offset ", offset, " ", problem));
  };
  if (offset + 12 > file.size()) return corrupt(absl::StrCat("is missing (the file ends at byte ", file.size(), ")"));
  unsigned char header[12];
  const int fd = ::open(file.path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", file.path()));
  const ssize_t n = ::pread(fd, header, sizeof(header), static_cast<off_t>(offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof(header))) return corrupt("cannot be read");
  const uint64_t length = LoadLittleEndian(header, 8);
  if (MaskCrc32c(Crc32c(absl::string_view(reinterpret_cast<const char*>(header), 8))) !=
      LoadLittleEndian(header + 8, 4)) {
    return corrupt("has a length CRC mismatch");
  }
  if (length > file.size() || offset + length + kRecordOverhead != file.size()) {
    return corrupt(absl::StrCat("holds ", length, " bytes, which do not end where the file does (",
                                file.size(), " bytes): truncated or trailing data"));
  }
  return absl::OkStatus();
}

// The two records of a checkpoint file: the state (parsed and checked) and, if `read_tensors`,
// the LibTorch archive.
absl::Status ReadCheckpointFile(const std::string& path, bool read_tensors, TrainState* state,
                                std::string* tensors) {
  absl::StatusOr<std::unique_ptr<RecordFile>> file = RecordFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> state_bytes = (*file)->ReadAt(0);
  if (!state_bytes.ok()) return state_bytes.status();
  if (!state->ParseFromString(*state_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a checkpoint: its first record is not a TrainState"));
  }
  if (state->format() != kCheckpointFormat) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a checkpoint (format '", state->format(),
                                                   "', expected '", kCheckpointFormat, "')"));
  }
  const uint64_t tensor_offset = state_bytes->size() + kRecordOverhead;
  if (!read_tensors) return CheckLastRecordHeader(**file, tensor_offset);
  if (tensor_offset >= (*file)->size()) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt checkpoint: truncated after the state (",
                                            (*file)->size(), " bytes), the tensor record is missing"));
  }
  absl::StatusOr<std::string> tensor_bytes = (*file)->ReadAt(tensor_offset);
  if (!tensor_bytes.ok()) return tensor_bytes.status();
  const uint64_t end = tensor_offset + tensor_bytes->size() + kRecordOverhead;
  if (end != (*file)->size()) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt checkpoint: ", (*file)->size() - end,
                                            " trailing bytes after the tensor record (byte offset ", end, ")"));
  }
  *tensors = std::move(*tensor_bytes);
  return absl::OkStatus();
}

std::string ShapeString(const torch::Tensor& tensor) { return absl::StrCat("[", absl::StrJoin(tensor.sizes(), ", "), "]"); }

// Pairs each parameter and buffer of `module` (recursively) with its tensor in `archive`, the
// layout torch::nn::Module::save writes. Extra or missing names and shape mismatches are
// InvalidArgument. `prefix` is the dotted name of `module` for messages.
absl::Status MatchModule(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix,
                         const std::string& path, std::vector<std::pair<torch::Tensor, torch::Tensor>>* pairs) {
  std::set<std::string> expected;
  auto match = [&](const std::string& name, const torch::Tensor& destination, bool is_buffer) {
    expected.insert(name);
    const std::string what = absl::StrCat(is_buffer ? "buffer '" : "parameter '", prefix, name, "'");
    torch::Tensor source;
    if (!archive.try_read(name, source, is_buffer) || !source.defined()) {
      return absl::InvalidArgumentError(absl::StrCat(path, " does not hold the model's ", what));
    }
    if (!source.sizes().equals(destination.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has shape ", ShapeString(destination), " in the model but ",
                                                     ShapeString(source), " in ", path));
    }
    pairs->emplace_back(destination, std::move(source));
    return absl::OkStatus();
  };
  for (const auto& parameter : module.named_parameters(/*recurse=*/false)) {
    if (absl::Status status = match(parameter.key(), parameter.value(), false); !status.ok()) return status;
  }
  for (const auto& buffer : module.named_buffers(/*recurse=*/false)) {
    if (absl::Status status = match(buffer.key(), buffer.value(), true); !status.ok()) return status;
  }
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    expected.insert(child.key());
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " does not hold the model's submodule '", prefix, child.key(), "'"));
    }
    if (absl::Status status = MatchModule(*child.value(), child_archive, absl::StrCat(prefix, child.key(), "."), path,
                                          pairs);
        !status.ok()) {
      return status;
    }
  }
  for (const std::string& key : archive.keys()) {
    if (expected.count(key) == 0 && key != "training") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " holds '", prefix, key, "', which the model does not have"));
    }
  }
  return absl::OkStatus();
}

// Where loaded optimizer state should live: with the model's tensors.
torch::Device ModelDevice(const torch::nn::Module& module) {
  for (const torch::Tensor& parameter : module.parameters()) return parameter.device();
  for (const torch::Tensor& buffer : module.buffers()) return buffer.device();
  return torch::kCPU;
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, const TrainState& state, torch::nn::Module& model,
                            torch::optim::Optimizer* optimizer, torch::nn::Module* ema) {
  TrainState stored = state;
  stored.set_format(kCheckpointFormat);
  stored.set_has_optimizer_state(optimizer != nullptr);
  stored.set_has_ema(ema != nullptr);
  stored.set_torch_version(TorchVersion());
  std::string tensors;
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive(archive.compilation_unit());
    model.save(model_archive);
    archive.write(kModelKey, model_archive);
    if (optimizer != nullptr) {
      torch::serialize::OutputArchive optimizer_archive(archive.compilation_unit());
      optimizer->save(optimizer_archive);
      archive.write(kOptimizerKey, optimizer_archive);
    }
    if (ema != nullptr) {
      torch::serialize::OutputArchive ema_archive(archive.compilation_unit());
      ema->save(ema_archive);
      archive.write(kEmaKey, ema_archive);
    }
    archive.save_to([&tensors](const void* data, size_t size) -> size_t {
      tensors.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot serialise the checkpoint for ", path, ": ", ExceptionMessage(e)));
  }
  absl::StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(path);
  if (!writer.ok()) return writer.status();
  if (absl::Status status = (*writer)->Write(stored.SerializeAsString()); !status.ok()) return status;
  if (absl::Status status = (*writer)->Write(tensors); !status.ok()) return status;
  return (*writer)->Close();
}

absl::Status LoadCheckpoint(const std::string& path, TrainState* state, torch::nn::Module& model,
                            torch::optim::Optimizer* optimizer, torch::nn::Module* ema) {
  TrainState stored;
  std::string tensors;
  if (absl::Status status = ReadCheckpointFile(path, /*read_tensors=*/true, &stored, &tensors); !status.ok()) {
    return status;
  }
  if (optimizer != nullptr && !stored.has_optimizer_state()) {
    return absl::FailedPreconditionError(absl::StrCat(path, " holds no optimizer state (saved for weights only)"));
  }
  if (ema != nullptr && !stored.has_ema()) {
    return absl::FailedPreconditionError(absl::StrCat(path, " holds no EMA weights"));
  }
  if (absl::Status status = CheckTorchArchive(tensors); !status.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt checkpoint: ", status.message()));
  }
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(tensors.data(), tensors.size(), ModelDevice(model));
    tensors = std::string();  // the archive holds its own copy of the tensors
    torch::serialize::InputArchive model_archive;
    if (!archive.try_read(kModelKey, model_archive)) {
      return absl::InvalidArgumentError(absl::StrCat(path, " holds no model"));
    }
    if (absl::Status status = MatchModule(model, model_archive, "", path, &pairs); !status.ok()) return status;
    if (ema != nullptr) {
      torch::serialize::InputArchive ema_archive;
      if (!archive.try_read(kEmaKey, ema_archive)) {
        return absl::InvalidArgumentError(absl::StrCat(path, " says it holds EMA weights but does not"));
      }
      if (absl::Status status = MatchModule(*ema, ema_archive, "ema.", path, &pairs); !status.ok()) return status;
    }
    if (optimizer != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      if (!archive.try_read(kOptimizerKey, optimizer_archive)) {
        return absl::InvalidArgumentError(absl::StrCat(path, " says it holds optimizer state but does not"));
      }
      try {
        optimizer->load(optimizer_archive);
      } catch (const std::exception& e) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot load the optimizer state of ", path, ": ", ExceptionMessage(e)));
      }
    }
    torch::NoGradGuard no_grad;
    for (auto& [destination, source] : pairs) destination.copy_(source);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load the tensors of ", path, ": ", ExceptionMessage(e)));
  }
  if (state != nullptr) *state = std::move(stored);
  return absl::OkStatus();
}

absl::StatusOr<TrainState> ReadTrainState(const std::string& path) {
  TrainState state;
  if (absl::Status status = ReadCheckpointFile(path, /*read_tensors=*/false, &state, nullptr); !status.ok()) {
    return status;
  }
  return state;
}

absl::Status CaptureRngState(TrainState* state) {
  auto bytes_of = [](at::Generator generator) {  // a copy shares the generator's implementation
    std::lock_guard<std::mutex> lock(generator.mutex());
    const torch::Tensor tensor = generator.get_state().contiguous();
    return std::string(reinterpret_cast<const char*>(tensor.data_ptr<uint8_t>()), tensor.numel());
  };
  try {
    state->set_cpu_rng_state(bytes_of(at::globalContext().defaultGenerator(torch::kCPU)));
    state->clear_cuda_rng_states();
    const int devices = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < devices; ++i) {
      state->add_cuda_rng_states(bytes_of(at::globalContext().defaultGenerator(torch::Device(torch::kCUDA, i))));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot read the random generators' state: ", ExceptionMessage(e)));
  }
  return absl::OkStatus();
}

absl::Status RestoreRngState(const TrainState& state) {
  auto restore = [](at::Generator generator, const std::string& bytes) {  // a copy shares the implementation
    torch::Tensor tensor = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
    std::memcpy(tensor.data_ptr<uint8_t>(), bytes.data(), bytes.size());
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(tensor);
  };
  const int devices = static_cast<int>(torch::cuda::device_count());
  if (state.cuda_rng_states_size() > devices) {
    return absl::InvalidArgumentError(absl::StrCat("the state holds random generators of ", state.cuda_rng_states_size(),
                                                   " CUDA devices, this machine has ", devices));
  }
  try {
    if (!state.cpu_rng_state().empty()) {
      restore(at::globalContext().defaultGenerator(torch::kCPU), state.cpu_rng_state());
    }
    for (int i = 0; i < state.cuda_rng_states_size(); ++i) {
      restore(at::globalContext().defaultGenerator(torch::Device(torch::kCUDA, i)), state.cuda_rng_states(i));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot restore the random generators' state: ", ExceptionMessage(e)));
  }
  return absl::OkStatus();
}

}  // namespace forge
