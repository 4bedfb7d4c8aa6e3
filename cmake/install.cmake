# SPDX-License-Identifier: MIT
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
# Packages the installed targets need, for find_dependency() in rotpConfig.cmake.
set(ROTP_FIND_DEPENDENCIES)
if(TARGET rotp_cloudflare_static)
  install(TARGETS rotp_cloudflare_static EXPORT rotpTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  list(APPEND ROTP_FIND_DEPENDENCIES CURL)
endif()

# rotp_install_man(page): docs/<page>, its .TH footer naming this project version.
function(rotp_install_man page)
  file(READ ${PROJECT_SOURCE_DIR}/docs/${page} text)
  string(REGEX REPLACE "\"rotp-cloudflare[^\"]*\"" "\"rotp-cloudflare ${PROJECT_VERSION}\""
         text "${text}")
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/man/${page} CONTENT "${text}")
  install(FILES ${PROJECT_BINARY_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/docs/rotp-harness.1 ${PROJECT_SOURCE_DIR}/docs/cfemu.1)

# rotp::engine, installed: the engine and the internal static libraries it links (rotp_util,
# ...) prelinked into one archive, librotp_engine.a, whose only global symbols are the
# rotp_engine_* API (objcopy --keep-global-symbol), so the internal layers cannot clash with a
# host's symbols or with another rotp archive. In a build tree (subproject), rotp::engine is the
# engine's own target.
function(rotp_internal_archives target out)
  set(found)
  get_target_property(libs ${target} LINK_LIBRARIES)
  foreach(lib IN LISTS libs)
    if(TARGET ${lib})
      get_target_property(imported ${lib} IMPORTED)
      get_target_property(type ${lib} TYPE)
      if(NOT imported AND type STREQUAL "STATIC_LIBRARY")
        rotp_internal_archives(${lib} sub)
        list(APPEND found ${lib} ${sub})
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES found)
  set(${out} ${found} PARENT_SCOPE)
endfunction()

if(TARGET rotp_engine)
  rotp_internal_archives(rotp_engine ROTP_ENGINE_PARTS)
  set(ROTP_ENGINE_FILES $<TARGET_FILE:rotp_engine>)
  foreach(part IN LISTS ROTP_ENGINE_PARTS)
    list(APPEND ROTP_ENGINE_FILES $<TARGET_FILE:${part}>)
  endforeach()
  set(ROTP_ENGINE_PRELINKED ${PROJECT_BINARY_DIR}/engine-dist/rotp_engine_prelinked.o)
  add_custom_command(
    OUTPUT ${ROTP_ENGINE_PRELINKED}
    COMMAND ${CMAKE_LINKER} -r -o ${ROTP_ENGINE_PRELINKED} --whole-archive ${ROTP_ENGINE_FILES}
            --no-whole-archive
    COMMAND ${CMAKE_OBJCOPY} --wildcard --keep-global-symbol=rotp_engine_*
            ${ROTP_ENGINE_PRELINKED}
    DEPENDS rotp_engine ${ROTP_ENGINE_PARTS} ${ROTP_ENGINE_FILES}
    COMMENT "Prelinking the installed engine (rotp_engine_* global only)"
    COMMAND_EXPAND_LISTS VERBATIM)
  add_library(rotp_engine_dist STATIC ${ROTP_ENGINE_PRELINKED})
  set_target_properties(rotp_engine_dist PROPERTIES OUTPUT_NAME rotp_engine EXPORT_NAME engine
    LINKER_LANGUAGE C ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/engine-dist)
  # What the engine and its parts need from outside the project, as an installed consumer finds
  # it: pkg-config's targets become CMake's own find modules' (CURL::libcurl, OpenSSL::Crypto).
  set(ROTP_ENGINE_EXTERNAL)
  foreach(part IN ITEMS rotp_engine LISTS ROTP_ENGINE_PARTS)
    get_target_property(libs ${part} LINK_LIBRARIES)
    foreach(lib IN LISTS libs)
      if(lib IN_LIST ROTP_ENGINE_PARTS OR lib MATCHES "^(rotp_abi|rotp::abi|libs-NOTFOUND)$")
        continue()
      elseif(lib STREQUAL "PkgConfig::CURL")
        list(APPEND ROTP_ENGINE_EXTERNAL $<BUILD_INTERFACE:${lib}>$<INSTALL_INTERFACE:CURL::libcurl>)
        list(APPEND ROTP_FIND_DEPENDENCIES CURL)
      elseif(lib STREQUAL "PkgConfig::LIBCRYPTO")
        list(APPEND ROTP_ENGINE_EXTERNAL
             $<BUILD_INTERFACE:${lib}>$<INSTALL_INTERFACE:OpenSSL::Crypto>)
        list(APPEND ROTP_FIND_DEPENDENCIES OpenSSL)
      elseif(TARGET ${lib})
        message(FATAL_ERROR "rotp::engine: no installed form for ${lib} (cmake/install.cmake)")
      else()
        list(APPEND ROTP_ENGINE_EXTERNAL ${lib}) # a plain library name, e.g. dl
      endif()
    endforeach()
  endforeach()
  target_link_libraries(rotp_engine_dist INTERFACE rotp_abi ${ROTP_ENGINE_EXTERNAL})
  install(TARGETS rotp_engine_dist EXPORT rotpTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/engine/rotp_engine.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rotp)
endif()

if(TARGET rotp-harness)
  install(TARGETS rotp-harness RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  rotp_install_man(rotp-harness.1)
endif()
if(TARGET rotp_cfemu)
  # Beside rotp-harness, where `rotp-harness demo` looks for it.
  install(TARGETS rotp_cfemu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  rotp_install_man(cfemu.1)
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
list(REMOVE_DUPLICATES ROTP_FIND_DEPENDENCIES)
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
if(TARGET rotp_engine_dist)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/rotp-engine.pc.in ${PROJECT_BINARY_DIR}/rotp-engine.pc
                 @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/rotp-engine.pc DESTINATION ${ROTP_PKGCONFIGDIR})
endif()
if(TARGET rotp_cloudflare_static)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/rotp-cloudflare.pc.in
                 ${PROJECT_BINARY_DIR}/rotp-cloudflare.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/rotp-cloudflare.pc DESTINATION ${ROTP_PKGCONFIGDIR})
endif()

if(PROJECT_IS_TOP_LEVEL)
  include(${PROJECT_SOURCE_DIR}/cmake/package.cmake)
endif()
