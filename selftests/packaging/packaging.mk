# Installing klb. Host: 'make install' into a staging directory; the
# Debian packages built, lintian clean, and DKMS building the module from
# klb-dkms for the guest's kernel (kept in build/deb/). Guest: the packages
# installed with apt, that module installed by DKMS and autoloaded, klbctl
# against it, and the packages purged.
HOST_TESTS += selftests/packaging/install_test.sh selftests/packaging/deb_test.sh
VM_TESTS += selftests/packaging/packages_vm_test.sh
