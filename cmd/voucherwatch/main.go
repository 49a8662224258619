// Command voucherwatch watches the Hunan compute-voucher (算力券) programme: it ingests suppliers'
// records from Kafka into ClickHouse, runs the detectors and serves supervisors.
//
//	voucherwatch serve     run the engine (embedded broker when --kafka is empty)
//	voucherwatch migrate   create and migrate the ClickHouse database, then exit
//	voucherwatch broker    run only the embedded Kafka-protocol broker
//	voucherwatch bench     the ingest benchmark; bench scale: on a history (docs/benchmarks.md)
//	voucherwatch demo      serve, loaded with a synthetic province, detectors run, demo users
//	voucherwatch deadletters replay   send a supplier's dead letters back once they would pass
//	voucherwatch check     compare the derived tables with the records; exit 1 on drift
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "voucherwatch:", err)
		os.Exit(1)
	}
}

const usage = `usage: voucherwatch <command> [flags]

commands:
  serve     run the engine: ingest, detectors, API, UI, metrics
  migrate   create and migrate the ClickHouse database, then exit
  broker    run only the embedded Kafka-protocol broker
  bench     run the ingest benchmark against clickhouse-client
  bench scale  ingest and detection on a province's history of --usage N records
  bench live  a fresh engine taking --usage N records at full rate: claim alerts' latency, ingest with detectors live
  demo      serve, load a synthetic province through Kafka, run the detectors, create demo users
  deadletters replay  send a supplier's dead letters (--supplier, --since) back once they would pass
  check     compare the derived tables (keys, rollups) with the records and report drift

Every flag can also be set as VW_<FLAG> (e.g. VW_CLICKHOUSE). "voucherwatch <command> -h" lists them.`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("voucherwatch "+cmd, flag.ContinueOnError)
	var cfg Config
	switch cmd {
	case "serve":
		if err := cfg.parse(fs, args); err != nil {
			return err
		}
		m := NewMain(cfg)
		if isTerminal(os.Stderr) {
			m.Terminal = os.Stderr
		}
		if err := m.Start(ctx); err != nil {
			m.Close()
			return err
		}
		<-ctx.Done()
		m.Log.Info("shutting down: finishing the batches in hand")
		return m.Close()
	case "migrate":
		report := fs.Bool("cluster", false, "after migrating, report each node's schema version (cluster mode); nodes that do not answer are listed, and migrating is skipped while one is down")
		if err := cfg.parse(fs, args); err != nil {
			return err
		}
		m := NewMain(cfg)
		defer m.Close()
		if *report {
			return runMigrateCluster(ctx, m, os.Stdout)
		}
		return m.openStore(ctx)
	case "check":
		if err := cfg.parse(fs, args); err != nil {
			return err
		}
		m := NewMain(cfg)
		defer m.Close()
		return runCheck(ctx, m, os.Stdout)
	case "broker":
		if err := cfg.parse(fs, args); err != nil {
			return err
		}
		m := NewMain(cfg)
		if err := m.startBroker(); err != nil {
			return err
		}
		m.Log.Info("embedded broker running", "addr", m.Brokers[0])
		<-ctx.Done()
		return m.Close()
	case "bench":
		return runBench(ctx, args)
	case "demo":
		return runDemo(ctx, args)
	case "deadletters":
		return runDeadLetters(ctx, args, os.Stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(os.Stdout, usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
