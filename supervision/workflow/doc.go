// Package workflow is what the JSON API and the web UI both do, with its access rules, and
// nothing of HTTP: the alerts' workflow as a Service (which alerts a user may see and act on,
// transitions, proposals, assignment, bulk actions, overdue explanations, users and their
// passwords), and the operations of spot checks (SpotChecks), the supplier register
// (Register), the annual round (Rounds), complaints (Complaints) and backtests (Backtester).
// The rules themselves (who may make which move, deadlines, amounts) are the domain's
// (voucherwatch.CheckTransition and its kin); the operations read the stores, check the
// request against them and record the outcome.
package workflow
