// Test helpers that write LibTorch archives by hand, for tests of what CheckTorchArchive refuses.
#ifndef FORGE_LIB_TRAIN_TORCH_ARCHIVE_TESTING_H_
#define FORGE_LIB_TRAIN_TORCH_ARCHIVE_TESTING_H_

#include <functional>
#include <string>

#include <caffe2/serialize/inline_container.h>

namespace forge {

// PROTO 2, LIST, then LONG_BINPUT 1701536610 ("rbcke"): what checkpoint_fuzz_test found, a pickle
// that made LibTorch's unpickler allocate 27 GB for its memo.
inline constexpr char kHugeMemoPickle[] = "\x80\x02]rbcke.";

// The archive `write` fills, in memory.
std::string WriteTorchArchive(const std::function<void(caffe2::serialize::PyTorchStreamWriter&)>& write);

// An archive holding `pickle` as its data.pkl, and nothing else.
std::string ArchiveOfOnePickle(const std::string& pickle);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_TORCH_ARCHIVE_TESTING_H_
