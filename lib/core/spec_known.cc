#include "lib/core/spec_known.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "lib/core/entry.h"

namespace landfall::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The first field or enum value in `m` that this build does not know, as
// "field 9 in table[2]" or "table[2].trigger value 7", looking into its
// messages in field order; empty when there is none. `path` names `m` ("" for
// the spec itself).
std::string FirstUnknown(const Message& m, const std::string& path) {
  const Reflection* reflection = m.GetReflection();
  const auto& unknown = reflection->GetUnknownFields(m);
  if (!unknown.empty()) {
    return absl::StrCat("field ", unknown.field(0).number(),
                        path.empty() ? "" : " in ", path);
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    const bool repeated = field->is_repeated();
    const int count = repeated ? reflection->FieldSize(m, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string at = repeated ? absl::StrCat(name, "[", i, "]") : name;
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        const int value = repeated
                              ? reflection->GetRepeatedEnumValue(m, field, i)
                              : reflection->GetEnumValue(m, field);
        if (field->enum_type()->FindValueByNumber(value) == nullptr) {
          return absl::StrCat(at, " value ", value);
        }
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        std::string found =
            FirstUnknown(repeated ? reflection->GetRepeatedMessage(m, field, i)
                                  : reflection->GetMessage(m, field),
                         at);
        if (!found.empty()) return found;
      }
    }
  }
  return "";
}

}  // namespace

absl::Status CheckSpecKnown(const PipelineSpec& spec, absl::string_view what) {
  const std::string unknown = FirstUnknown(spec, "");
  if (unknown.empty()) return absl::OkStatus();
  return WrittenByNewerLandfall(absl::StrCat(what, " has ", unknown));
}

}  // namespace landfall::internal
