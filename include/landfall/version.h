// The library's version, at compile time and at run time.
#pragma once

#include "landfall/export.h"

#define LANDFALL_VERSION_MAJOR 0
#define LANDFALL_VERSION_MINOR 1
#define LANDFALL_VERSION_PATCH 0

namespace landfall {

// The version of the linked library, "MAJOR.MINOR.PATCH". Thread-safe.
LANDFALL_EXPORT const char* Version();

}  // namespace landfall
