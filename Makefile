# The two commands a newcomer needs: `make demo` and `make test`. `make run` is the plain engine.
GO ?= go
export CGO_ENABLED ?= 0

.PHONY: run demo test unit-test build bench clickhouse testtools cluster cluster-test vet lint

clickhouse:
	@bash .ci/clickhouse.sh

testtools:
	@bash .ci/testtools.sh

build:
	$(GO) build -o bin/voucherwatch ./cmd/voucherwatch

## run: install and start ClickHouse if needed, then the engine on the embedded defaults, with
## development keys unless VW_PII_KEY and VW_SESSION_KEY are set.
run: clickhouse build
	./bin/voucherwatch serve --dev-insecure-keys

## demo: install and start ClickHouse if needed, build, then the engine loaded with a synthetic
## province, the detectors run and demo users created; it keeps serving until Ctrl-C.
## DEMO_FLAGS passes flags, e.g. make demo DEMO_FLAGS="--scale 10". ClickHouse's install (network
## and disk) and the first build (CPU) run side by side: on a fresh machine that saves a minute.
demo:
	@$(MAKE) --no-print-directory -j2 clickhouse build
	./bin/voucherwatch demo $(DEMO_FLAGS)

## test: install and start ClickHouse if needed, and the tests' tools (kcat, promtool,
## Chromium), then every test against it (unit-test) and, at the same time, the cluster tests
## (cluster-test). The cluster tests mostly wait (nodes killed and restarted, replication):
## 6 min of which 1 min of CPU, so beside the CPU-bound go test they add little, where after it
## they added 6 min (CI 988 s).
## The test binaries are built first (`-run '^$'`, nothing run): in one run of four, at the
## start, a cluster node did not answer for a minute and a DDL statement timed out
## (TestClusterMigrate) while they were being built beside it (suspected CPU starvation).
test: clickhouse testtools
	$(GO) vet ./...
	$(GO) test -count=1 -run '^$$' ./... >/dev/null
	@$(MAKE) --no-print-directory -j2 --output-sync=line unit-test cluster-test

## unit-test: every test against the single server (the cluster tests skip).
## -p 4: the packages spend much of their time waiting on ClickHouse, Kafka and timers, so
## four at once on two cores took the go test part from 9 min 40 s to 8 min 20 s (all passing).
unit-test: clickhouse
	VW_TEST_CLICKHOUSE=127.0.0.1:9000 $(GO) test -p 4 -count=1 -timeout 20m ./...

## cluster: a fresh two-node ClickHouse test cluster beside the single server (ZooKeeper
## installed if needed), LAYOUT=1x2 (default) or 2x1; .ci/cluster/stop-cluster.sh stops it.
cluster:
	@bash .ci/cluster.sh

## cluster-test: the cluster tests (docs/cluster.md) on each layout in turn, one package at a
## time: they kill and restart node B. Without VW_TEST_CLUSTER they skip, so plain `go test`
## needs no cluster.
CLUSTER_TESTS = VW_TEST_CLICKHOUSE=127.0.0.1:9000 VW_TEST_CLUSTER=127.0.0.1:9101,127.0.0.1:9102 \
	$(GO) test -count=1 -p 1 -timeout 10m -run Cluster ./store/ ./cmd/voucherwatch/
cluster-test: clickhouse
	LAYOUT=1x2 bash .ci/cluster.sh
	$(CLUSTER_TESTS)
	LAYOUT=2x1 bash .ci/cluster.sh
	$(CLUSTER_TESTS)
	bash .ci/cluster/stop-cluster.sh

## bench: the ingest benchmark (1,000,000 usage records, engine vs clickhouse-client).
bench: clickhouse build
	./bin/voucherwatch bench

vet:
	gofmt -l . && $(GO) vet ./...

## lint: gofmt, go vet and staticcheck (installed from the module proxy at a pinned version).
lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
