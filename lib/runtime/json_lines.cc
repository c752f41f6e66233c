#include "lib/runtime/json_lines.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "lib/core/utf8.h"
#include "lib/pipeline/internal/read_file.h"

namespace landfall::internal {

absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadRegularFile(path, kMaxJsonLinesBytes, "file");
  if (!text.ok()) return text.status();
  return SplitLines(*text);
}

absl::Status ForEachLine(
    const std::string& path,
    const std::function<absl::Status(int line_number, int64_t offset,
                                     absl::string_view line)>& f) {
  std::string partial;  // A line the chunks so far have not ended.
  int line_number = 0;
  int64_t offset = 0;  // Where the next line begins.
  absl::Status status = ReadRegularFileChunks(
      path, kMaxJsonLinesBytes, "file", [&](absl::string_view chunk) {
        for (size_t end; (end = chunk.find('\n')) != chunk.npos;) {
          absl::string_view line = chunk.substr(0, end);
          if (!partial.empty()) {
            partial.append(line.data(), line.size());
            line = partial;
          }
          absl::Status status = f(++line_number, offset, line);
          if (!status.ok()) return status;
          offset += line.size() + 1;
          partial.clear();
          chunk.remove_prefix(end + 1);
        }
        partial.append(chunk.data(), chunk.size());
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  // A final newline ends the last line; it does not start another.
  if (!partial.empty()) return f(++line_number, offset, partial);
  return absl::OkStatus();
}

std::vector<std::string> SplitLines(absl::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  // A final newline ends the last line; it does not start another.
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

absl::Status ParseJsonLine(const std::string& path, int line_number,
                           const std::string& line,
                           google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  const auto status =
      google::protobuf::util::JsonStringToMessage(line, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", line_number, ": ", status.message().as_string()));
  }
  return absl::OkStatus();
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  const std::string_view bytes(text.data(), text.size());
  for (size_t i = 0; i < bytes.size();) {
    const char c = bytes[i];
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      // JSON is UTF-8: a byte that starts no character becomes U+FFFD.
      const size_t length = Utf8CharLength(bytes.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(bytes, i, length);
        i += length;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += absl::StrFormat("\\u%04x", byte);
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace landfall::internal
