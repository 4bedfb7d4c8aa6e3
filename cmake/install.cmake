# Install rules (ROTP_INSTALL): the ABI header, the provider, the programs and their manuals, the
# licence, the CMake package (find_package(rotp CONFIG): rotp::abi, rotp::cloudflare, and
# rotp::cloudflare_static / rotp::engine when built) and rotp.pc. Everything is relative to the
# prefix, so a tree installed with --prefix anywhere or unpacked from the .deb works where it is.
include(CMakePackageConfigHelpers)

set(ROTP_PROVIDERDIR ${CMAKE_INSTALL_LIBDIR}/rotp)
set(ROTP_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/rotp)
set(ROTP_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/abi/rotp.h ${PROJECT_SOURCE_DIR}/abi/rotp_cloudflare.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rotp)
install(TARGETS rotp_abi EXPORT rotpTargets)
install(TARGETS rotp_cloudflare EXPORT rotpTargets LIBRARY DESTINATION ${ROTP_PROVIDERDIR})
if(TARGET rotp_cloudflare_static)
  install(TARGETS rotp_cloudflare_static EXPORT rotpTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

if(TARGET rotp-harness)
  install(TARGETS rotp-harness RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/docs/rotp-harness.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
if(TARGET rotp_cfemu)
  # Beside rotp-harness, where `rotp-harness demo` looks for it.
  install(TARGETS rotp_cfemu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/docs/cfemu.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# The manuals the man pages point to, and the licence (also as Debian's copyright file).
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/rotp-harness.md
              ${PROJECT_SOURCE_DIR}/abi/ABI.md ${PROJECT_SOURCE_DIR}/docs/packaging.md
              ${PROJECT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/harness/cfemu/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME cfemu.md)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)

# The CMake package.
install(EXPORT rotpTargets NAMESPACE rotp:: DESTINATION ${ROTP_CMAKEDIR} FILE rotpTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rotpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/rotpConfig.cmake INSTALL_DESTINATION ${ROTP_CMAKEDIR}
  PATH_VARS ROTP_PROVIDERDIR)
# 0.x: a new minor version may break the interface.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rotpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rotpConfig.cmake ${PROJECT_BINARY_DIR}/rotpConfigVersion.cmake
        DESTINATION ${ROTP_CMAKEDIR})

# rotp.pc, relocatable: the prefix is found from where the .pc file is (${pcfiledir}).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ROTP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH ROTP_PC_UP ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
  string(REGEX REPLACE "/$" "" ROTP_PC_UP "${ROTP_PC_UP}")
  set(ROTP_PC_PREFIX "\${pcfiledir}/${ROTP_PC_UP}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/rotp.pc.in ${PROJECT_BINARY_DIR}/rotp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rotp.pc DESTINATION ${ROTP_PKGCONFIGDIR})
if(TARGET rotp_cloudflare_static)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/rotp-cloudflare.pc.in
                 ${PROJECT_BINARY_DIR}/rotp-cloudflare.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/rotp-cloudflare.pc DESTINATION ${ROTP_PKGCONFIGDIR})
endif()

if(PROJECT_IS_TOP_LEVEL)
  include(${PROJECT_SOURCE_DIR}/cmake/package.cmake)
endif()
