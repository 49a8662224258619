// Package workflow is the supervision workflow as a service: which alerts a user may see and
// act on, transitions, proposals, assignment, bulk actions and overdue explanations. The JSON
// API and the web UI (package supervision) both act through a Service; nothing here knows
// HTTP. The rules themselves (who may make which move, deadlines, amounts) are the domain's
// (voucherwatch.CheckTransition and its kin); a Service reads the alerts, checks the request
// against them and records the events.
package workflow
