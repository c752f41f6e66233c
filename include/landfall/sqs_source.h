// A Source of arrivals from an Amazon SQS queue (or any server speaking
// its JSON protocol): S3 event notifications of objects landing, as S3
// sends them to SQS directly or through SNS, and landfall arrivals as JSON.
//
// Delivery is at least once in, exactly once in effect. Receivers go on
// receiving while a commit is under way; the batches received meanwhile
// are then committed together, in one Deliver (a group commit); a receiver
// holds at most 16 batches received and not yet deleted. A message
// is deleted (DeleteMessageBatch) only after the arrivals it carries are
// committed to the scheduler's store (Source::Deliver returned OK); while
// they are being committed its visibility timeout is extended
// (ChangeMessageVisibilityBatch; a message counts as extended only when
// its entry succeeded, else it is tried again at the next round), so that
// another receiver does not get it. A
// crash between the commit and the delete leaves the message in the
// queue: it is delivered again once its visibility timeout ends, and the
// event ids make its arrivals duplicates, recorded and otherwise ignored.
// Nothing acknowledged upstream is lost, and nothing is ingested twice
// within the scheduler's dedup retention. A commit that fails because the
// store is away (any error but InvalidArgument) is retried with the same
// backoff as the queue's errors, its messages held and kept invisible
// meanwhile, so an outage never sends good messages to the dead-letter
// queue; receivers pause when their batches are full. Stop ends receiving
// and committing, then deletes what was committed before it (for up to
// 5 seconds), so that a clean stop leaves no duplicates behind.
//
// Credentials are found as the AWS tools find them: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), when either
// key is set, else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
// else ~/.aws/credentials), profile AWS_PROFILE or "default". No message
// names them. A request refused as ExpiredToken, InvalidClientTokenId or
// UnrecognizedClientException reads them again and, when they changed
// (rotated temporary credentials), is sent once more with them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/metrics.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall {

struct SqsSourceOptions {
  // The queue, as SQS names it
  // (https://sqs.eu-west-1.amazonaws.com/123456789012/landing). Required.
  std::string queue_url;
  // Where requests go. Default: AWS_ENDPOINT_URL_SQS, else
  // AWS_ENDPOINT_URL, else the queue URL's scheme and host. Set it for a
  // local emulator or a VPC endpoint.
  std::string endpoint;
  // The signing region. Default: AWS_REGION, else AWS_DEFAULT_REGION, else
  // the region in the queue URL's host (sqs.<region>.amazonaws.com).
  std::string region;
  // How an S3 object key maps to (table, partition): '/'-separated
  // literal segments or `*` (any one segment), then `{table}`, then
  // optionally `{partition}`; the key must have at least one segment more
  // (the object's name). `{partition}` is skipped for an unpartitioned
  // table, and a Hive-style segment (`dt=2018-11-03`) stands for its
  // value. Default "{table}/{partition}", the landing directory's layout:
  // `orders/2018-11-03/part-0.parquet` is table `orders`, partition
  // `2018-11-03`; `raw/{table}/{partition}` reads
  // `raw/orders/dt=2018-11-03/part-0.parquet` the same way.
  std::string key_rule = "{table}/{partition}";
  // Threads receiving at once, each with its own connection: 1 to 64.
  // Default 1.
  int receivers = 1;
  // Long polling: 0 to 20 seconds. Default 20.
  int wait_time_seconds = 20;
  // Messages per receive: 1 to 10. Default 10.
  int max_messages = 10;
  // The visibility timeout asked for on each receive: at least 1 second,
  // at most 12 hours. A message not deleted (a poison message, or one
  // still uncommitted when the source stops) is received again after it,
  // not sooner. Default 30 seconds.
  absl::Duration visibility_timeout = absl::Seconds(30);
  // Throttling, 5xx and transport errors are retried after a random wait
  // of up to min(max_backoff, 100ms * 2^(n-1)) for the n-th error in a row
  // (capped exponential backoff, full jitter). Default 20 seconds.
  absl::Duration max_backoff = absl::Seconds(20);
  // Also told of each problem the runner reports (from the source's
  // threads). Default: none.
  std::function<void(const absl::Status&)> on_error;
  // Where the queue's figures go (Metrics::SetQueueStats), labelled
  // queue=NAME, the last segment of the queue URL. Not owned; must outlive
  // the source. With it, the source reads GetQueueAttributes at Start (the
  // request that checks the queue) and then every stats_interval, on a
  // thread and connection of its own, so that receiving and committing
  // never wait for it: ApproximateNumberOfMessages (visible),
  // ApproximateNumberOfMessagesNotVisible (in_flight) and
  // ApproximateNumberOfMessagesDelayed (delayed). A failed poll is
  // reported and counted (QueueStats::poll_errors, SqsSourceStats::
  // stats_errors), the last figures kept; it never stops the source.
  //
  // SQS has no queue attribute for the age of the oldest message
  // (ApproximateAgeOfOldestMessage is a CloudWatch metric), so the source
  // reckons it from the SentTimestamp of the messages it receives. At each
  // poll the age is the longest wait among: each message it holds
  // (received, not yet deleted or given back), the poll's time less its
  // SentTimestamp; each message it received since the previous poll, its
  // receipt time less its SentTimestamp. With neither, the age is 0 when
  // the queue reports no visible message, else unknown (absent): messages
  // wait that the source has not received. Default: none (nothing polled).
  Metrics* metrics = nullptr;
  // How often the queue's figures are read with `metrics`: at least 1
  // second. Default 30 seconds (about 86,400 requests a month per queue).
  absl::Duration stats_interval = absl::Seconds(30);
};

