// Memory the C library gives back to the kernel too eagerly for training on the CPU.
#ifndef FORGE_LIB_UTIL_MEMORY_H_
#define FORGE_LIB_UTIL_MEMORY_H_

namespace forge {

// Makes glibc keep freed memory in the process for reuse instead of returning it to the kernel
// (no mmap for large blocks, no trimming of the heap), as jemalloc and tcmalloc do. A training
// step on the CPU allocates and frees hundreds of megabytes of activations and gradients; by
// default each large block is mmap-ed and munmap-ed, so every step page-faults all of it in
// again: 2.2 million faults per ResNet-50 step (batch 32, 224 px) in
// ci/bench/bench_train_step.sh on a 2-core x86-64 machine, about a third of the step's time.
// The price: the resident set stays at its peak
// (4.2 -> 5.9 GB peak in that benchmark). Call first thing in main() of tools that compute
// with LibTorch; it is what MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<large>
// MALLOC_TOP_PAD_=512MiB would do from the environment.
void KeepFreedMemory();

}  // namespace forge

#endif  // FORGE_LIB_UTIL_MEMORY_H_
