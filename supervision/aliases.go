package supervision

import (
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// The operations the API and the web UI share are package workflow's. The engine's wiring
// (cmd/voucherwatch) names them by these names, as it did when they were this package's.
type (
	// SpotCheckDeps are the spot-check operations (workflow.SpotChecks).
	SpotCheckDeps = workflow.SpotChecks
	// DrawRequest asks for a draw on demand (workflow.DrawRequest).
	DrawRequest = workflow.DrawRequest
	// InspectorRequest registers an inspector (workflow.InspectorRequest).
	InspectorRequest = workflow.InspectorRequest
	// RegisterDeps are the supplier register's operations (workflow.Register).
	RegisterDeps = workflow.Register
	// RoundDeps are the annual round's operations (workflow.Rounds).
	RoundDeps = workflow.Rounds
	// ComplaintDeps file complaints (workflow.Complaints).
	ComplaintDeps = workflow.Complaints
	// BacktestDeps are the dependencies of backtests (workflow.Backtests).
	BacktestDeps = workflow.Backtests
	// UIDeps are the web UI's settings and the stores only its pages read (ui.Settings); it
	// shares the alert and workflow routes' (registerAlertRoutes and registerWorkflowRoutes
	// come first).
	UIDeps = ui.Settings
)

// HashPassword checks a new password and returns its bcrypt hash (workflow.HashPassword).
func HashPassword(pw string) (string, error) { return workflow.HashPassword(pw) }

// CheckPassword reports whether pw is the password of hash (workflow.CheckPassword).
func CheckPassword(hash, pw string) bool { return workflow.CheckPassword(hash, pw) }

// DeriveSessionKey derives the key that signs session cookies from the PII key
// (ui.DeriveSessionKey).
func DeriveSessionKey(piiKey string) []byte { return ui.DeriveSessionKey(piiKey) }

// DetectorNames returns the detectors whose alerts the inbox offers (ui.DetectorNames).
func DetectorNames() []string { return ui.DetectorNames() }
