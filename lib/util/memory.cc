#include "lib/util/memory.h"

#include <malloc.h>

#include <climits>

namespace forge {

void KeepFreedMemory() {
  mallopt(M_MMAP_MAX, 0);                 // large blocks come from the heap, which is reused
  mallopt(M_TRIM_THRESHOLD, INT_MAX);     // and never trimmed back to the kernel
  mallopt(M_TOP_PAD, 512 << 20);          // grow the heap in large steps
}

}  // namespace forge
