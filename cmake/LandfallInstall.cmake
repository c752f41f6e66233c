# `cmake --install`: headers (with the generated protobuf ones), the shared
# and static libraries, the landfall CLI, a CMake package and a pkg-config file.
include(CMakePackageConfigHelpers)

set(LANDFALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/landfall)

install(TARGETS landfall landfall_static
  EXPORT landfallTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/landfall
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.proto")
install(FILES ${LANDFALL_PROTO_HEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/landfall)
install(EXPORT landfallTargets
  NAMESPACE landfall::
  DESTINATION ${LANDFALL_CMAKE_DIR})

configure_package_config_file(cmake/landfallConfig.cmake.in
  ${PROJECT_BINARY_DIR}/landfallConfig.cmake
  INSTALL_DESTINATION ${LANDFALL_CMAKE_DIR})
# 0.x releases promise compatibility within a minor version only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/landfallConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/landfallConfig.cmake
  ${PROJECT_BINARY_DIR}/landfallConfigVersion.cmake
  DESTINATION ${LANDFALL_CMAKE_DIR})

# The .pc file finds its prefix relative to itself, so an installed tree can
# be moved.
file(RELATIVE_PATH LANDFALL_PC_TO_PREFIX
  /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(cmake/landfall.pc.in ${PROJECT_BINARY_DIR}/landfall.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/landfall.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
