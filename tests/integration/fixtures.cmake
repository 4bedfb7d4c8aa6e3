# SPDX-License-Identifier: MIT
# fixtures.cmake - test-only providers that rotp-harness must refuse (test_harness_loader.sh).
# Included from tests/integration/CMakeLists.txt. One source, fake_provider_v2.c, built once per
# mode into ${CMAKE_CURRENT_BINARY_DIR}/fixtures/ (not bin/, so nothing mistakes them for the
# real provider):
#   rotp_fake_provider_v2      exports only rotp_provider_entry_v2 (an unknown ABI major)
#   rotp_fake_provider_major2  rotp_provider_entry_v1 returning a table with abi_major = 2
#   rotp_fake_provider_small   rotp_provider_entry_v1 returning a table with a too-small struct_size
# The test finds them through ROTP_FAKE_PROVIDER_V2, ROTP_FAKE_PROVIDER_MAJOR2 and
# ROTP_FAKE_PROVIDER_SMALL (see the ROTP_IT_ENV line in CMakeLists.txt).
foreach(rotp_fake_mode V2_SYMBOL V1_MAJOR2 V1_SMALL)
  if(rotp_fake_mode STREQUAL "V2_SYMBOL")
    set(rotp_fake_name v2)
  elseif(rotp_fake_mode STREQUAL "V1_MAJOR2")
    set(rotp_fake_name major2)
  else()
    set(rotp_fake_name small)
  endif()
  add_library(rotp_fake_provider_${rotp_fake_name} MODULE
              ${CMAKE_CURRENT_LIST_DIR}/fake_provider_v2.c)
  target_include_directories(rotp_fake_provider_${rotp_fake_name} PRIVATE
                             ${PROJECT_SOURCE_DIR}/abi)
  target_compile_definitions(rotp_fake_provider_${rotp_fake_name} PRIVATE
                             FAKE_MODE_${rotp_fake_mode}=1)
  set_target_properties(rotp_fake_provider_${rotp_fake_name} PROPERTIES
    PREFIX "" OUTPUT_NAME fake_provider_${rotp_fake_name}
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fixtures)
endforeach()
