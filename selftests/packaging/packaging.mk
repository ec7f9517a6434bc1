# Installing klb: 'make install' into a staging directory (host).
HOST_TESTS += selftests/packaging/install_test.sh
