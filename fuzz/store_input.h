// The store fuzzer's input: what a store holds, framed by FuzzReader.
//   u8 flags: 1 the spec is the bytes that follow (else the fixed pipeline's),
//             2 a snapshot follows, 4 open with the fixed pipeline (else
//             with the store's own)
//   [bytes spec] [i64 snapshot seq, bytes snapshot]
//   then rows to the end: bytes body, i64 at_ns, bytes table, bytes partition
// Rows are numbered 1, 2, ... as a store numbers its entries.
#pragma once

#include <cstdint>

namespace landfall::fuzz {

inline constexpr uint8_t kStoredSpecFollows = 1;
inline constexpr uint8_t kSnapshotFollows = 2;
inline constexpr uint8_t kOpenWithPipeline = 4;

}  // namespace landfall::fuzz
