# Installing klb (host): 'make install' into a staging directory; the
# Debian packages built, lintian clean, and DKMS building the module from
# klb-dkms for the guest's kernel.
HOST_TESTS += selftests/packaging/install_test.sh selftests/packaging/deb_test.sh
