#include "lib/store/journal_row.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace landfall::internal {

namespace {

using google::protobuf::internal::WireFormatLite;

constexpr int kLastColumnField = JournalEntry::kPartitionFieldNumber;

bool InColumns(int field) {
  return field == JournalEntry::kSeqFieldNumber ||
         field == JournalEntry::kAtNsFieldNumber ||
         field == JournalEntry::kTableFieldNumber ||
         field == JournalEntry::kPartitionFieldNumber;
}

}  // namespace

void SerializeJournalBody(const JournalEntry& entry, std::string* body) {
  // Serialized whole by generated code, then the column fields cut out:
  // quicker than reflection, and right for any field added later.
  thread_local std::string whole;
  entry.SerializeToString(&whole);
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(whole.data()),
      static_cast<int>(whole.size()));
  body->clear();
  int start = 0;
  while (const uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    // Fields are serialized in number order: past the last column field,
    // the rest is copied as is. (A column field kept would do no harm:
    // reading takes the columns.)
    if (field > kLastColumnField) break;
    if (!WireFormatLite::SkipField(&in, tag)) break;  // Cannot happen.
    const int end = in.CurrentPosition();
    if (!InColumns(field)) body->append(whole, start, end - start);
    start = end;
  }
  body->append(whole, start, std::string::npos);
  // A pipeline update's entry carries the spec: keep no such peak.
  if (whole.capacity() > (1 << 16)) std::string().swap(whole);
}

bool ParseJournalRow(std::string_view body, int64_t seq, int64_t at_ns,
                     std::string_view table, std::string_view partition,
                     JournalEntry* entry) {
  if (!entry->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return false;
  }
  entry->set_seq(seq);
  entry->set_at_ns(at_ns);
  entry->mutable_table()->assign(table.data(), table.size());
  entry->mutable_partition()->assign(partition.data(), partition.size());
  return true;
}

}  // namespace landfall::internal
