// The fast path of an events line: it takes only what protobuf's JSON
// parser parses, into the same message, and leaves the rest to it.
#include "lib/runtime/arrival_json.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/runtime/json_lines.h"

namespace landfall::internal {
namespace {

// Protobuf's parse of `line`: the message serialized, or "error".
std::string Slow(const std::string& line) {
  Arrival arrival;
  if (!ParseJsonLine("f", 1, line, &arrival).ok()) return "error";
  return arrival.SerializeAsString();
}

TEST(ArrivalJsonTest, PlainLinesParseAsProtobufParsesThem) {
  for (
      const std::string line : {
          R"({"event_id":"e1","table":"src","partition":"p","at":"2018-11-04T01:00:00Z","origin":"s3://x"})",
          R"( { "eventId" : "e1" , "table":"src" } )",
          R"({"table":"src","at":"2000-02-29T23:59:59Z"})",
          R"({"at":"0001-01-01T00:00:00Z"})",
          R"({"at":"1969-12-31T23:59:59Z"})",
          R"({"at":"1970-01-01T00:00:00Z"})",
          R"({"at":"2100-03-01T12:34:56Z"})",
          R"({"at":"9999-12-31T23:59:59Z","event_id":""})",
          R"({})",
      }) {
    Arrival fast;
    ASSERT_TRUE(ParsePlainArrival(line, &fast)) << line;
    EXPECT_EQ(fast.SerializeAsString(), Slow(line)) << line;
  }
}

TEST(ArrivalJsonTest, AnythingElseIsLeftToProtobuf) {
  for (const std::string line : {
           R"({"event_id":"e\"1"})",                // An escape.
           R"({"event_id":"é"})",                   // Not ASCII.
           R"({"event_id":"e1","event_id":"e2"})",  // A repeated key.
           R"({"event_id":"e1","eventId":"e2"})",   // The same field.
           R"({"attributes":{"k":"v"}})",           // Not a string.
           R"({"table":null})",
           R"({"bogus":"x"})",                       // Unknown key.
           R"({"at":"2018-11-04T01:00:00.5Z"})",     // A fraction.
           R"({"at":"2018-11-04T01:00:00+09:00"})",  // An offset.
           R"({"at":"2018-02-30T01:00:00Z"})",       // No such day.
           R"({"at":"2018-11-04T24:00:00Z"})",
           R"({"at":"2018-11-04T01:00:60Z"})",
           R"({"at":"0000-01-01T00:00:00Z"})",
           R"({"at":"2018-11-04t01:00:00z"})",
           R"({"table":"src",})",
           R"({"table":"src"} x)",
           R"({"table":"src")",
           R"([])",
       }) {
    Arrival fast;
    EXPECT_FALSE(ParsePlainArrival(line, &fast)) << line;
    // And the line parses, or not, as protobuf says.
    Arrival parsed;
    const absl::Status status = ParseArrivalLine("f", 1, line, &parsed);
    EXPECT_EQ(status.ok() ? parsed.SerializeAsString() : "error", Slow(line))
        << line;
  }
}

}  // namespace
}  // namespace landfall::internal
