// Fuzzes the safetensors reader on whole files. Property: a file it accepts serialises back to
// bytes that parse to the same tensors and metadata.
#include <cstdint>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/io/safetensors.h"

namespace {

void CheckSame(const forge::Safetensors& a, const forge::Safetensors& b) {
  CHECK(a.metadata == b.metadata);
  CHECK_EQ(a.tensors.size(), b.tensors.size());
  for (const forge::SafetensorsTensor& tensor : a.tensors) {
    const forge::SafetensorsTensor* other = b.Find(tensor.name);
    CHECK(other != nullptr) << tensor.name;
    CHECK(other->dtype == tensor.dtype && other->shape == tensor.shape && other->data == tensor.data) << tensor.name;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<forge::Safetensors> file = forge::ParseSafetensors(forge::AsStringView(data, size), "fuzz.safetensors");
  (void)forge::LooksLikeSafetensors(forge::AsStringView(data, size), size);
  if (!file.ok()) return 0;
  absl::StatusOr<std::string> bytes = forge::SerializeSafetensors(*file);
  CHECK(bytes.ok()) << bytes.status();
  absl::StatusOr<forge::Safetensors> again = forge::ParseSafetensors(*bytes, "again.safetensors");
  CHECK(again.ok()) << again.status();
  CheckSame(*file, *again);
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  forge::Safetensors file;
  file.metadata = {{"format", "pt"}, {"classes", "n01440764 n01443537"}};
  file.tensors.push_back({"fc.weight", forge::SafetensorsDtype::kF32, {2, 3}, std::string(24, '\1')});
  file.tensors.push_back({"bn.num_batches_tracked", forge::SafetensorsDtype::kI64, {}, std::string(8, '\0')});
  file.tensors.push_back({"half", forge::SafetensorsDtype::kBF16, {0, 4}, ""});
  std::vector<std::string> seeds;
  for (const forge::Safetensors& seed : {file, forge::Safetensors{}}) {
    absl::StatusOr<std::string> bytes = forge::SerializeSafetensors(seed);
    CHECK(bytes.ok()) << bytes.status();
    seeds.push_back(*bytes);
  }
  return seeds;
}
