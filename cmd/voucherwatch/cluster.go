package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/voucherwatch/voucherwatch/store"
)

// storeOptions are the store's options of the configuration: cluster mode and its DDL timeout.
func (c Config) storeOptions() []store.Option {
	if c.ClickHouseCluster == "" {
		return nil
	}
	return []store.Option{store.WithCluster(c.ClickHouseCluster), store.WithDDLTimeout(c.ClickHouseDDLTimeout)}
}

// errDrift is check's error when a derived table disagrees with the records.
var errDrift = errors.New("derived tables drift from the records")

// runCheck is "voucherwatch check": every comparison of store.Check, one line each, and
// errDrift (exit status 1) when one disagrees.
func runCheck(ctx context.Context, m *Main, out io.Writer) error {
	db, err := store.Open(ctx, m.Config.ClickHouse, m.Config.storeOptions()...)
	if err != nil {
		return err
	}
	m.DB = db
	cs, err := db.Check(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "table\tmeasure\trecords\ttable holds\t")
	drift := 0
	for _, c := range cs {
		mark := "ok"
		if c.Drift() {
			mark, drift = "DRIFT", drift+1
		}
		fmt.Fprintf(w, "%s\t%s\t%.10g\t%.10g\t%s\n", c.Table, c.Measure, c.Want, c.Got, mark)
	}
	w.Flush()
	if drift > 0 {
		return fmt.Errorf("check: %d of %d comparisons: %w", drift, len(cs), errDrift)
	}
	fmt.Fprintf(out, "no drift: %d comparisons\n", len(cs))
	return nil
}

// runMigrateCluster is "voucherwatch migrate --cluster": migrate when every node answers, then
// list each node's schema version. A node down is reported, not waited for.
func runMigrateCluster(ctx context.Context, m *Main, out io.Writer) error {
	if m.Config.ClickHouseCluster == "" {
		return errors.New("migrate --cluster: set --clickhouse-cluster")
	}
	db, err := store.Open(ctx, m.Config.ClickHouse, m.Config.storeOptions()...)
	if err != nil {
		return err
	}
	m.DB = db
	migrateErr := db.Migrate(ctx)
	schemas, err := db.NodeSchemas(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "node\tshard\treplica\tschema version\tmigrations\t")
	behind := 0
	for _, s := range schemas {
		if s.Err != nil {
			behind++
			fmt.Fprintf(w, "%s\t%d\t%d\tunreachable: %v\t\t\n", s.Node.Addr, s.Node.Shard, s.Node.Replica, s.Err)
			continue
		}
		if s.Version != store.LatestMigration() {
			behind++
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t\n", s.Node.Addr, s.Node.Shard, s.Node.Replica, s.Version, s.Migrations)
	}
	w.Flush()
	fmt.Fprintf(out, "this build's newest migration: %d\n", store.LatestMigration())
	if migrateErr != nil {
		return migrateErr
	}
	if behind > 0 {
		return fmt.Errorf("migrate --cluster: %d node(s) not at version %d", behind, store.LatestMigration())
	}
	return nil
}
