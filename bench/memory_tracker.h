// Heap accounting for benchmarks.
//
// A binary that links memory_tracker.cc gets replacements of the global
// operator new and delete that count the bytes live on the heap, so a
// benchmark can report the peak memory of the code it times. The counts are
// the allocator's usable sizes, slightly above the sizes asked for, and cover
// only memory obtained through operator new (not direct malloc calls).
//
// Builds with AddressSanitizer keep the sanitizer's own operator new: there
// Enabled() is false and every count is 0.
#pragma once

#include <cstddef>

namespace landfall::memory_tracker {

// Whether this binary counts allocations.
bool Enabled();

// Bytes allocated through operator new and not yet freed.
size_t LiveBytes();

// The highest LiveBytes() since the last ResetPeak() (or the start).
size_t PeakBytes();

// Lowers PeakBytes() to LiveBytes(), starting a new measurement.
void ResetPeak();

}  // namespace landfall::memory_tracker
