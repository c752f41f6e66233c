// Fuzzes reading and validating a YAML spec (lib/pipeline/yaml_reader.cc):
// yaml-cpp's parser, the walk onto the schema and its node budget. A spec
// that loads is walked as spec_fuzzer walks one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/load_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  landfall::fuzz::LoadSpec(
      std::string_view(reinterpret_cast<const char*>(data), size),
      landfall::SpecFormat::kYaml, "fuzz.yaml");
  return 0;
}
