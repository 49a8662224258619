package supervision

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// DefaultBacktestTimeout bounds one backtest (two runs of every detector over the province).
const DefaultBacktestTimeout = 5 * time.Minute

// maxPolicyBytes bounds a policy file sent to a backtest; the shipped one is about 1 KiB.
const maxPolicyBytes = 256 << 10

// BacktestLog keeps the backtests' log.
type BacktestLog interface {
	// RecordBacktest logs one backtest.
	RecordBacktest(ctx context.Context, b voucherwatch.BacktestLog) error
	// Backtests lists the logged backtests, newest first, without their diffs.
	Backtests(ctx context.Context, limit int) ([]voucherwatch.BacktestLog, error)
	// Backtest returns one with its diff; ENOTFOUND when there is none.
	Backtest(ctx context.Context, id string) (voucherwatch.BacktestLog, error)
}

// BacktestDeps are the dependencies of the backtest routes.
type BacktestDeps struct {
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

// backtests serves the backtest routes; one backtest runs at a time.
type backtests struct {
	BacktestDeps
	running sync.Mutex
}

// registerBacktestRoutes adds the backtest routes of the API (docs/api.md).
func (s *Server) registerBacktestRoutes(d BacktestDeps) {
	if d.Timeout <= 0 {
		d.Timeout = DefaultBacktestTimeout
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s.backtests = &backtests{BacktestDeps: d}
	s.mux.Handle("POST /api/v1/backtests", s.authed(s.postBacktest))
	s.mux.Handle("GET /api/v1/backtests", s.authed(s.listBacktests))
	s.mux.Handle("GET /api/v1/backtests/{id}", s.authed(s.getBacktest))
}

// mayRunBacktest reports whether u may run a backtest: the province's users.
func mayRunBacktest(u voucherwatch.User) bool {
	return u.Role == voucherwatch.RoleProvinceAdmin || u.Role == voucherwatch.RoleProvinceReviewer
}

// errBacktestTimedOut is a backtest that ran past its time limit.
var errBacktestTimedOut = errors.New("backtest timed out")

// run runs a backtest of the policy file body for u and logs it, whatever the outcome.
// It returns the log entry and the diff; EINVALID for a policy file that does not parse,
// ECONFLICT while another backtest runs, errBacktestTimedOut past the time limit.
func (b *backtests) run(ctx context.Context, u voucherwatch.User, body []byte) (voucherwatch.BacktestLog, voucherwatch.BacktestDiff, error) {
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
		entry.Status, entry.Error, err = voucherwatch.BacktestTimedOut, "time limit "+b.Timeout.String(), errBacktestTimedOut
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

// postBacktest answers POST /api/v1/backtests: the body is a whole policy file
// (rules/policy.json with any number changed); the answer is the log entry and the diff.
func (s *Server) postBacktest(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !mayRunBacktest(u) {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province may run backtests"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPolicyBytes))
	if err != nil {
		api.WriteError(w, voucherwatch.FieldErrorf("policy", "a policy file of at most %d bytes is wanted", maxPolicyBytes))
		return
	}
	entry, diff, err := s.backtests.run(r.Context(), u, body)
	if errors.Is(err, errBacktestTimedOut) {
		api.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "timeout",
			"message": "the backtest ran past its time limit (" + s.backtests.Timeout.String() + ")"}, "backtest": entry})
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtest": entry, "diff": diff})
}

// listBacktests answers GET /api/v1/backtests: the log, newest first.
func (s *Server) listBacktests(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	list, err := s.backtests.Log.Backtests(r.Context(), 100)
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtests": list})
}

// backtestFor reads a logged backtest with the part of its diff u may read: the whole of it
// for the province, a city reviewer's city for a city reviewer.
func (s *Server) backtestFor(ctx context.Context, u voucherwatch.User, id string) (voucherwatch.BacktestLog, *voucherwatch.BacktestDiff, error) {
	entry, err := s.backtests.Log.Backtest(ctx, id)
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
	if scope := workflow.CityScope(u); scope != "" {
		diff = diff.ForCity(scope)
	}
	return entry, &diff, nil
}

// getBacktest answers GET /api/v1/backtests/{id}: the entry and its diff (a city reviewer's
// city only, for a city reviewer).
func (s *Server) getBacktest(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	entry, diff, err := s.backtestFor(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtest": entry, "diff": diff})
}
