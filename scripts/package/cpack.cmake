# cpack.cmake - the Debian package (scripts/package.sh: cpack -G DEB):
# what goes in beside CMakeLists.txt's install rules (units, default file,
# README.Debian, copyright, maintainer scripts) and the control fields.
# Depends comes from dpkg-shlibdeps on the binary (libevent, libssl3,
# libyaml, libjansson), the version from project(VERSION).
# Does not: build anything itself, or choose the prefix (package.sh
# configures with CMAKE_INSTALL_PREFIX=/usr, so sysconfdir is /etc).
set(pkg ${PROJECT_SOURCE_DIR}/scripts/package)
install(FILES ${pkg}/systemd/smtp-mimic@.service
  DESTINATION lib/systemd/system)
install(FILES ${pkg}/default DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default
  RENAME smtp-mimic)
install(FILES ${pkg}/README.Debian ${pkg}/copyright
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME smtp-mimic)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "smtp-mimic maintainers <smtp-mimic@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "mock SMTP server that plays specific legacy mail peers")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "smtp-mimic plays a specific mail peer (Exchange, Exim, Postfix, Gmail, a
 Cisco ESA ...) byte for byte from a profile file, and writes a transcript
 that proves what crossed the wire. Run one per profile with
 systemctl start smtp-mimic@NAME.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${pkg}/debian/postinst ${pkg}/debian/prerm ${pkg}/debian/postrm
  ${pkg}/debian/conffiles)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)