// What an SqsSource has done so far.
struct SqsSourceStats {
  int64_t received = 0;      // Messages received (again, when redelivered).
  int64_t deleted = 0;       // Messages deleted after their commit.
  int64_t arrivals = 0;      // Arrivals delivered and committed.
  int64_t ignored = 0;       // Messages with nothing to ingest (deleted).
  int64_t poison = 0;        // Receipts of messages not understood (kept).
  int64_t stats_polls = 0;   // Queue figures read (with options.metrics).
  int64_t stats_errors = 0;  // Polls of them that failed.
};

// A Source reading one SQS queue. Message bodies understood:
// - an S3 event notification (`Records[]` with `eventName`,
//   `eventTime`, `s3.bucket.name`, `s3.object.key`), also inside an SNS
//   notification's `Message`. Each `ObjectCreated:*` record is an arrival
//   of the table and partition the key rule maps its key to, with event
//   id `s3://BUCKET/KEY#SEQUENCER` (the versionId, else the eTag, when it
//   has no sequencer), origin `s3://BUCKET/KEY` and the event's time;
//   other records (objects removed) carry nothing;
// - a landfall arrival as JSON, the fields of `landfall simulate`'s
//   events (`{"event_id","table","partition","at","origin"}`);
// - the S3 test event (`"Event":"s3:TestEvent"`), which carries nothing.
// A message carrying nothing is deleted. A poison message, one that is
// none of these or names a table the pipeline lacks (or that the
// scheduler refuses), is reported and left in the queue: it comes back
// after its visibility timeout until the queue's redrive policy
// (maxReceiveCount) moves it to a dead-letter queue.
//
// A queue that does not exist, or credentials refused, stop the source
// with an error naming the queue URL: Start returns it when the first
// request fails so; later, the source reports it and stops receiving
// (status() returns it).
class LANDFALL_EXPORT SqsSource : public Source {
 public:
  // Whether no message is being handled and every receiver found the
  // queue empty: its last receive returned nothing, or its receive under
  // way has waited a second without a message. What was visible in the
  // queue is then committed and deleted. Thread-safe.
  virtual bool Drained() const = 0;
  // The error that stopped the source; OK while it runs. Thread-safe.
  virtual absl::Status status() const = 0;
  virtual SqsSourceStats stats() const = 0;
};

// A source reading `options.queue_url` for `pipeline`'s tables.
// InvalidArgument for a queue URL that is not http(s), an endpoint that is
// not, a bad key rule, no region, or an option out of its range (a
// stats_interval under 1 second too); FailedPrecondition when no complete
// credentials are found (naming the variables, the file and the profile).
// Nothing is sent before Start.
LANDFALL_EXPORT absl::StatusOr<std::unique_ptr<SqsSource>> NewSqsSource(
    std::shared_ptr<const Pipeline> pipeline, SqsSourceOptions options);

}  // namespace landfall
