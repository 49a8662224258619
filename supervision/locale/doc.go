// Package locale is the supervision's message catalogue: everything a supervisor reads, in
// Chinese, keyed by dotted ids (T, Lookup), with the labels of the domain's vocabulary
// (statuses, roles, severities, detectors, alert kinds, officers, complaint categories). The
// web UI's templates and page handlers and the JSON API's exports all read it here, so that
// package supervision and package ui can both import it without a cycle. The catalogue's
// tests, which read the templates too, are in package supervision (messages_test.go).
package locale
