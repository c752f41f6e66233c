// A journal entry as a row of a SQL store: seq, at_ns, table and partition
// in columns of their own (which queries filter on), the rest of the entry
// in a protobuf body that does not repeat them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "landfall/records.pb.h"

namespace landfall::internal {

// Writes to `body` the entry without the fields its row has columns for.
void SerializeJournalBody(const JournalEntry& entry, std::string* body);

// The entry of a row; false when the body cannot be read. A body that does
// hold the column fields (as schema versions before 3 wrote them) reads the
// same.
bool ParseJournalRow(std::string_view body, int64_t seq, int64_t at_ns,
                     std::string_view table, std::string_view partition,
                     JournalEntry* entry);

}  // namespace landfall::internal
