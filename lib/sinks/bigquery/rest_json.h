// Reading the REST API's JSON into the messages of bigquery_rest.proto.
#pragma once

#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace landfall::internal {

// Whether `json` parsed into `out`; fields `out` does not know are skipped.
inline bool ParseRestJson(const std::string& json,
                          google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(json, out, options).ok();
}

}  // namespace landfall::internal
