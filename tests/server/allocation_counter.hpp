// Counts the heap allocations each thread makes, whatever the route:
// malloc, calloc, realloc, the aligned allocators, and every operator new
// and new[] (plain, aligned, nothrow), which all end in one of those.
//
// Linked into a test binary, it replaces malloc and its family with
// counting versions that forward to glibc's. Under AddressSanitizer, which
// owns malloc itself, it counts through the sanitizer's allocation hook.
#pragma once

#include <atomic>
#include <cstddef>

namespace httpkit::test {

// Calls into the heap the calling thread has made so far.
std::size_t allocations_on_this_thread();

// The calling thread's count itself, for another thread to watch while
// this one lives.
const std::atomic<std::size_t>& allocation_counter();

}  // namespace httpkit::test
