# SPDX-License-Identifier: MIT
# CPack: a .deb and a .tar.gz of the install tree (cpack -G DEB, cpack -G TGZ, or plain `cpack`).
# The .deb's dependencies are computed by dpkg-shlibdeps (dpkg-dev) from the binaries it holds,
# as Debian packages do: libc6, libcurl4, libssl3, libmicrohttpd12, libgnutls30.
set(CPACK_PACKAGE_NAME rotp-cloudflare)
set(CPACK_PACKAGE_VENDOR "The rotp-cloudflare authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Cloudflare credential-rotation provider for the rotp C ABI, with rotp-harness and cfemu")
set(CPACK_PACKAGE_DESCRIPTION
    "cloudflare.so rotates Cloudflare API tokens (user and account-owned) and Access service \
tokens through the versioned rotp C ABI (rotp.h). rotp-harness drives any rotp provider from the \
command line (rotate, verify, revoke, resume, sandbox checks, an offline demo), and cfemu is a \
local stand-in for Cloudflare's v4 API used by the demo and tests. License: MIT.")
# A packager sets the real address: cmake -DROTP_PACKAGE_CONTACT="Name <mail>".
set(ROTP_PACKAGE_CONTACT "The rotp-cloudflare authors <maintainers@rotp-cloudflare.invalid>"
    CACHE STRING "Maintainer of the .deb (Name <address>)")
set(CPACK_PACKAGE_CONTACT ${ROTP_PACKAGE_CONTACT})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian's policy: a package's files are owned by root and not writable by others.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/deb_manpages.cmake)

include(CPack)
