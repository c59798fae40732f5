# Zencast. The targets a user types: run, test, bench, build, clean.
# `make run` and `make test` install whatever is missing first.

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)

.PHONY: run test bench build clean deps test-deps server server-asan client

run: build
	./$(BUILD_DIR)/zencast serve

build: deps server client

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

server:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD_DIR) -j$(JOBS)

# The same code with AddressSanitizer and UndefinedBehaviorSanitizer; the suite runs on it.
server-asan:
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DZENCAST_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_DIR) -j$(JOBS)

client:
	client/build.sh

test: test-deps server server-asan client
	scripts/test.sh

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) client/dist
