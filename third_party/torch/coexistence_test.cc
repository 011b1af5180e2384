// Checks that LibTorch, glog and Debian's libprotobuf work together in one process.
#include <dlfcn.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <glog/logging.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "proto/stats.pb.h"

namespace {

// The shared object that provides `symbol` to this process, or "" if none does.
std::string ProviderOf(const char* symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info;
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

TEST(TorchCoexistence, GlogAndC10MacrosInOneTranslationUnit) {
  torch::Tensor t = torch::arange(6, torch::kFloat32).reshape({2, 3});
  CHECK_EQ(t.size(0), 2);  // glog's CHECK_EQ
  TORCH_CHECK(t.size(1) == 3, "unexpected shape");
  LOG(INFO) << "tensor sum " << t.sum().item<float>();
  EXPECT_FLOAT_EQ(t.sum().item<float>(), 15.0f);
}

// libtorch.so exports a copy of std::filesystem (remove_all, copy, ...) whose remove_all of a
// non-empty directory jumps to a null pointer. The system's libstdc++ must serve these calls.
TEST(TorchCoexistence, SystemLibstdcxxServesStdFilesystem) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "coexistence_remove_all";
  std::filesystem::create_directories(dir / "a" / "b");
  std::ofstream(dir / "a" / "b" / "file") << "bytes";
  EXPECT_EQ(std::filesystem::remove_all(dir), 4u);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(ProviderOf("_ZNSt10filesystem10remove_allERKNS_7__cxx114pathE").find("libstdc++.so"), std::string::npos)
      << ProviderOf("_ZNSt10filesystem10remove_allERKNS_7__cxx114pathE");
}

TEST(TorchCoexistence, SystemProtobufServesOurMessages) {
  forge::ChannelStats stats;
  torch::Tensor mean = torch::tensor({0.485, 0.456, 0.406}, torch::kFloat64);
  for (int c = 0; c < 3; ++c) stats.add_mean(mean[c].item<double>());
  stats.set_images(7);
  std::string bytes;
  ASSERT_TRUE(stats.SerializeToString(&bytes));
  forge::ChannelStats parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.images(), 7);
  ASSERT_EQ(parsed.mean_size(), 3);
  EXPECT_DOUBLE_EQ(parsed.mean(2), 0.406);
  EXPECT_NE(parsed.DebugString().find("images: 7"), std::string::npos);

  // LibTorch links its own protobuf statically with hidden symbols; if it ever exported them,
  // they could interpose on Debian's and this would name a torch library instead.
  for (const char* symbol : {
           "_ZNK6google8protobuf11MessageLite17SerializeToStringEPNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
           "_ZN6google8protobuf11MessageLite15ParseFromStringERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
       }) {
    EXPECT_NE(ProviderOf(symbol).find("libprotobuf.so"), std::string::npos) << symbol;
  }
}

TEST(TorchCoexistence, CudaBackendIsLinkedAndOptional) {
  EXPECT_NE(dlopen("libtorch_cuda.so", RTLD_LAZY | RTLD_NOLOAD), nullptr);
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no GPU here; the CUDA libraries are loaded but unused";
  }
  torch::Tensor t = torch::ones({4}, torch::kCUDA);
  EXPECT_FLOAT_EQ(t.sum().item<float>(), 4.0f);
}

}  // namespace
