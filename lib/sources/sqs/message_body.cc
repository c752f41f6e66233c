#include "lib/sources/sqs/message_body.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "lib/sources/sqs/sqs_protocol.h"

namespace landfall::internal {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kTable[] = "{table}";
constexpr char kPartition[] = "{partition}";

const Struct* StructField(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_struct_value()) {
    return nullptr;
  }
  return &it->second.struct_value();
}

MessageBody Poison(std::string reason) {
  MessageBody out;
  out.kind = MessageBody::Kind::kPoison;
  out.reason = std::move(reason);
  return out;
}

// One S3 record: an arrival, nothing (not a creation), or why it is poison.
absl::Status ReadS3Record(const Struct& record, const KeyRule& rule,
                          const Pipeline& pipeline,
                          std::vector<Arrival>* arrivals) {
  const std::string event_name = StringField(record, "eventName");
  if (!absl::StartsWith(event_name, "ObjectCreated:")) return absl::OkStatus();
  const Struct* s3 = StructField(record, "s3");
  const Struct* bucket = s3 == nullptr ? nullptr : StructField(*s3, "bucket");
  const Struct* object = s3 == nullptr ? nullptr : StructField(*s3, "object");
  if (bucket == nullptr || object == nullptr ||
      StringField(*bucket, "name").empty() ||
      StringField(*object, "key").empty()) {
    return absl::InvalidArgumentError(
        "S3 record without s3.bucket.name and s3.object.key");
  }
  const std::string key = DecodeS3Key(StringField(*object, "key"));
  // A "folder" made in the S3 console is an empty object named DIR/.
  if (absl::EndsWith(key, "/")) return absl::OkStatus();
  const std::string origin =
      absl::StrCat("s3://", StringField(*bucket, "name"), "/", key);
  absl::StatusOr<KeyRule::Match> match = rule.Apply(key, pipeline);
  if (!match.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": ", match.status().message()));
  }
  std::string version = StringField(*object, "sequencer");
  if (version.empty()) version = StringField(*object, "versionId");
  if (version.empty()) version = StringField(*object, "eTag");
  Arrival arrival;
  arrival.set_event_id(version.empty() ? origin
                                       : absl::StrCat(origin, "#", version));
  arrival.set_table(match->table);
  arrival.set_partition(match->partition);
  arrival.set_origin(origin);
  (*arrival.mutable_attributes())["event_name"] = event_name;
  const std::string event_time = StringField(record, "eventTime");
  if (!event_time.empty() && !google::protobuf::util::TimeUtil::FromString(
                                 event_time, arrival.mutable_at())) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin, ": eventTime \"", event_time, "\" is not an RFC 3339 time"));
  }
  arrivals->push_back(std::move(arrival));
  return absl::OkStatus();
}

MessageBody ReadS3Event(const Value& records, const KeyRule& rule,
                        const Pipeline& pipeline) {
  MessageBody out;
  for (const Value& r : records.list_value().values()) {
    if (!r.has_struct_value()) return Poison("S3 record is not an object");
    if (absl::Status s =
            ReadS3Record(r.struct_value(), rule, pipeline, &out.arrivals);
        !s.ok()) {
      return Poison(std::string(s.message()));
    }
  }
  out.kind = out.arrivals.empty() ? MessageBody::Kind::kIgnored
                                  : MessageBody::Kind::kArrivals;
  return out;
}

MessageBody ReadArrival(const std::string& body, const Pipeline& pipeline) {
  Arrival arrival;
  const auto status =
      google::protobuf::util::JsonStringToMessage(body, &arrival);
  if (!status.ok()) {
    return Poison(absl::StrCat("arrival: ", status.message().as_string()));
  }
  if (arrival.event_id().empty()) return Poison("arrival without event_id");
  if (!pipeline.FindTable(arrival.table())) {
    return Poison(absl::StrCat("arrival ", arrival.event_id(),
                               ": unknown table \"", arrival.table(), "\""));
  }
  MessageBody out;
  out.kind = MessageBody::Kind::kArrivals;
  out.arrivals.push_back(std::move(arrival));
  return out;
}

