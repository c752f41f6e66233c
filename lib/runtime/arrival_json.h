// Parsing a line of an events file into an Arrival. Protobuf's JSON parser
// takes microseconds a line, most of a large simulation's reading; the
// common line, a flat object of plain strings, is parsed here directly, and
// any other goes to protobuf, so that what is accepted or refused, and
// every message, stays protobuf's.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// Parses `line` of the file `path` as ParseJsonLine would.
absl::Status ParseArrivalLine(const std::string& path, int line_number,
                              absl::string_view line, Arrival* arrival);

// Whether `line` is an object whose keys are among event_id (or eventId),
// table, partition, origin and at, each at most once, with string values
// of printable ASCII without escapes, `at` of the form
// 2018-11-04T01:00:00Z; then `arrival` holds it as protobuf would parse
// it. Otherwise false, with `arrival` unspecified.
bool ParsePlainArrival(absl::string_view line, Arrival* arrival);

}  // namespace landfall::internal
