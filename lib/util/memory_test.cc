#include "lib/util/memory.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

namespace forge {
namespace {

// After KeepFreedMemory a large block is no longer mmap-ed, and freeing it keeps it in the heap.
TEST(MemoryTest, LargeBlocksStayInTheProcess) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer's allocator replaces glibc's, whose mallopt settings this tests";
#endif
  KeepFreedMemory();
  constexpr size_t kSize = 256 << 20;
  void* block = std::malloc(kSize);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kSize);
  struct mallinfo2 with_block = mallinfo2();
  EXPECT_EQ(with_block.hblkhd, 0u) << "no mmap-ed blocks";
  EXPECT_GE(with_block.arena, kSize);
  std::free(block);
  struct mallinfo2 freed = mallinfo2();
  EXPECT_GE(freed.arena, kSize) << "the heap was not trimmed";
  EXPECT_GE(freed.fordblks, kSize) << "the block is free for reuse";
}

}  // namespace
}  // namespace forge
