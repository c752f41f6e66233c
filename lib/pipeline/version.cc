#include "landfall/version.h"

#define LANDFALL_STRINGIZE_(x) #x
#define LANDFALL_STRINGIZE(x) LANDFALL_STRINGIZE_(x)

namespace landfall {

const char* Version() {
  return LANDFALL_STRINGIZE(LANDFALL_VERSION_MAJOR) "." LANDFALL_STRINGIZE(
      LANDFALL_VERSION_MINOR) "." LANDFALL_STRINGIZE(LANDFALL_VERSION_PATCH);
}

}  // namespace landfall
