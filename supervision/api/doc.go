// Package api is the JSON API's side of the supervision server: how an answer and an error
// are written ({"error": {"code", "message", "field"?}} with the status of the code). The
// handlers themselves are still in package supervision (alerts.go, spotchecks.go, ...), which
// writes every answer through this package.
package api
