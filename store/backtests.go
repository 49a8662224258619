package store

import (
	"context"
	"fmt"

	"github.com/voucherwatch/voucherwatch"
)

const backtestColumns = `id, at, user_id, user_name, user_role, policy_digest, policy_version, status, error, seconds, diff`

// RecordBacktest logs one backtest.
func (db *DB) RecordBacktest(ctx context.Context, b voucherwatch.BacktestLog) error {
	batch, err := db.conn.PrepareBatch(ctx, "INSERT INTO backtests ("+backtestColumns+")")
	if err != nil {
		return fmt.Errorf("store: record backtest: %w", err)
	}
	defer batch.Abort()
	if err := batch.Append(b.ID, b.At, b.UserID, b.UserName, string(b.Role), b.PolicyDigest, b.PolicyVersion,
		b.Status, b.Error, b.Seconds, string(b.Diff)); err != nil {
		return fmt.Errorf("store: record backtest: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store: record backtest: %w", err)
	}
	return nil
}

// Backtests lists the logged backtests, newest first, without their diffs (at most limit;
// 100 when limit is not positive).
func (db *DB) Backtests(ctx context.Context, limit int) ([]voucherwatch.BacktestLog, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.queryBacktests(ctx, fmt.Sprintf(`SELECT id, at, user_id, user_name, user_role, policy_digest, policy_version,
		status, error, seconds, '' FROM backtests ORDER BY at DESC, id DESC LIMIT %d`, limit))
}

// Backtest returns one logged backtest with its diff; ENOTFOUND when there is none.
func (db *DB) Backtest(ctx context.Context, id string) (voucherwatch.BacktestLog, error) {
	out, err := db.queryBacktests(ctx, "SELECT "+backtestColumns+" FROM backtests WHERE id = ? LIMIT 1", id)
	if err != nil {
		return voucherwatch.BacktestLog{}, err
	}
	if len(out) == 0 {
		return voucherwatch.BacktestLog{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "backtest %s not found", id)
	}
	return out[0], nil
}

func (db *DB) queryBacktests(ctx context.Context, q string, args ...any) ([]voucherwatch.BacktestLog, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read backtests: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.BacktestLog{}
	for rows.Next() {
		var b voucherwatch.BacktestLog
		var role, diff string
		if err := rows.Scan(&b.ID, &b.At, &b.UserID, &b.UserName, &role, &b.PolicyDigest, &b.PolicyVersion,
			&b.Status, &b.Error, &b.Seconds, &diff); err != nil {
			return nil, fmt.Errorf("store: scan backtest: %w", err)
		}
		b.Role = voucherwatch.Role(role)
		if diff != "" {
			b.Diff = []byte(diff)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
