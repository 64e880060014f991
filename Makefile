# gluster-go: the two commands of the README are `make run` and `make test`.
GO      ?= go
BIN     ?= $(CURDIR)/bin
PREFIX  ?= /usr/local

.PHONY: build install run stop test vet fuzz bench

build:
	scripts/install-deps.sh
	$(GO) build -o $(BIN)/ ./cmd/...

# install puts the binaries on PATH and mount.glusterfs where mount(8) looks.
install: build
	install -d $(PREFIX)/sbin
	for b in $(BIN)/*; do install -m 0755 $$b $(PREFIX)/sbin/; done
	ln -sf $(PREFIX)/sbin/mount.glusterfs /sbin/mount.glusterfs

# run builds, installs and starts a one-node pool with a mounted volume.
run: install
	scripts/run-local.sh start

stop:
	scripts/run-local.sh stop

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# test runs the whole suite: vet, unit and end-to-end tests, a short fuzz pass.
test: vet build
	$(GO) test -count=1 -timeout 40m ./...
	scripts/fuzz.sh 10s

bench: build
	bench/run.sh
