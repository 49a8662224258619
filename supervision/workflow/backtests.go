package workflow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// DefaultBacktestTimeout bounds one backtest (two runs of every detector over the province).
const DefaultBacktestTimeout = 5 * time.Minute

// MaxPolicyBytes bounds a policy file sent to a backtest; the shipped one is about 1 KiB.
const MaxPolicyBytes = 256 << 10

// BacktestLog keeps the backtests' log.
type BacktestLog interface {
	// RecordBacktest logs one backtest.
	RecordBacktest(ctx context.Context, b voucherwatch.BacktestLog) error
	// Backtests lists the logged backtests, newest first, without their diffs.
	Backtests(ctx context.Context, limit int) ([]voucherwatch.BacktestLog, error)
	// Backtest returns one with its diff; ENOTFOUND when there is none.
	Backtest(ctx context.Context, id string) (voucherwatch.BacktestLog, error)
}

// Backtests are the dependencies of backtests: the run, its log, its limits.
type Backtests struct {
	// Run re-runs the detectors and the assessment with a changed policy, in memory, and
	// answers the diff against the policy in force (detectors.Backtest).
	Run func(ctx context.Context, changed rules.Policy) (voucherwatch.BacktestDiff, error)
	Log BacktestLog
	// Timeout bounds one backtest; DefaultBacktestTimeout when 0.
	Timeout time.Duration
	Now     func() time.Time // time.Now when nil
	// Policy is the policy in force: the web form starts from it.
	Policy rules.Policy
}

// Backtester runs backtests, one at a time, and reads the log (NewBacktester).
type Backtester struct {
	Backtests
	running sync.Mutex
}

// NewBacktester is a Backtester over d, with the default time limit and clock where d has
// none.
func NewBacktester(d Backtests) *Backtester {
	if d.Timeout <= 0 {
		d.Timeout = DefaultBacktestTimeout
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Backtester{Backtests: d}
}

// MayRunBacktest reports whether u may run a backtest: the province's users.
func MayRunBacktest(u voucherwatch.User) bool {
	return u.Role == voucherwatch.RoleProvinceAdmin || u.Role == voucherwatch.RoleProvinceReviewer
}

// ErrBacktestTimedOut is a backtest that ran past its time limit.
var ErrBacktestTimedOut = errors.New("backtest timed out")

// Backtest runs a backtest of the policy file body for u and logs it, whatever the outcome.
// It returns the log entry and the diff; EINVALID for a policy file that does not parse,
// ECONFLICT while another backtest runs, ErrBacktestTimedOut past the time limit.
func (b *Backtester) Backtest(ctx context.Context, u voucherwatch.User, body []byte) (voucherwatch.BacktestLog, voucherwatch.BacktestDiff, error) {
	var diff voucherwatch.BacktestDiff
	sum := sha256.Sum256(body)
	entry := voucherwatch.BacktestLog{ID: newBacktestID(), At: b.Now(), UserID: u.ID, UserName: u.Name, Role: u.Role,
		PolicyDigest: "sha256:" + hex.EncodeToString(sum[:])}
	p, err := rules.Parse(body)
	if err != nil {
		return entry, diff, voucherwatch.FieldErrorf("policy", "%v", err)
	}
	entry.PolicyVersion = p.Version
	if !b.running.TryLock() {
		return entry, diff, voucherwatch.Errorf(voucherwatch.ECONFLICT, "another backtest is running; try again when it ends")
	}
	defer b.running.Unlock()
	rctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	start := time.Now()
	diff, err = b.Run(rctx, p)
	entry.Seconds = time.Since(start).Seconds()
	switch {
	case err != nil && rctx.Err() == context.DeadlineExceeded:
		entry.Status, entry.Error, err = voucherwatch.BacktestTimedOut, "time limit "+b.Timeout.String(), ErrBacktestTimedOut
	case err != nil:
		entry.Status, entry.Error = voucherwatch.BacktestFailed, err.Error()
	default:
		entry.Status = voucherwatch.BacktestOK
		if entry.Diff, err = json.Marshal(diff); err != nil {
			return entry, diff, err
		}
	}
	// The log is written even when the request's context is gone: who ran what is kept.
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer lcancel()
	if lerr := b.Log.RecordBacktest(lctx, entry); lerr != nil && err == nil {
		err = lerr
	}
	return entry, diff, err
}

func newBacktestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "bt_" + hex.EncodeToString(b[:])
}

// For reads a logged backtest with the part of its diff u may read: the whole of it
// for the province, a city reviewer's city for a city reviewer.
func (b *Backtester) For(ctx context.Context, u voucherwatch.User, id string) (voucherwatch.BacktestLog, *voucherwatch.BacktestDiff, error) {
	entry, err := b.Log.Backtest(ctx, id)
	if err != nil {
		return entry, nil, err
	}
	if len(entry.Diff) == 0 {
		return entry, nil, nil
	}
	var diff voucherwatch.BacktestDiff
	if err := json.Unmarshal(entry.Diff, &diff); err != nil {
		return entry, nil, err
	}
	if scope := CityScope(u); scope != "" {
		diff = diff.ForCity(scope)
	}
	return entry, &diff, nil
}
