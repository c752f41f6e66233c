// What an SQS message body says: an S3 event notification (also wrapped in
// an SNS notification), a landfall arrival as JSON, or the S3 test event.
// S3 object keys map to (table, partition) by a KeyRule.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// Maps an object key to (table, partition). A rule is a '/'-separated
// pattern: literal segments, `*` (any one segment), then `{table}` and
// optionally `{partition}` after it. The key must match the pattern
// segment by segment and have at least one more segment (the object's
// name). `{partition}` is skipped for an unpartitioned table; a partition
// segment written Hive-style (`dt=2018-11-03`) stands for its value. The
// default, `{table}/{partition}`, is the landing directory's layout.
class KeyRule {
 public:
  static constexpr char kDefault[] = "{table}/{partition}";

  // InvalidArgument naming the rule when it has no `{table}`, a
  // `{partition}` before it, an empty segment or a placeholder twice.
  static absl::StatusOr<KeyRule> Parse(const std::string& rule);

  struct Match {
    std::string table;
    std::string partition;
  };
  // The table and partition of `key` (percent-decoded already), or
  // InvalidArgument saying why it does not match. A table the pipeline
  // lacks is InvalidArgument naming it.
  absl::StatusOr<Match> Apply(const std::string& key,
                              const Pipeline& pipeline) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> prefix_;  // Segments before {table}.
  bool has_partition_ = false;
};

// How one message body reads.
struct MessageBody {
  enum class Kind {
    kArrivals,  // `arrivals` to ingest, then delete the message.
    kIgnored,   // Nothing to ingest (a test event, an object removed):
                // delete the message.
    kPoison,    // Not understood (`reason`): leave it to the queue's
                // redrive policy.
  };
  Kind kind = Kind::kPoison;
  std::vector<Arrival> arrivals;
  std::string reason;
};

// Reads `body`. An S3 record is an arrival when its eventName starts with
// "ObjectCreated:"; its event id is `s3://BUCKET/KEY#SEQUENCER` (the
// versionId, then the eTag, when there is no sequencer), so that a
// notification delivered again is a duplicate; its origin is
// `s3://BUCKET/KEY` and its time the record's eventTime. A body whose
// every record names no object created is ignored. Any record that does
// not map to a table of `pipeline` makes the whole message poison.
MessageBody ParseMessageBody(const std::string& body, const KeyRule& rule,
                             const Pipeline& pipeline);

// `%XX` and '+' (a space) decoded, as S3 writes keys in notifications.
std::string DecodeS3Key(const std::string& key);

}  // namespace landfall::internal
