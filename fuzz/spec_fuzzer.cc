// Fuzzes reading and validating a pipeline spec from text: the same bytes
// as protobuf text format and as JSON. A spec that loads is then walked the
// way `landfall validate` and `landfall dot` walk it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/load_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  landfall::fuzz::LoadSpec(text, landfall::SpecFormat::kTextProto,
                           "fuzz.textproto");
  landfall::fuzz::LoadSpec(text, landfall::SpecFormat::kJson, "fuzz.json");
  return 0;
}