MessageBody Read(const std::string& body, const KeyRule& rule,
                 const Pipeline& pipeline, int depth) {
  absl::StatusOr<Struct> parsed = ParseJsonObject(body, "message body");
  if (!parsed.ok()) return Poison(std::string(parsed.status().message()));
  const auto& fields = parsed->fields();
  if (auto it = fields.find("Records"); it != fields.end()) {
    if (!it->second.has_list_value()) return Poison("Records is not a list");
    return ReadS3Event(it->second, rule, pipeline);
  }
  // S3 -> SNS -> SQS: the S3 event is the SNS notification's Message.
  if (StringField(*parsed, "Type") == "Notification" &&
      fields.count("Message") > 0 && depth == 0) {
    return Read(StringField(*parsed, "Message"), rule, pipeline, depth + 1);
  }
  if (StringField(*parsed, "Event") == "s3:TestEvent") {
    MessageBody out;
    out.kind = MessageBody::Kind::kIgnored;
    return out;
  }
  if (fields.count("table") > 0 || fields.count("event_id") > 0 ||
      fields.count("eventId") > 0) {
    return ReadArrival(body, pipeline);
  }
  return Poison(
      "neither an S3 event notification, an SNS notification of one, nor a "
      "landfall arrival");
}

}  // namespace

absl::StatusOr<KeyRule> KeyRule::Parse(const std::string& rule) {
  KeyRule out;
  out.text_ = rule;
  std::vector<std::string> segments = absl::StrSplit(rule, '/');
  bool table = false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& s = segments[i];
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrCat("key rule \"", rule, "\": ", why));
    };
    if (s.empty()) return bad("empty segment");
    if (s == kTable) {
      if (table) return bad("{table} twice");
      table = true;
    } else if (s == kPartition) {
      if (!table) return bad("{partition} before {table}");
      if (i + 1 != segments.size()) {
        return bad("{partition} must be the last segment");
      }
      out.has_partition_ = true;
    } else if (table) {
      return bad(absl::StrCat("segment \"", s, "\" after {table}"));
    } else if (absl::StrContains(s, "{")) {
      return bad(absl::StrCat("unknown placeholder \"", s, "\""));
    } else {
      out.prefix_.push_back(s);
    }
  }
  if (!table) {
    return absl::InvalidArgumentError(
        absl::StrCat("key rule \"", rule, "\" has no {table}"));
  }
  return out;
}

absl::StatusOr<KeyRule::Match> KeyRule::Apply(const std::string& key,
                                              const Pipeline& pipeline) const {
  std::vector<std::string> segments = absl::StrSplit(key, '/');
  auto mismatch = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("key does not match the key rule \"", text_, "\": ", why));
  };
  size_t i = 0;
  for (; i < prefix_.size(); ++i) {
    if (i >= segments.size()) return mismatch("too few segments");
    if (prefix_[i] != "*" && prefix_[i] != segments[i]) {
      return mismatch(
          absl::StrCat("\"", segments[i], "\" is not \"", prefix_[i], "\""));
    }
  }
  if (i + 1 >= segments.size()) return mismatch("no table and object name");
  Match out;
  out.table = segments[i++];
  std::optional<TableId> id = pipeline.FindTable(out.table);
  if (!id) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown table \"", out.table, "\""));
  }
  if (has_partition_ && pipeline.table(*id).partitioned) {
    if (i + 1 >= segments.size()) {
      return mismatch("no partition and object name");
    }
    std::string partition = segments[i++];
    // Hive style: dt=2018-11-03.
    if (const size_t eq = partition.find('='); eq != std::string::npos) {
      partition = partition.substr(eq + 1);
    }
    if (partition.empty()) return mismatch("empty partition");
    out.partition = std::move(partition);
  }
  return out;
}

MessageBody ParseMessageBody(const std::string& body, const KeyRule& rule,
                             const Pipeline& pipeline) {
  return Read(body, rule, pipeline, 0);
}

std::string DecodeS3Key(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    int high = 0, low = 0;
    auto hex = [](char c, int* v) {
      if (c >= '0' && c <= '9')
        *v = c - '0';
      else if (c >= 'a' && c <= 'f')
        *v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        *v = c - 'A' + 10;
      else
        return false;
      return true;
    };
    if (key[i] == '+') {
      out += ' ';
    } else if (key[i] == '%' && i + 2 < key.size() && hex(key[i + 1], &high) &&
               hex(key[i + 2], &low)) {
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += key[i];
    }
  }
  return out;
}

}  // namespace landfall::internal
