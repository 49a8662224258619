// Package api is the JSON API of the supervision server: a Handler built from Deps (the
// domain's stores and package workflow's operations), with one method per route, in files
// named for the resources they serve (alerts.go, transitions.go, bulk.go, users.go,
// spotchecks.go, rounds.go, register.go, ...), and how an answer and an error are written
// ({"error": {"code", "message", "field"?}} with the status of the code). Package supervision
// checks the bearer token and mounts each method on its route (docs/api.md lists them).
package api
