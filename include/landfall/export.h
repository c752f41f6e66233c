// LANDFALL_EXPORT marks the symbols liblandfall exports; everything else in
// the shared library is hidden.
#pragma once

#if defined(_WIN32)
#if defined(LANDFALL_BUILDING)
#define LANDFALL_EXPORT __declspec(dllexport)
#else
#define LANDFALL_EXPORT __declspec(dllimport)
#endif
#else
#define LANDFALL_EXPORT __attribute__((visibility("default")))
#endif
