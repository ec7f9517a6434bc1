# Packaging: DKMS and the Debian packages (Documentation/packaging.md).
#
#   make dkms-install    the module's sources to /usr/src/klb-VERSION, then
#                        built and installed by DKMS for KVER (as root)
#   make dkms-uninstall  the reverse
#   make deb             klb-dkms and klb-tools in build/deb/
#
# The version is the Debian changelog's, the one place it is written.
KLB_VERSION := $(shell sed -n '1s/^[^ ]* (\(.*\)).*/\1/p' tools/packaging/debian/changelog)
DKMS_SRC_DIR ?= /usr/src/klb-$(KLB_VERSION)
DKMS_SOURCES := kmod/Kbuild $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h)

# What DKMS builds from: kmod/ and the headers it includes, replacing an
# older copy of the same version. DESTDIR as usual.
dkms-source:
	rm -rf $(DESTDIR)$(DKMS_SRC_DIR)
	install -d $(DESTDIR)$(DKMS_SRC_DIR)/kmod $(DESTDIR)$(DKMS_SRC_DIR)/include/klb \
		$(DESTDIR)$(DKMS_SRC_DIR)/include/uapi/linux
	install -m 0644 $(DKMS_SOURCES) $(DESTDIR)$(DKMS_SRC_DIR)/kmod/
	install -m 0644 include/klb/*.h $(DESTDIR)$(DKMS_SRC_DIR)/include/klb/
	install -m 0644 include/uapi/linux/klb.h $(DESTDIR)$(DKMS_SRC_DIR)/include/uapi/linux/
	sed 's/#MODULE_VERSION#/$(KLB_VERSION)/' kmod/dkms.conf >$(DESTDIR)$(DKMS_SRC_DIR)/dkms.conf

# A version already known to DKMS is removed first: the sources may have
# changed under the same version.
dkms-install: dkms-source
	$(if $(DESTDIR),,dkms status -m klb -v $(KLB_VERSION) | grep -q . && \
		dkms remove -m klb -v $(KLB_VERSION) --all; \
		dkms add -m klb -v $(KLB_VERSION) && \
		dkms install -m klb -v $(KLB_VERSION) -k $(KVER))

dkms-uninstall:
	dkms status -m klb -v $(KLB_VERSION) | grep -q . && \
		dkms remove -m klb -v $(KLB_VERSION) --all; \
	rm -rf $(DKMS_SRC_DIR)

deb:
	tools/packaging/deb.sh $(O)/deb

.PHONY: dkms-source dkms-install dkms-uninstall deb
