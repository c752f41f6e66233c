// Whether a pipeline spec a store holds (its current one, or one a deploy
// entry records) uses only what this landfall knows.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.pb.h"

namespace landfall::internal {

// FailedPrecondition marked as written by a newer landfall
// (IsWrittenByNewerLandfall) when `spec` holds an enum value or a field
// this build does not know, naming `what` and where in the spec; OK
// otherwise. A spec parsed from bytes keeps both (proto3), and read as they
// are, the spec would run with a newer landfall's setting silently dropped.
absl::Status CheckSpecKnown(const PipelineSpec& spec, absl::string_view what);

}  // namespace landfall::internal
