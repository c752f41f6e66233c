// Fuzzes reading and validating a pipeline spec from text: the same bytes
// as protobuf text format and as JSON. A spec that loads is then walked the
// way `landfall validate` and `landfall dot` walk it.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "landfall/pipeline.h"

namespace {

void Load(std::string_view text, landfall::SpecFormat format,
          std::string_view file) {
  std::vector<landfall::SpecProblem> problems;
  auto pipeline = landfall::Pipeline::FromText(text, format, file, &problems);
  for (const landfall::SpecProblem& problem : problems) {
    (void)problem.ToString();
  }
  if (!pipeline.ok()) return;
  const landfall::Pipeline& p = **pipeline;
  for (const landfall::SpecProblem& warning : p.warnings()) {
    (void)warning.ToString();
  }
  (void)p.Summary();
  (void)p.ToDot();
  for (const landfall::Table& table : p.tables()) {
    (void)p.Ancestors(table.id);
    (void)p.Descendants(table.id);
    (void)p.FindTable(table.name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Load(text, landfall::SpecFormat::kTextProto, "fuzz.textproto");
  Load(text, landfall::SpecFormat::kJson, "fuzz.json");
  return 0;
}
